package xds

import (
	"fmt"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// dnsNames lists the hostnames the control plane must resolve for one
// snapshot; the rule is translator.Hostnames.
func dnsNames(snap *store.Snapshot) ([]string, error) {
	in := &translator.Input{}
	var err error
	if in.Upstreams, err = snap.Upstreams(); err != nil {
		return nil, fmt.Errorf("dns names: %w", err)
	}
	if in.Targets, err = snap.Targets(); err != nil {
		return nil, fmt.Errorf("dns names: %w", err)
	}
	if in.Services, err = snap.Services(); err != nil {
		return nil, fmt.Errorf("dns names: %w", err)
	}
	return translator.Hostnames(in), nil
}

// targetNames lists the hostnames among the targets of some upstreams, for
// the endpoints-only path.
func targetNames(snap *store.Snapshot, upstreamIDs []string) ([]string, error) {
	var out []string
	for _, id := range upstreamIDs {
		ts, err := snap.TargetsByUpstream(id)
		if err != nil {
			return nil, fmt.Errorf("dns names: %w", err)
		}
		out = append(out, translator.TargetHostnames(ts)...)
	}
	return out, nil
}
