package translator

import (
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rlcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Descriptor entry keys both limiters share. The rate-limit service reads
// kong_identifier and falls back to remote_address (ratelimit/doc.go); the
// local limiter only needs distinct keys.
const (
	rlKeyIdentifier = "kong_identifier"
	rlKeyRemote     = "remote_address" // what Envoy's remote_address action emits
	rlKeyFallback   = "kong_ip_fallback"
	rlKeyScope      = "kong_consumer_scope"
	rlKeyPlugin     = "kong_plugin"
)

// rlVariant is one way a request yields its identifier: the actions that
// produce it and, for the local limiter, the descriptor entries that match
// them (an entry without a value matches any value: one bucket each).
// A limit_by with Kong's IP fallback has two mutually exclusive variants.
type rlVariant struct {
	actions []*routev3.RateLimit_Action
	entries []*rlcommonv3.RateLimitDescriptor_Entry
}

// rateLimitVariants maps limit_by onto identifier variants, as Kong's
// get_identifier does: consumer → the authenticated consumer's id,
// credential → the credential's id, header → the header's value, path →
// the path when it is config.path, service → the service id; whatever
// yields nothing falls back to the client IP. Consumer and credential are
// read only where key-auth set them (a client could send them elsewhere).
func rateLimitVariants(a rateLimitApply, serviceID string) []rlVariant {
	ip := rlVariant{
		actions: []*routev3.RateLimit_Action{remoteAddressAction()},
		entries: []*rlcommonv3.RateLimitDescriptor_Entry{{Key: rlKeyRemote}},
	}
	switch a.cfg.LimitBy {
	case "consumer", "credential", "":
		if !a.authenticated {
			return []rlVariant{ip}
		}
		h := consumerHeader
		if a.cfg.LimitBy == "credential" {
			h = credentialHeader
		}
		return headerOrIP(h, ip)
	case "header":
		if a.cfg.HeaderName == nil || *a.cfg.HeaderName == "" {
			return []rlVariant{ip}
		}
		return headerOrIP(strings.ToLower(*a.cfg.HeaderName), ip)
	case "service":
		if serviceID == "" {
			return []rlVariant{ip}
		}
		return []rlVariant{{
			actions: []*routev3.RateLimit_Action{genericKey(rlKeyIdentifier, serviceID)},
			entries: []*rlcommonv3.RateLimitDescriptor_Entry{{Key: rlKeyIdentifier, Value: serviceID}},
		}}
	case "path":
		if a.cfg.Path == nil || *a.cfg.Path == "" {
			return []rlVariant{ip}
		}
		// Kong compares the request path (no query) with config.path.
		m := []*routev3.HeaderMatcher{{Name: ":path", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
			StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{
				Regex: "^" + regexp.QuoteMeta(*a.cfg.Path) + `(\?.*)?$`,
			}}},
		}}}
		return []rlVariant{
			{
				actions: []*routev3.RateLimit_Action{headerMatch(rlKeyIdentifier, *a.cfg.Path, true, m)},
				entries: []*rlcommonv3.RateLimitDescriptor_Entry{{Key: rlKeyIdentifier, Value: *a.cfg.Path}},
			},
			withFallback(ip, headerMatch(rlKeyFallback, "path", false, m)),
		}
	}
	return []rlVariant{ip}
}

// headerOrIP identifies by header h when present, else by client IP.
func headerOrIP(h string, ip rlVariant) []rlVariant {
	present := []*routev3.HeaderMatcher{{Name: h, HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}}
	return []rlVariant{
		{
			actions: []*routev3.RateLimit_Action{{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{
				// Absent: no descriptor from this variant (the other applies).
				RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{HeaderName: h, DescriptorKey: rlKeyIdentifier},
			}}},
			entries: []*rlcommonv3.RateLimitDescriptor_Entry{{Key: rlKeyIdentifier}},
		},
		withFallback(ip, headerMatch(rlKeyFallback, h, false, present)),
	}
}

// withFallback prefixes the IP variant with the condition that selects it.
func withFallback(ip rlVariant, cond *routev3.RateLimit_Action) rlVariant {
	v := cond.GetHeaderValueMatch()
	return rlVariant{
		actions: append([]*routev3.RateLimit_Action{cond}, ip.actions...),
		entries: append([]*rlcommonv3.RateLimitDescriptor_Entry{{Key: v.GetDescriptorKey(), Value: v.GetDescriptorValue()}}, ip.entries...),
	}
}

// condition is the action (and local descriptor entry) that lets a's
// descriptors appear only on the requests a applies to: those of its
// consumer, or of any consumer but those with an instance of their own.
// nil when a applies to every request.
func (a rateLimitApply) condition() (*routev3.RateLimit_Action, *rlcommonv3.RateLimitDescriptor_Entry) {
	if a.consumer != "" {
		act := headerMatch(rlKeyScope, a.consumer, true, []*routev3.HeaderMatcher{{
			Name: consumerHeader, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
				StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: a.consumer}},
			},
		}})
		return act, &rlcommonv3.RateLimitDescriptor_Entry{Key: rlKeyScope, Value: a.consumer}
	}
	if len(a.except) == 0 {
		return nil, nil
	}
	quoted := make([]string, len(a.except))
	for i, c := range a.except {
		quoted[i] = regexp.QuoteMeta(c)
	}
	// Absent header (anonymous request) does not match: the instance applies.
	act := headerMatch(rlKeyScope, "other", false, []*routev3.HeaderMatcher{{
		Name: consumerHeader, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
			StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{
				Regex: "^(" + strings.Join(quoted, "|") + ")$",
			}}},
		},
	}})
	return act, &rlcommonv3.RateLimitDescriptor_Entry{Key: rlKeyScope, Value: "other"}
}

func remoteAddressAction() *routev3.RateLimit_Action {
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}}
}

func genericKey(key, value string) *routev3.RateLimit_Action {
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{
		GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: key, DescriptorValue: value},
	}}
}

// headerMatch emits key=value when the headers match (expect) or do not
// match (!expect); otherwise the whole descriptor is left out.
func headerMatch(key, value string, expect bool, headers []*routev3.HeaderMatcher) *routev3.RateLimit_Action {
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_HeaderValueMatch_{
		HeaderValueMatch: &routev3.RateLimit_Action_HeaderValueMatch{
			DescriptorKey: key, DescriptorValue: value, ExpectMatch: wrapperspb.Bool(expect), Headers: headers,
		},
	}}
}
