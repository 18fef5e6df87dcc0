package translator

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/store"
)

// retryOn is what Kong (nginx's proxy_next_upstream "error timeout") retries
// on another target: failures to connect, and connections reset before a
// response. Kong does not retry 502/503/504 responses, so neither do we.
// Difference: nginx never retries a non-idempotent request (POST, PATCH)
// once it reached the upstream, while Envoy's "reset" does; one Envoy retry
// policy cannot depend on the method without doubling every route.
const retryOn = "connect-failure,refused-stream,reset"

// routeAction forwards to the plan's cluster with the service's timeouts,
// retries and Host rule, the path rewrite of rule, and the upstream's hash
// policy. authenticated says whether an auth plugin applies to the route
// (only then is there a consumer to hash on).
func (t *translator) routeAction(r *store.Route, svc *store.Service, plan *clusterPlan, p *kongPath, rule pathRule, authenticated bool) *routev3.RouteAction {
	read := msOrDefault(svc.ReadTimeout)
	write := msOrDefault(svc.WriteTimeout)
	ra := &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: plan.name},
		// Kong's read_timeout bounds the wait for the upstream's response;
		// without it Envoy would cut every request at its 15 s default.
		Timeout:      t.shared.duration(read),
		RegexRewrite: rule.regexRewrite,
	}
	// Kong's read/write timeouts are between two reads or writes; an Envoy
	// stream idle for longer than both has timed out in Kong too. The HCM's
	// stream_idle_timeout carries Kong's default, so only other values are
	// set per route.
	if idle := max(read, write); idle != streamIdleTimeout {
		ra.IdleTimeout = t.shared.duration(idle)
	}
	if rule.prefixRewrite != "" {
		ra.PrefixRewrite = rule.prefixRewrite
	}
	ra.RetryPolicy = t.shared.routeRetryPolicy(svc.Retries)
	if !r.PreserveHost {
		t.shared.setHostRewrite(ra, plan)
	}
	if u := plan.upstream; u != nil && u.Algorithm == "consistent-hashing" {
		ra.HashPolicy = hashPolicies(u, p, authenticated)
	}
	return ra
}

// routeRetryPolicy is the retry policy a route sets itself; nil when it
// inherits the virtual host's (Kong's default of 5 retries, on another
// target where its routes can reach one: routeTable.retryOneHost), which
// every route with Kong's default retries does, so that Envoy builds one
// policy per virtual host instead of one per route (docs/decisions.md,
// 2026-12-02). A route sets its own only when its service has another retry
// count (an empty policy for retries=0: Envoy then retries nothing, as
// Kong).
func (s *sharedProtos) routeRetryPolicy(retries int64) *routev3.RetryPolicy {
	switch {
	case retries <= 0:
		return s.noRetries
	case retries == defaultRetries:
		return nil
	}
	return s.retryPolicy(retries)
}

// sharedProtos holds sub-messages that many routes carry identically; one
// translation builds each once and every route points at it (protos are
// read-only once built), which saves most of the per-route allocations.
type sharedProtos struct {
	autoHostRewrite *wrapperspb.BoolValue
	durations       map[time.Duration]*durationpb.Duration
	retryPolicies   map[int64]*routev3.RetryPolicy // by retry count
	noRetries       *routev3.RetryPolicy
}

func newSharedProtos() *sharedProtos {
	return &sharedProtos{
		autoHostRewrite: wrapperspb.Bool(true),
		durations:       map[time.Duration]*durationpb.Duration{},
		retryPolicies:   map[int64]*routev3.RetryPolicy{},
		// No retry_on: Envoy keeps no retry state for the request.
		noRetries: &routev3.RetryPolicy{},
	}
}

func (s *sharedProtos) duration(d time.Duration) *durationpb.Duration {
	p := s.durations[d]
	if p == nil {
		p = durationpb.New(d)
		s.durations[d] = p
	}
	return p
}

func (s *sharedProtos) retryPolicy(retries int64) *routev3.RetryPolicy {
	p := s.retryPolicies[retries]
	if p == nil {
		p = retryPolicy(retries)
		s.retryPolicies[retries] = p
	}
	return p
}

// vhostRetryPolicy is what every virtual host carries: Kong's default
// retries, on another target.
func vhostRetryPolicy() *routev3.RetryPolicy { return retryPolicy(defaultRetries) }

// oneHostRetryPolicy is Kong's default retries for a virtual host whose
// routes each reach one endpoint only.
func oneHostRetryPolicy() *routev3.RetryPolicy {
	return &routev3.RetryPolicy{RetryOn: retryOn, NumRetries: wrapperspb.UInt32(defaultRetries)}
}

// retryPolicy retries connect failures and resets, each on another target
// when there is one, like Kong's balancer.
func retryPolicy(retries int64) *routev3.RetryPolicy {
	return &routev3.RetryPolicy{
		RetryOn:    retryOn,
		NumRetries: wrapperspb.UInt32(uint32(min(retries, 1<<31))),
		RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{
			Name: "envoy.retry_host_predicates.previous_hosts",
			ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{
				TypedConfig: mustAny(&previoushostsv3.PreviousHostsPredicate{}),
			},
		}},
		HostSelectionRetryMaxAttempts: hostSelectionRetryMaxAttempts,
	}
}

