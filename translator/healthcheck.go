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

// Kong → Envoy health checking. The user-facing account of every mapping
// and difference is docs/load-balancing.md; the comments here say why the
// Envoy fields are set as they are.

const (
	// passiveEjectionTime is how long an outlier ejection lasts. Kong keeps
	// an address that passive checks marked unhealthy out until an active
	// probe succeeds or someone calls PUT …/healthy; Envoy's ejections
	// always expire, so make them long enough to behave the same. Both
	// Kong ways back work: a passing active check un-ejects at once
	// (successful_active_health_check_uneject_host defaults to true), and
	// /healthy re-creates the host in Envoy (see endpoint.go). The day-long
	// box is a safety net Kong does not have.
	passiveEjectionTime = 24 * time.Hour

	// disabledThreshold stands for a Kong counter of 0 ("this kind of
	// failure never marks the address unhealthy"): Envoy has no off switch
	// for its single unhealthy counter.
	disabledThreshold = 1 << 30

	// hcSocketMatchKey names the transport socket match that active probes
	// use when they must speak TLS where traffic does not, or the reverse.
	// No endpoint carries this metadata, so proxied traffic keeps the
	// cluster's own transport socket.
	hcSocketMatchKey   = "switchboard.health_check"
	hcSocketMatchTLS   = "tls"
	hcSocketMatchPlain = "plaintext"
)

// setHealthChecks maps upstream.healthchecks onto the cluster built for
// variant v: active checks become health_checks, passive checks
// outlier_detection. healthchecks.threshold is deliberately not mapped onto
// Envoy's panic threshold, which fails open where Kong fails closed; every
// cluster keeps healthy_panic_threshold 0 (cluster.go), and the Admin API
// applies the threshold when it reports the balancer's health.
func setHealthChecks(c *clusterv3.Cluster, v variant, u *store.Upstream, probe probeTLS) {
	if hc := activeHealthCheck(v, u); hc != nil {
		if m := hcTransportSocketMatch(v, u.Healthchecks.Active, probe); m != nil {
			c.TransportSocketMatches = append(c.TransportSocketMatches, m)
			hc.TransportSocketMatchCriteria = m.GetMatch()
		}
		c.HealthChecks = []*corev3.HealthCheck{hc}
	}
	c.OutlierDetection = outlierDetection(u.Healthchecks.Passive)
}

// activeChecksOn reports whether Kong would probe u's targets: either
// interval is non-zero.
func activeChecksOn(u *store.Upstream) bool {
	a := u.Healthchecks.Active
	return a.Healthy.Interval > 0 || a.Unhealthy.Interval > 0
}

// activeHealthCheck maps healthchecks.active, or returns nil when both
// intervals are 0 (Kong's default: no probes).
//
// Intervals: Kong probes healthy addresses every healthy.interval and
// unhealthy ones every unhealthy.interval; Envoy's interval and
// unhealthy_interval are the same split. Envoy cannot leave healthy hosts
// unprobed (Kong's healthy.interval 0), so the unhealthy interval is used
// for both then. Envoy probes a cluster that never carried traffic only
// every 60 s by default; the no-traffic intervals are set to Kong's, so
// that a target's health is known (and reported) before the first request.
//
// Thresholds: healthy.successes is Envoy's healthy_threshold (at least 1:
// Envoy starts a new host unhealthy until a probe passes, where Kong starts
// it healthy). Envoy has one unhealthy counter where Kong has three; the
// smallest non-zero one that applies to the probe type is used, so a run of
// one kind of failure trips at Kong's count for the strictest kind. All
// zero means Kong never marks a target unhealthy by probing.
//
// Statuses: unhealthy.http_statuses count towards the threshold (Envoy's
// retriable_statuses) when http_failures is non-zero; every other status
// passes the probe. Envoy would otherwise fail a host at once on any status
// outside expected_statuses, where Kong ignores a status that is in neither
// of its lists.
//
// Type: Envoy's gRPC check needs an HTTP/2 cluster, which only grpc and
// grpcs services have; a grpc or grpcs check of an upstream that HTTP
// services use falls back to a TCP connect check (Envoy would reject the
// cluster otherwise).
func activeHealthCheck(v variant, u *store.Upstream) *corev3.HealthCheck {
	if !activeChecksOn(u) {
		return nil
	}
	a := u.Healthchecks.Active
	interval := seconds(a.Healthy.Interval)
	if a.Healthy.Interval <= 0 {
		interval = seconds(a.Unhealthy.Interval)
	}
	unhealthyInterval := interval
	if a.Unhealthy.Interval > 0 {
		unhealthyInterval = seconds(a.Unhealthy.Interval)
	}
	hc := &corev3.HealthCheck{
		Timeout:                  durationpb.New(max(seconds(a.Timeout), time.Millisecond)),
		Interval:                 durationpb.New(interval),
		UnhealthyInterval:        durationpb.New(unhealthyInterval),
		NoTrafficInterval:        durationpb.New(unhealthyInterval),
		NoTrafficHealthyInterval: durationpb.New(interval),
		HealthyThreshold:         wrapperspb.UInt32(uint32(min(max(a.Healthy.Successes, 1), 255))),
		UnhealthyThreshold:       wrapperspb.UInt32(unhealthyThreshold(a)),
	}
	switch a.Type {
	case "tcp":
		hc.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}
	case "grpc", "grpcs":
		if !v.isGRPC() {
			hc.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}
			break
		}
		hc.HealthChecker = &corev3.HealthCheck_GrpcHealthCheck_{GrpcHealthCheck: &corev3.HealthCheck_GrpcHealthCheck{}}
	default: // http, https
		hc.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: httpHealthCheck(u)}
	}
	return hc
}

