package translator

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rlcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
)

const (
	pluginRateLimiting = "rate-limiting"
	// localRateLimitFilter is Envoy's local (per process) token-bucket
	// limiter, Kong's policy=local.
	localRateLimitFilter = "envoy.filters.http.local_ratelimit"
	// rateLimitHeadersFilter renames the limiter's x-ratelimit-* headers
	// into Kong's names. It sits before the limiter: response mutations
	// run in reverse chain order, so it sees what the limiter added.
	rateLimitHeadersFilter = "switchboard.rate_limit_headers"
	// metadataNamespace is the route metadata namespace local-reply
	// mappers read per-route values from (%METADATA(ROUTE:...)%).
	metadataNamespace = "switchboard"
	// metaRateLimitMessage is the route metadata key holding the
	// instance's error_message.
	metaRateLimitMessage = "rl_msg"
	// maxRateLimitClients bounds the per-client buckets of one window on
	// one route (Envoy's default is 20; past the bound the least recently
	// used client's bucket is dropped and starts full again).
	maxRateLimitClients = 10000
)

// rateLimitingConfig is what the translator reads of a rate-limiting
// instance's config (Kong's defaults are already filled in).
type rateLimitingConfig struct {
	Second            *float64 `json:"second"`
	Minute            *float64 `json:"minute"`
	Hour              *float64 `json:"hour"`
	Day               *float64 `json:"day"`
	Month             *float64 `json:"month"`
	Year              *float64 `json:"year"`
	LimitBy           string   `json:"limit_by"`
	HeaderName        *string  `json:"header_name"`
	Policy            string   `json:"policy"`
	HideClientHeaders bool     `json:"hide_client_headers"`
	ErrorMessage      *string  `json:"error_message"`
}

// rateLimitWindow is one configured window: Kong's header suffix, the
// bucket's refill period and its size.
type rateLimitWindow struct {
	name   string // "minute"
	title  string // "Minute", as in X-RateLimit-Limit-Minute
	period time.Duration
	limit  uint32
}

// windows lists the configured windows, shortest first. Kong's month is 30
// days and its year 365 (kong/tools/timestamp.lua); a fractional limit
// behaves as its ceiling.
func (c rateLimitingConfig) windows() []rateLimitWindow {
	all := []struct {
		v      *float64
		name   string
		period time.Duration
	}{
		{c.Second, "second", time.Second},
		{c.Minute, "minute", time.Minute},
		{c.Hour, "hour", time.Hour},
		{c.Day, "day", 24 * time.Hour},
		{c.Month, "month", 30 * 24 * time.Hour},
		{c.Year, "year", 365 * 24 * time.Hour},
	}
	var out []rateLimitWindow
	for _, w := range all {
		if w.v == nil || *w.v <= 0 {
			continue
		}
		limit := math.Ceil(*w.v)
		if limit > math.MaxUint32 {
			limit = math.MaxUint32
		}
		out = append(out, rateLimitWindow{
			name: w.name, title: strings.ToUpper(w.name[:1]) + w.name[1:], period: w.period, limit: uint32(limit),
		})
	}
	return out
}

// rateLimitingFilter serves rate-limiting policy=local with Envoy's
// local_ratelimit, configured per route (typed_per_filter_config) so that a
// plugin change is an RDS push and never a listener change. The filter
// in the HCM is disabled; a route with an instance turns it on.
type rateLimitingFilter struct{}

func (rateLimitingFilter) name() string { return localRateLimitFilter }

func (f rateLimitingFilter) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters,
		&hcmv3.HttpFilter{
			Name:     f.name(),
			Disabled: true,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&localrlv3.LocalRateLimit{
				StatPrefix: "rate_limiting",
			})},
		})
	// Kong's body for a rejected request: the limiter's local reply (429,
	// details local_rate_limited) gets {"message": <error_message>} from
	// the route's metadata. Only the limiter answers 429 locally.
	hcm.LocalReplyConfig.Mappers = append(hcm.LocalReplyConfig.Mappers, &hcmv3.ResponseMapper{
		Filter: statusFilter(429),
		BodyFormatOverride: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: map[string]*structpb.Value{
				"message": structpb.NewStringValue("%METADATA(ROUTE:" + metadataNamespace + ":" + metaRateLimitMessage + ")%"),
			}}},
			ContentType: jsonContentType,
		},
	})
	return nil
}

func (rateLimitingFilter) patchResources(*Resources) error { return nil }

// rateLimitInstance returns the rate-limiting instance of rp served by the
// local limiter, with its config; ok is false when none applies.
func rateLimitInstance(rp *routePlan) (cfg rateLimitingConfig, ok bool, err error) {
	for _, p := range rp.plugins {
		if p.name != pluginRateLimiting || p.row == nil {
			continue
		}
		if err := json.Unmarshal(p.row.Config, &cfg); err != nil {
			return cfg, false, fmt.Errorf("plugin %s: config: %w", p.id, err)
		}
		// policy=cluster and redis need a rate-limit service, which is not
		// served yet: such an instance limits nothing (docs/plugins.md).
		if cfg.Policy != "" && cfg.Policy != "local" {
			return cfg, false, nil
		}
		return cfg, len(cfg.windows()) > 0, nil
	}
	return cfg, false, nil
}

