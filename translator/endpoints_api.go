package translator

import (
	"fmt"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// Endpoints rebuilds the ClusterLoadAssignment of one cluster from in, equal
// to the one Translate emits for that cluster, without translating anything
// else: the xDS loop calls it when only the targets (or target health, or
// DNS answers) of one upstream changed. ok is false when the name is not one
// of ours or its upstream or service is not in in. It scans in's slices
// once; EndpointsFromSnapshot reads only the upstream's rows through the
// store's indexes.
func Endpoints(in *Input, clusterName string) (cla *endpointv3.ClusterLoadAssignment, ok bool) {
	ref, ok := ParseClusterName(clusterName)
	if !ok {
		return nil, false
	}
	if ref.ServiceID != "" {
		for _, s := range in.Services {
			if s.ID == ref.ServiceID {
				return buildServiceEndpoints(clusterName, s, in.DNS), true
			}
		}
		return nil, false
	}
	var u *store.Upstream
	for _, cand := range in.Upstreams {
		if cand.Name == ref.Upstream {
			u = cand
			break
		}
	}
	if u == nil {
		return nil, false
	}
	var targets []*store.Target
	for _, t := range in.Targets {
		if _, excluded := in.Exclude[t.ID]; t.Upstream.ID == u.ID && !excluded {
			targets = append(targets, t)
		}
	}
	var health []*store.TargetHealth
	for _, h := range in.TargetHealth {
		if h.UpstreamID == u.ID {
			health = append(health, h)
		}
	}
	return buildUpstreamEndpoints(clusterName, variantOfRef(ref), u, targets, health, in.DNS), true
}

// EndpointsFromSnapshot is Endpoints reading from a store snapshot: only the
// named upstream (or service) and its targets and overrides, through the
// store's indexes, so that one target change costs O(that upstream's
// targets). ok is false when the cluster's upstream or service does not
// exist in snap.
func EndpointsFromSnapshot(snap *store.Snapshot, dns map[string]DNSAnswer, clusterName string) (cla *endpointv3.ClusterLoadAssignment, ok bool, err error) {
	ref, ok := ParseClusterName(clusterName)
	if !ok {
		return nil, false, nil
	}
	if ref.ServiceID != "" {
		s, err := snap.ServiceByID(ref.ServiceID)
		if err != nil || s == nil {
			return nil, false, err
		}
		return buildServiceEndpoints(clusterName, s, dns), true, nil
	}
	u, err := snap.UpstreamByName(ref.Upstream)
	if err != nil || u == nil {
		return nil, false, err
	}
	targets, err := snap.TargetsByUpstream(u.ID)
	if err != nil {
		return nil, false, fmt.Errorf("translator: targets of %s: %w", u.Name, err)
	}
	health, err := snap.TargetHealthByUpstream(u.ID)
	if err != nil {
		return nil, false, fmt.Errorf("translator: health of %s: %w", u.Name, err)
	}
	return buildUpstreamEndpoints(clusterName, variantOfRef(ref), u, targets, health, dns), true, nil
}