// unhealthyThreshold is the smallest non-zero Kong failure counter that
// applies to the probe type, or disabledThreshold.
func unhealthyThreshold(a store.ActiveHealthcheck) uint32 {
	counters := []int64{a.Unhealthy.TCPFailures, a.Unhealthy.Timeouts}
	if a.Type != "tcp" {
		counters = append(counters, a.Unhealthy.HTTPFailures)
	}
	n := int64(0)
	for _, c := range counters {
		if c > 0 && (n == 0 || c < n) {
			n = c
		}
	}
	if n == 0 {
		return disabledThreshold
	}
	return uint32(n)
}

func httpHealthCheck(u *store.Upstream) *corev3.HealthCheck_HttpHealthCheck {
	a := u.Healthchecks.Active
	path := a.HTTPPath
	if path == "" {
		path = "/"
	}
	var failing []int64
	if a.Unhealthy.HTTPFailures > 0 {
		failing = a.Unhealthy.HTTPStatuses
	}
	http := &corev3.HealthCheck_HttpHealthCheck{
		Path:              path,
		ExpectedStatuses:  statusRanges(complementStatuses(failing)),
		RetriableStatuses: statusRanges(failing),
	}
	// Kong probes with the upstream's host_header, else the target's
	// hostname, which the CLA puts in each endpoint's health_check_config.
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
	return http
}

// hcTransportSocketMatch gives probes the transport Kong's probe type asks
// for when it is not the cluster's: https and grpcs probes speak TLS as
// probe says (clusterTLSOf: https_sni, else host_header, else the target's
// hostname; https_verify_certificate; the upstream's client certificate);
// http, grpc and tcp probes of a TLS service speak plain TCP, as Kong's
// do. An https probe of an https service still gets its own socket,
// because Kong verifies probes by https_verify_certificate and traffic by
// the service's tls_verify.
func hcTransportSocketMatch(v variant, a store.ActiveHealthcheck, probe probeTLS) *clusterv3.Cluster_TransportSocketMatch {
	probeIsTLS := a.Type == "https" || a.Type == "grpcs"
	switch {
	case probeIsTLS:
		return &clusterv3.Cluster_TransportSocketMatch{
			Name:            "health-check-tls",
			Match:           mustStruct(map[string]any{hcSocketMatchKey: hcSocketMatchTLS}),
			TransportSocket: probeSocket(probe),
		}
	case v.isTLS():
		return &clusterv3.Cluster_TransportSocketMatch{
			Name:            "health-check-plaintext",
			Match:           mustStruct(map[string]any{hcSocketMatchKey: hcSocketMatchPlain}),
			TransportSocket: rawBufferSocket(),
		}
	}
	return nil
}

