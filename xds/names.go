package xds

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/switchboard-gw/switchboard/store"
)

// targetHost is the host part of a Kong target ("name:port", "1.2.3.4:80",
// "[::1]:80", or a bare host).
func targetHost(target string) string {
	if host, _, err := net.SplitHostPort(target); err == nil {
		return host
	}
	return strings.Trim(target, "[]")
}

func isIPLiteral(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// dnsNames lists the hostnames the control plane must resolve for one
// snapshot (contract §3.4): target hosts, and the hosts of services that do
// not name an upstream. IP literals need no resolution; an upstream name is
// balanced over its targets, never resolved. The list is sorted and
// deduplicated.
func dnsNames(snap *store.Snapshot) ([]string, error) {
	upstreams, err := snap.Upstreams()
	if err != nil {
		return nil, fmt.Errorf("dns names: %w", err)
	}
	isUpstream := make(map[string]bool, len(upstreams))
	for _, u := range upstreams {
		isUpstream[u.Name] = true
	}
	targets, err := snap.Targets()
	if err != nil {
		return nil, fmt.Errorf("dns names: %w", err)
	}
	services, err := snap.Services()
	if err != nil {
		return nil, fmt.Errorf("dns names: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	add := func(h string) {
		if h != "" && !seen[h] && !isIPLiteral(h) {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, t := range targets {
		add(targetHost(t.Target))
	}
	for _, s := range services {
		if !isUpstream[s.Host] {
			add(s.Host)
		}
	}
	slices.Sort(out)
	return out, nil
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
		for _, t := range ts {
			if h := targetHost(t.Target); h != "" && !isIPLiteral(h) {
				out = append(out, h)
			}
		}
	}
	return out, nil
}