// setHostRewrite implements Kong's upstream Host (docs/kong-contract.md §4)
// for preserve_host=false: the upstream's host_header if set, else the
// hostname of the endpoint Envoy picked (auto_host_rewrite), which the CLA
// sets to what Kong sends: the target's name or IP (the service's host for
// a service without an upstream) with ":port" unless it is the scheme's
// default port.
func (s *sharedProtos) setHostRewrite(ra *routev3.RouteAction, plan *clusterPlan) {
	if u := plan.upstream; u != nil && u.HostHeader != nil && *u.HostHeader != "" {
		ra.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: *u.HostHeader}
		return
	}
	ra.HostRewriteSpecifier = &routev3.RouteAction_AutoHostRewrite{AutoHostRewrite: s.autoHostRewrite}
}

// hostWithPort appends ":port" unless it is the scheme's default.
func hostWithPort(host string, port uint32, protocol string) string {
	if port == defaultPortOf(protocol) {
		return host
	}
	return host + ":" + strconv.FormatUint(uint64(port), 10)
}

// hostForHeader brackets a bare IPv6 literal for use in a Host header.
func hostForHeader(host string) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && !strings.HasPrefix(host, "[") {
		return "[" + host + "]"
	}
	return host
}

// hashPolicies maps Kong's hash_on and hash_fallback to Envoy hash
// policies. Envoy combines the hashes of every policy that yields a value,
// and a terminal policy that yields one stops the list, so "primary
// (terminal), fallback" is Kong's fallback. Difference: when neither yields
// a value Kong hashes the empty string (one fixed target) where Envoy picks
// a random one.
func hashPolicies(u *store.Upstream, p *kongPath, authenticated bool) []*routev3.RouteAction_HashPolicy {
	primary := hashPolicy(u.HashOn, u.HashOnHeader, u.HashOnQueryArg, u.HashOnURICapture, u, p, authenticated)
	fallback := hashPolicy(u.HashFallback, u.HashFallbackHeader, u.HashFallbackQueryArg, u.HashFallbackURICapture, u, p, authenticated)
	switch {
	case primary == nil && u.HashOn == "consumer" && fallback != nil:
		// No auth plugin on the route: no request has a consumer, and Kong
		// hashes on the fallback.
		return []*routev3.RouteAction_HashPolicy{fallback}
	case primary == nil:
		return nil
	case fallback == nil:
		return []*routev3.RouteAction_HashPolicy{primary}
	}
	primary.Terminal = true
	return []*routev3.RouteAction_HashPolicy{primary, fallback}
}

func hashPolicy(on string, header, queryArg, uriCapture *string, u *store.Upstream, p *kongPath, authenticated bool) *routev3.RouteAction_HashPolicy {
	switch on {
	case "consumer":
		// The consumer exists only where an auth plugin runs; there
		// keyauth.lua publishes it and consumerHashStage makes it filter
		// state, which no client can write (a header could be spoofed).
		if !authenticated {
			return nil
		}
		return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_FilterState_{
			FilterState: &routev3.RouteAction_HashPolicy_FilterState{Key: consumerHashKey},
		}}
	case "ip":
		return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_ConnectionProperties_{
			ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true},
		}}
	case "header":
		if header == nil || *header == "" {
			return nil
		}
		return headerHash(strings.ToLower(*header), nil)
	case "cookie":
		if u.HashOnCookie == nil || *u.HashOnCookie == "" {
			return nil
		}
		path := u.HashOnCookiePath
		if path == "" {
			path = "/"
		}
		// A zero TTL makes Envoy set a session cookie when the request has
		// none, as Kong does.
		return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{
			Cookie: &routev3.RouteAction_HashPolicy_Cookie{
				Name: *u.HashOnCookie,
				Ttl:  durationpb.New(0),
				Path: path,
				Attributes: []*routev3.RouteAction_HashPolicy_CookieAttribute{
					{Name: "SameSite", Value: "Lax"},
				},
			},
		}}
	case "path":
		// Kong hashes the path without the query string.
		return headerHash(":path", rewrite(`\?.*`, ""))
	case "query_arg":
		if queryArg == nil || *queryArg == "" {
			return nil
		}
		return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_QueryParameter_{
			QueryParameter: &routev3.RouteAction_HashPolicy_QueryParameter{Name: *queryArg},
		}}
	case "uri_capture":
		return uriCaptureHash(uriCapture, p)
	}
	return nil // "none" or unknown
}

// uriCaptureHash hashes a capture group of the matched regex path: the
// :path header rewritten to that group. A plain path, or a regex without the
// group, yields no value (Kong: no capture, so the fallback applies).
func uriCaptureHash(capture *string, p *kongPath) *routev3.RouteAction_HashPolicy {
	if capture == nil || p == nil || !p.isRegex() {
		return nil
	}
	idx := captureIndex(p.re, *capture)
	if idx < 1 || idx > 9 { // RE2 rewrites reference \1 … \9 only
		return nil
	}
	return headerHash(":path", rewrite("^(?:"+p.re+").*$", `\`+strconv.Itoa(idx)))
}

func headerHash(name string, rw *matcherv3.RegexMatchAndSubstitute) *routev3.RouteAction_HashPolicy {
	return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_Header_{
		Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: name, RegexRewrite: rw},
	}}
}

// captureIndex resolves Kong's hash_on_uri_capture (a group name or number)
// to the group's number in re; 0 when there is none.
func captureIndex(re, capture string) int {
	c, err := regexp.Compile(re)
	if err != nil {
		return 0
	}
	if n, err := strconv.Atoi(capture); err == nil {
		if n >= 1 && n <= c.NumSubexp() {
			return n
		}
		return 0
	}
	return max(c.SubexpIndex(capture), 0)
}
