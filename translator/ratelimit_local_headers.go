package translator

import (
	"strings"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	// rateLimitHeadersFilter + "." + window renames that window's
	// limiter's x-ratelimit-* headers into Kong's names. It sits right
	// before the limiter: response mutations run in reverse chain order,
	// so it sees what its limiter added and removes it before the next
	// (shorter) window's limiter adds its own.
	rateLimitHeadersFilter = "switchboard.rate_limit_headers"
	// rateLimitResetPrefix + window carries the window's seconds to reset
	// to the response stage, which picks Kong's RateLimit-* window.
	rateLimitResetPrefix = "x-sb-rl-reset-"
)

// rateLimitHeadersStage is the HCM entry of one window's rename, disabled
// unless a route enables it.
type rateLimitHeadersStage struct{ window string }

func (f rateLimitHeadersStage) name() string { return rateLimitHeadersFilter + "." + f.window }

func (f rateLimitHeadersStage) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, disabledHTTPFilter(f.name(), &headermutationv3.HeaderMutation{
		Mutations: &headermutationv3.Mutations{},
	}))
	return nil
}

func (rateLimitHeadersStage) patchResources(*Resources) error { return nil }

// patchRoute renames the window's headers on routes whose policy=local
// instances set the window, unless the headers are hidden.
func (f rateLimitHeadersStage) patchRoute(er *routev3.Route, rp *routePlan) error {
	if !localHeadersShown(rp, f.window) {
		return nil
	}
	if localWindowCount(rp) == 1 {
		setPerFilterAny(er, f.name(), rateLimitHeadersOnlyWindow[f.window])
	} else {
		setPerFilterAny(er, f.name(), rateLimitHeadersPerRoute[f.window])
	}
	return nil
}

// rateLimitHeadersPerRoute is each window's rename, the same on every
// route: built once. rateLimitHeadersOnlyWindow is the same for a route
// whose instances set that window alone: it writes RateLimit-* itself, so
// the Lua response stage (a cost on every request) is not needed.
var rateLimitHeadersPerRoute, rateLimitHeadersOnlyWindow = func() (many, only map[string]*anypb.Any) {
	many, only = map[string]*anypb.Any{}, map[string]*anypb.Any{}
	for _, w := range rateLimitWindowNames {
		many[w] = mustPerFilterAny(rateLimitHeadersFilter+"."+w, kongRateLimitHeaders(w, false))
		only[w] = mustPerFilterAny(rateLimitHeadersFilter+"."+w, kongRateLimitHeaders(w, true))
	}
	return many, only
}()

// kongRateLimitHeaders copies window's x-ratelimit-* headers into Kong's
// names and removes the originals; alone: the window is the route's only
// one and also gives RateLimit-*.
func kongRateLimitHeaders(window string, alone bool) *headermutationv3.HeaderMutationPerRoute {
	title := strings.ToUpper(window[:1]) + window[1:]
	add := func(name, from string) *mutationv3.HeaderMutation {
		return &mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
			// An absent header formats as "" and adds nothing (a request
			// no descriptor of this window matched).
			Header:       &corev3.HeaderValue{Key: name, Value: "%RESP(" + from + ")%"},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}}}
	}
	remove := func(name string) *mutationv3.HeaderMutation {
		return &mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Remove{Remove: name}}
	}
	ms := []*mutationv3.HeaderMutation{
		add("X-RateLimit-Limit-"+title, "x-ratelimit-limit"),
		add("X-RateLimit-Remaining-"+title, "x-ratelimit-remaining"),
	}
	if alone {
		ms = append(ms, add("RateLimit-Limit", "x-ratelimit-limit"), add("RateLimit-Remaining", "x-ratelimit-remaining"),
			add("RateLimit-Reset", "x-ratelimit-reset"))
	} else {
		ms = append(ms, add(rateLimitResetPrefix+window, "x-ratelimit-reset"))
	}
	ms = append(ms, remove("x-ratelimit-limit"), remove("x-ratelimit-remaining"), remove("x-ratelimit-reset"))
	return &headermutationv3.HeaderMutationPerRoute{Mutations: &headermutationv3.Mutations{ResponseMutations: ms}}
}

// localWindowCount is how many distinct windows rp's policy=local
// instances set.
func localWindowCount(rp *routePlan) int {
	applies, _, err := localApplies(rp)
	if err != nil {
		return 0
	}
	seen := map[string]bool{}
	for _, a := range applies {
		for _, w := range a.cfg.windows() {
			seen[w.name] = true
		}
	}
	return len(seen)
}

// localHeadersShown reports whether a policy=local instance of rp sets
// window (any window when window is "") and its headers are not hidden.
func localHeadersShown(rp *routePlan, window string) bool {
	applies, main, err := localApplies(rp)
	if err != nil || len(applies) == 0 || main.cfg.HideClientHeaders {
		return false
	}
	for _, a := range applies {
		if _, ok := a.cfg.window(window); ok || (window == "" && len(a.cfg.windows()) > 0) {
			return true
		}
	}
	return false
}