// outlierDetection maps Kong's passive checks ("circuit breaker"), or
// returns nil when every unhealthy counter is 0.
//
//   - http_failures counts upstream responses with a status in
//     unhealthy.http_statuses. Envoy can count 502/503/504
//     (consecutive_gateway_failure, whose enforcement Envoy leaves off by
//     default) or every 5xx (consecutive_5xx); the narrowest counter that
//     covers Kong's list is enforced. Statuses below 500 (Kong's default
//     429) cannot be counted.
//   - tcp_failures and timeouts count connection failures and timeouts,
//     which Envoy calls local-origin errors: they are kept apart from
//     responses (split_external_local_origin_errors), as in Kong, and share
//     one counter, tripped at the smaller non-zero Kong count.
//   - any number of targets may be ejected (Envoy's default is 10%, i.e.
//     none of a small upstream); how long an ejection lasts is explained at
//     passiveEjectionTime.
func outlierDetection(p store.PassiveHealthcheck) *clusterv3.OutlierDetection {
	un := p.Unhealthy
	if un.HTTPFailures == 0 && un.TCPFailures == 0 && un.Timeouts == 0 {
		return nil
	}
	od := &clusterv3.OutlierDetection{
		BaseEjectionTime:                       durationpb.New(passiveEjectionTime),
		MaxEjectionTime:                        durationpb.New(passiveEjectionTime),
		MaxEjectionPercent:                     wrapperspb.UInt32(100),
		SplitExternalLocalOriginErrors:         true,
		EnforcingConsecutive_5Xx:               wrapperspb.UInt32(0),
		EnforcingConsecutiveGatewayFailure:     wrapperspb.UInt32(0),
		EnforcingConsecutiveLocalOriginFailure: wrapperspb.UInt32(0),
		EnforcingSuccessRate:                   wrapperspb.UInt32(0),
		EnforcingLocalOriginSuccessRate:        wrapperspb.UInt32(0),
	}
	if n := un.HTTPFailures; n > 0 {
		gateway, other := false, false
		for _, s := range un.HTTPStatuses {
			switch {
			case s == 502 || s == 503 || s == 504:
				gateway = true
			case s >= 500 && s < 600:
				other = true
			}
		}
		threshold := wrapperspb.UInt32(uint32(n))
		if other {
			od.Consecutive_5Xx = threshold
			od.EnforcingConsecutive_5Xx = wrapperspb.UInt32(100)
		}
		if gateway {
			od.ConsecutiveGatewayFailure = threshold
			od.EnforcingConsecutiveGatewayFailure = wrapperspb.UInt32(100)
		}
	}
	if n := minNonZero(un.TCPFailures, un.Timeouts); n > 0 {
		od.ConsecutiveLocalOriginFailure = wrapperspb.UInt32(uint32(n))
		od.EnforcingConsecutiveLocalOriginFailure = wrapperspb.UInt32(100)
	}
	return od
}

func minNonZero(a, b int64) int64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// Envoy accepts HTTP statuses in [100, 600) only; Kong allows up to 999.
const (
	minHTTPStatus = 100
	maxHTTPStatus = 600
)

// complementStatuses is every status in [100, 600) that is not in s.
func complementStatuses(s []int64) []int64 {
	out := make([]int64, 0, maxHTTPStatus-minHTTPStatus)
	for code := int64(minHTTPStatus); code < maxHTTPStatus; code++ {
		if !slices.Contains(s, code) {
			out = append(out, code)
		}
	}
	return out
}

// statusRanges turns a status list into Envoy's half-open ranges, merging
// consecutive codes and dropping codes Envoy does not accept.
func statusRanges(statuses []int64) []*typev3.Int64Range {
	s := slices.Clone(statuses)
	slices.Sort(s)
	s = slices.Compact(s)
	var out []*typev3.Int64Range
	for _, code := range s {
		if code < minHTTPStatus || code >= maxHTTPStatus {
			continue
		}
		if n := len(out); n > 0 && out[n-1].End == code {
			out[n-1].End = code + 1
			continue
		}
		out = append(out, &typev3.Int64Range{Start: code, End: code + 1})
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
