package translator

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// Hostnames lists, sorted and deduplicated, the names the control plane
// must resolve before translating in (Kong's balancer, docs/kong-contract.md
// §5): the host of every target, and the host of every service that does
// not name an upstream. An upstream name is balanced over its targets and
// never resolved; IP literals need no answer. This is the rule
// clusterFor and resolve apply, kept here so that the xds loop does not
// re-derive it.
func Hostnames(in *Input) []string {
	isUpstream := make(map[string]bool, len(in.Upstreams))
	for _, u := range in.Upstreams {
		isUpstream[u.Name] = true
	}
	out := TargetHostnames(in.Targets)
	for _, s := range in.Services {
		if !isUpstream[s.Host] {
			if h, ok := serviceHostname(s); ok {
				out = append(out, h)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TargetHostnames lists the names among targets' hosts (any order, possibly
// repeated), for a rebuild of some upstreams' endpoints only.
func TargetHostnames(targets []*store.Target) []string {
	var out []string
	for _, t := range targets {
		if h, ok := targetHostname(t.Target); ok {
			out = append(out, h)
		}
	}
	return out
}

// targetHostname is the name a target's endpoints are resolved from; ok is
// false for an IP literal or an unparsable target.
func targetHostname(target string) (string, bool) {
	host, _, ok := schema.SplitTarget(target)
	return host, ok && needsDNS(host)
}

// serviceHostname is the name a plain service's endpoint is resolved from
// (buildServiceEndpoints); ok is false for an IP literal.
func serviceHostname(s *store.Service) (string, bool) {
	host := serviceHost(s)
	return host, needsDNS(host)
}

// serviceHost is a plain service's host without IPv6 brackets.
func serviceHost(s *store.Service) string {
	return strings.Trim(s.Host, "[]")
}

func needsDNS(host string) bool {
	if host == "" {
		return false
	}
	_, err := netip.ParseAddr(host)
	return err != nil
}