func (f rateLimitingFilter) patchRoute(er *routev3.Route, rp *routePlan) error {
	cfg, ok, err := rateLimitInstance(rp)
	if err != nil || !ok {
		return err
	}
	windows := cfg.windows()
	lrl := &localrlv3.LocalRateLimit{
		StatPrefix:                      "rate_limiting",
		FilterEnabled:                   fullPercent("local_rate_limit_enabled"),
		FilterEnforced:                  fullPercent("local_rate_limit_enforced"),
		AlwaysConsumeDefaultTokenBucket: wrapperspb.Bool(false),
		MaxDynamicDescriptors:           wrapperspb.UInt32(maxRateLimitClients),
		RateLimitedAsResourceExhausted:  true,
		// A fallback bucket is required next to descriptors; it is never
		// consumed (always_consume_default_token_bucket false) unless a
		// request yields no descriptor, which the actions below exclude.
		TokenBucket: tokenBucket(windows[len(windows)-1]),
	}
	if !cfg.HideClientHeaders {
		lrl.EnableXRatelimitHeaders = rlcommonv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03
		lrl.EnableRetryAfterHeader = true
	}
	ident := rateLimitIdentity(cfg)
	for _, w := range windows {
		actions := []*routev3.RateLimit_Action{{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{
			GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: "window", DescriptorValue: w.name},
		}}}
		entries := []*rlcommonv3.RateLimitDescriptor_Entry{{Key: "window", Value: w.name}}
		if ident != nil {
			actions = append(actions, ident.action)
			// No value: one bucket per distinct client value.
			entries = append(entries, &rlcommonv3.RateLimitDescriptor_Entry{Key: ident.key})
		}
		lrl.RateLimits = append(lrl.RateLimits, &routev3.RateLimit{Actions: actions})
		lrl.Descriptors = append(lrl.Descriptors, &rlcommonv3.LocalRateLimitDescriptor{
			Entries: entries, TokenBucket: tokenBucket(w),
		})
	}
	if err := setPerFilterConfig(er, f.name(), lrl); err != nil {
		return err
	}
	msg := "API rate limit exceeded"
	if cfg.ErrorMessage != nil {
		msg = *cfg.ErrorMessage
	}
	setRouteMetadata(er, metaRateLimitMessage, msg)
	if cfg.HideClientHeaders {
		return nil
	}
	return setPerFilterConfig(er, rateLimitHeadersFilter, kongRateLimitHeaders(windows[len(windows)-1]))
}

// rateLimitIdent is the descriptor entry that separates clients.
type rateLimitIdent struct {
	key    string
	action *routev3.RateLimit_Action
}

// rateLimitIdentity maps limit_by onto a descriptor entry. Without an
// authenticated consumer Kong falls back to the client IP for consumer,
// credential and path, which is what the local limiter does for them
// today (docs/plugins.md); service shares one bucket per route.
func rateLimitIdentity(cfg rateLimitingConfig) *rateLimitIdent {
	switch cfg.LimitBy {
	case "service":
		return nil
	case "header":
		if cfg.HeaderName != nil && *cfg.HeaderName != "" {
			return &rateLimitIdent{key: "header", action: &routev3.RateLimit_Action{
				ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{
					HeaderName: strings.ToLower(*cfg.HeaderName), DescriptorKey: "header", SkipIfAbsent: false,
				}},
			}}
		}
	}
	return &rateLimitIdent{key: "remote_address", action: &routev3.RateLimit_Action{
		ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}},
	}}
}

func tokenBucket(w rateLimitWindow) *typev3.TokenBucket {
	return &typev3.TokenBucket{
		MaxTokens:     w.limit,
		TokensPerFill: wrapperspb.UInt32(w.limit),
		FillInterval:  durationpb.New(w.period),
	}
}

func fullPercent(runtimeKey string) *corev3.RuntimeFractionalPercent {
	return &corev3.RuntimeFractionalPercent{
		DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED},
		RuntimeKey:   runtimeKey,
	}
}

// kongRateLimitHeaders copies the limiter's draft-03 headers into Kong's
// names for window w and removes the originals. RateLimit-Reset keeps
// Envoy's meaning (seconds to the next token, 0 while tokens remain).
func kongRateLimitHeaders(w rateLimitWindow) *headermutationv3.HeaderMutationPerRoute {
	add := func(name, from string) *mutationv3.HeaderMutation {
		return &mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: name, Value: "%RESP(" + from + ")%"},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}}}
	}
	remove := func(name string) *mutationv3.HeaderMutation {
		return &mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Remove{Remove: name}}
	}
	return &headermutationv3.HeaderMutationPerRoute{Mutations: &headermutationv3.Mutations{ResponseMutations: []*mutationv3.HeaderMutation{
		add("X-RateLimit-Limit-"+w.title, "x-ratelimit-limit"),
		add("X-RateLimit-Remaining-"+w.title, "x-ratelimit-remaining"),
		add("RateLimit-Limit", "x-ratelimit-limit"),
		add("RateLimit-Remaining", "x-ratelimit-remaining"),
		add("RateLimit-Reset", "x-ratelimit-reset"),
		remove("x-ratelimit-limit"),
		remove("x-ratelimit-remaining"),
		remove("x-ratelimit-reset"),
	}}}
}

// rateLimitHeadersStage is the HCM entry of the header rename, disabled
// unless a route enables it; it must come before the limiter.
type rateLimitHeadersStage struct{}

func (rateLimitHeadersStage) name() string { return rateLimitHeadersFilter }

func (f rateLimitHeadersStage) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, &hcmv3.HttpFilter{
		Name:     f.name(),
		Disabled: true,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&headermutationv3.HeaderMutation{
			Mutations: &headermutationv3.Mutations{},
		})},
	})
	return nil
}

// patchRoute is done by rateLimitingFilter, which knows the window.
func (rateLimitHeadersStage) patchRoute(*routev3.Route, *routePlan) error { return nil }

func (rateLimitHeadersStage) patchResources(*Resources) error { return nil }
