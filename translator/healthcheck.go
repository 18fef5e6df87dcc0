package translator

import (
	"slices"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/store"
)

// outlierEjectionTime approximates Kong's passive checks, which keep an
// address unhealthy until an active probe or a manual /healthy revives it;
// Envoy's ejections always expire, so make them long. A passing active
// check still un-ejects at once (successful_active_health_check_uneject_host
// defaults to true), as in Kong.
const outlierEjectionTime = 300 * time.Second

// setHealthChecks maps upstream.healthchecks (envoy-mapping.md §2.4).
// Differences from Kong: Envoy has one unhealthy counter (the largest of
// Kong's tcp_failures, timeouts, http_failures is used) and one probe
// interval for all hosts (Kong's healthy.interval, else unhealthy.interval;
// Envoy also probes healthy hosts when Kong would only probe unhealthy
// ones); healthchecks.threshold and https_sni are not mapped.
func setHealthChecks(c *clusterv3.Cluster, u *store.Upstream) {
	if hc := activeHealthCheck(u); hc != nil {
		c.HealthChecks = []*corev3.HealthCheck{hc}
	}
	c.OutlierDetection = outlierDetection(u.Healthchecks.Passive)
}

// activeChecksOn reports whether Kong would probe u's targets.
func activeChecksOn(u *store.Upstream) bool {
	a := u.Healthchecks.Active
	return a.Healthy.Interval > 0 || a.Unhealthy.Interval > 0
}

func activeHealthCheck(u *store.Upstream) *corev3.HealthCheck {
	if !activeChecksOn(u) {
		return nil
	}
	a := u.Healthchecks.Active
	interval := seconds(a.Healthy.Interval)
	if a.Healthy.Interval <= 0 {
		interval = seconds(a.Unhealthy.Interval)
	}
	hc := &corev3.HealthCheck{
		Timeout:  durationpb.New(max(seconds(a.Timeout), time.Millisecond)),
		Interval: durationpb.New(interval),
		// Envoy probes an idle cluster only every 60 s by default; Kong
		// probes at the configured interval regardless of traffic.
		NoTrafficInterval:  durationpb.New(interval),
		HealthyThreshold:   wrapperspb.UInt32(uint32(max(a.Healthy.Successes, 1))),
		UnhealthyThreshold: wrapperspb.UInt32(uint32(max(a.Unhealthy.HTTPFailures, a.Unhealthy.TCPFailures, a.Unhealthy.Timeouts, 1))),
	}
	if a.Unhealthy.Interval > 0 {
		hc.UnhealthyInterval = durationpb.New(seconds(a.Unhealthy.Interval))
	}
	switch a.Type {
	case "tcp":
		hc.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}
	case "grpc", "grpcs":
		hc.HealthChecker = &corev3.HealthCheck_GrpcHealthCheck_{GrpcHealthCheck: &corev3.HealthCheck_GrpcHealthCheck{}}
	default: // http, https (over the cluster's own transport)
		path := a.HTTPPath
		if path == "" {
			path = "/"
		}
		http := &corev3.HealthCheck_HttpHealthCheck{
			Path:              path,
			ExpectedStatuses:  statusRanges(a.Healthy.HTTPStatuses),
			RetriableStatuses: statusRanges(a.Unhealthy.HTTPStatuses),
		}
		// Kong probes with the upstream's host_header, else the target's
		// hostname, which the CLA puts in each endpoint's
		// health_check_config.
		if u.HostHeader != nil && *u.HostHeader != "" {
			http.Host = *u.HostHeader
		}
		names := make([]string, 0, len(a.Headers))
		for name := range a.Headers {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			for _, value := range a.Headers[name] {
				http.RequestHeadersToAdd = append(http.RequestHeadersToAdd, &corev3.HeaderValueOption{
					Header:       &corev3.HeaderValue{Key: strings.ToLower(name), Value: escapeFormatter(value)},
					AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
				})
			}
		}
		hc.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: http}
	}
	return hc
}

// outlierDetection maps Kong's passive checks: http_failures counts
// upstream 5xx (Envoy cannot count Kong's exact status list, e.g. 429),
// tcp_failures and timeouts count local-origin failures (connect errors,
// timeouts). A zero counter is disabled by not enforcing it.
func outlierDetection(p store.PassiveHealthcheck) *clusterv3.OutlierDetection {
	un := p.Unhealthy
	if un.HTTPFailures == 0 && un.TCPFailures == 0 && un.Timeouts == 0 {
		return nil
	}
	od := &clusterv3.OutlierDetection{
		BaseEjectionTime: durationpb.New(outlierEjectionTime),
		MaxEjectionTime:  durationpb.New(outlierEjectionTime),
		// Envoy ejects at most 10% of hosts by default, i.e. none of a
		// small upstream; Kong marks any number of targets unhealthy.
		MaxEjectionPercent:                 wrapperspb.UInt32(100),
		EnforcingConsecutive_5Xx:           wrapperspb.UInt32(0),
		EnforcingSuccessRate:               wrapperspb.UInt32(0),
		EnforcingConsecutiveGatewayFailure: wrapperspb.UInt32(0),
	}
	if un.HTTPFailures > 0 {
		od.Consecutive_5Xx = wrapperspb.UInt32(uint32(un.HTTPFailures))
		od.EnforcingConsecutive_5Xx = wrapperspb.UInt32(100)
	}
	if n := max(un.TCPFailures, un.Timeouts); n > 0 {
		od.SplitExternalLocalOriginErrors = true
		od.ConsecutiveLocalOriginFailure = wrapperspb.UInt32(uint32(n))
		od.EnforcingConsecutiveLocalOriginFailure = wrapperspb.UInt32(100)
		od.EnforcingLocalOriginSuccessRate = wrapperspb.UInt32(0)
	}
	return od
}

// statusRanges turns a status list into Envoy's half-open ranges, merging
// consecutive codes.
func statusRanges(statuses []int64) []*typev3.Int64Range {
	s := slices.Clone(statuses)
	slices.Sort(s)
	s = slices.Compact(s)
	var out []*typev3.Int64Range
	for _, code := range s {
		if n := len(out); n > 0 && out[n-1].End == code {
			out[n-1].End = code + 1
			continue
		}
		out = append(out, &typev3.Int64Range{Start: code, End: code + 1})
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
