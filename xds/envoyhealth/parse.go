package envoyhealth

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-gw/switchboard/translator"
)

// view is one Envoy's hosts: upstream name → address → host. An upstream
// usually has one cluster; when services with different protocols or
// connect timeouts use it, it has one per variant, and an address counts
// as out when any of them keeps it out.
type view map[string]map[netip.AddrPort]host

// host is one host of one upstream, as one Envoy sees it.
type host struct {
	clusters []string
	// reasons lists why the host is out of balancing; empty when it is in.
	reasons []string
}

// parseClusters reads GET /clusters?format=json (admin.v3.Clusters; fields
// at their default value are omitted by Envoy, and fields newer than our
// protos are skipped).
func parseClusters(body []byte) (view, error) {
	var cs adminv3.Clusters
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &cs); err != nil {
		return nil, fmt.Errorf("envoy /clusters: %w", err)
	}
	v := view{}
	for _, c := range cs.GetClusterStatuses() {
		ref, ok := translator.ParseClusterName(c.GetName())
		if !ok || ref.Upstream == "" {
			continue
		}
		hosts := v[ref.Upstream]
		if hosts == nil {
			hosts = map[netip.AddrPort]host{}
			v[ref.Upstream] = hosts
		}
		for _, hs := range c.GetHostStatuses() {
			sa := hs.GetAddress().GetSocketAddress()
			ip, err := netip.ParseAddr(sa.GetAddress())
			if err != nil {
				continue
			}
			addr := netip.AddrPortFrom(ip.Unmap(), uint16(sa.GetPortValue()))
			h := hosts[addr]
			h.clusters = append(h.clusters, c.GetName())
			for _, r := range outReasons(hs.GetHealthStatus()) {
				if !slices.Contains(h.reasons, r) {
					h.reasons = append(h.reasons, r)
				}
			}
			hosts[addr] = h
		}
	}
	return v, nil
}

// outReasons lists the flags that keep a host out of load balancing. A
// host is routable only when none is set: EDS status, active checks and
// outlier detection are ANDed. Degraded flags are not reasons (a degraded
// host still serves when no healthy one is left), nor is
// pending_dynamic_removal (the host is leaving the cluster anyway).
func outReasons(s *adminv3.HostHealthStatus) []string {
	var r []string
	if s.GetFailedActiveHealthCheck() {
		r = append(r, "failed_active_health_check")
	}
	if s.GetFailedOutlierCheck() {
		r = append(r, "failed_outlier_check")
	}
	switch s.GetEdsHealthStatus() {
	case corev3.HealthStatus_UNHEALTHY, corev3.HealthStatus_DRAINING, corev3.HealthStatus_TIMEOUT:
		r = append(r, "eds_"+strings.ToLower(s.GetEdsHealthStatus().String()))
	}
	if s.GetPendingActiveHc() {
		r = append(r, "pending_active_hc")
	}
	if s.GetExcludedViaImmediateHcFail() {
		r = append(r, "excluded_via_immediate_hc_fail")
	}
	if s.GetActiveHcTimeout() {
		r = append(r, "active_hc_timeout")
	}
	return r
}
