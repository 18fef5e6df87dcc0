package translator

import (
	"fmt"

	"github.com/switchboard-gw/switchboard/store"
)

// FromSnapshot reads every entity the translation needs out of one
// consistent store snapshot. dns and opts are passed through; the returned
// Input shares the store's objects, which must not be mutated.
func FromSnapshot(snap *store.Snapshot, dns map[string]DNSAnswer, opts Options) (*Input, error) {
	in := &Input{Revision: snap.Revision(), DNS: dns, Options: opts}
	var err error
	if in.Services, err = snap.Services(); err != nil {
		return nil, fmt.Errorf("translator: read services: %w", err)
	}
	if in.Routes, err = snap.Routes(); err != nil {
		return nil, fmt.Errorf("translator: read routes: %w", err)
	}
	if in.Upstreams, err = snap.Upstreams(); err != nil {
		return nil, fmt.Errorf("translator: read upstreams: %w", err)
	}
	if in.Targets, err = snap.Targets(); err != nil {
		return nil, fmt.Errorf("translator: read targets: %w", err)
	}
	if in.TargetHealth, err = snap.TargetHealth(); err != nil {
		return nil, fmt.Errorf("translator: read target health: %w", err)
	}
	if err := readPluginEntities(snap, in); err != nil {
		return nil, err
	}
	if err := readTLSEntities(snap, in); err != nil {
		return nil, err
	}
	return in, nil
}
