package translator

import (
	"math"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rlcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	pluginRateLimiting = "rate-limiting"
	// localRateLimitFilter + "." + window names Envoy's local (per
	// process) token-bucket limiter of one window, Kong's policy=local.
	localRateLimitFilter = "envoy.filters.http.local_ratelimit"
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
	Path              *string  `json:"path"`
	Policy            string   `json:"policy"`
	FaultTolerant     *bool    `json:"fault_tolerant"`
	HideClientHeaders bool     `json:"hide_client_headers"`
	ErrorCode         *float64 `json:"error_code"`
	ErrorMessage      *string  `json:"error_message"`

	// parsed is windows(), computed once when decoded (rateLimitCache).
	parsed  []rateLimitWindow
	decoded bool
}

// errorMessage and errorCode are the rejection's, with Kong's defaults.
func (c rateLimitingConfig) errorMessage() string {
	if c.ErrorMessage != nil {
		return *c.ErrorMessage
	}
	return "API rate limit exceeded"
}

func (c rateLimitingConfig) errorCode() int {
	if c.ErrorCode != nil && *c.ErrorCode >= 400 && *c.ErrorCode <= 599 {
		return int(*c.ErrorCode)
	}
	return 429
}

// failureDeny is Envoy's failure_mode_deny: Kong's fault_tolerant (default
// true) lets requests through when the counters cannot be reached.
func (c rateLimitingConfig) failureDeny() bool { return c.FaultTolerant != nil && !*c.FaultTolerant }

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
	if c.decoded {
		return c.parsed
	}
	return c.computeWindows()
}

func (c rateLimitingConfig) computeWindows() []rateLimitWindow {
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

// rateLimitWindowNames are Kong's windows, shortest first.
var rateLimitWindowNames = []string{"second", "minute", "hour", "day", "month", "year"}

// localRateLimitStages is policy=local's part of the chain: per window a
// header stage and Envoy's local_ratelimit. One limiter per window
// because a limiter's x-ratelimit-* headers describe one bucket; each
// window's stage names them after its window, so a response carries every
// configured window's headers, as Kong's does. Shortest window first: a
// request it rejects takes no token from the longer ones.
func localRateLimitStages() []httpFilter {
	var out []httpFilter
	for _, w := range rateLimitWindowNames {
		out = append(out, rateLimitHeadersStage{window: w}, rateLimitingFilter{window: w})
	}
	return out
}

// rateLimitingFilter serves rate-limiting policy=local for one window with
// Envoy's local_ratelimit, configured per route (typed_per_filter_config)
// so that a plugin change is an RDS push and never a listener change. The
// filter in the HCM is disabled; a route with an instance turns it on.
type rateLimitingFilter struct{ window string }

func (f rateLimitingFilter) name() string { return localRateLimitFilter + "." + f.window }

func (f rateLimitingFilter) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters,
		disabledHTTPFilter(f.name(), &localrlv3.LocalRateLimit{
			StatPrefix: "rate_limiting_" + f.window,
		}))
	if f.window != rateLimitWindowNames[0] {
		return nil
	}
	// Once for every window: Kong's body for a rejected request. The
	// limiter's local reply (details local_rate_limited) gets
	// {"message": <error_message>} from the route's metadata.
	hcm.LocalReplyConfig.Mappers = append(hcm.LocalReplyConfig.Mappers,
		celMapper("response.code_details == 'local_rate_limited'", &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: map[string]*structpb.Value{
				"message": structpb.NewStringValue("%METADATA(ROUTE:" + metadataNamespace + ":" + metaRateLimitMessage + ")%"),
			}}},
			ContentType: jsonContentType,
		}))
	return nil
}

func (rateLimitingFilter) patchResources(*Resources) error { return nil }

// localApplies are rp's policy=local instances and the one whose route-wide
// settings (message, status, hidden headers) apply: the instance for every
// consumer without one of its own, the last in the list.
func localApplies(rp *routePlan) (applies []rateLimitApply, main rateLimitApply, err error) {
	m := &rp.rateLimits
	if _, err := rateLimitApplies(rp); err != nil {
		return nil, main, err
	}
	if !m.localDone {
		for _, a := range m.applies {
			if a.local() {
				m.local = append(m.local, a)
			}
		}
		if len(m.local) > 0 {
			m.main = m.local[len(m.local)-1]
		}
		m.localDone = true
	}
	return m.local, m.main, nil
}

// window returns c's window named name.
func (c rateLimitingConfig) window(name string) (rateLimitWindow, bool) {
	for _, w := range c.windows() {
		if w.name == name {
			return w, true
		}
	}
	return rateLimitWindow{}, false
}

// patchRoute configures the window's limiter for the route's policy=local
// instances that set it: per instance and identifier variant one
// descriptor, keyed by the plugin id (instances never share buckets) and,
// for consumer-scoped candidates, conditioned on the consumer
// (ratelimit_apply.go).
func (f rateLimitingFilter) patchRoute(er *routev3.Route, rp *routePlan) error {
	applies, main, err := localApplies(rp)
	if err != nil {
		return err
	}
	serviceID := ""
	if rp.service != nil {
		serviceID = rp.service.ID
	}
	err = rp.rateLimits.cache.setPerRoute(er, f.name(), rp, applies, serviceID, func() (proto.Message, error) {
		lrl := f.build(applies, main, serviceID)
		if lrl == nil {
			return nil, nil
		}
		return lrl, nil
	})
	if err != nil {
		return err
	}
	if _, set := er.GetTypedPerFilterConfig()[f.name()]; set {
		setRouteMetadata(er, metaRateLimitMessage, main.cfg.errorMessage())
	}
	return nil
}

// build is the window's LocalRateLimit for applies, nil when none sets the
// window.
func (f rateLimitingFilter) build(applies []rateLimitApply, main rateLimitApply, serviceID string) *localrlv3.LocalRateLimit {
	var lrl *localrlv3.LocalRateLimit
	for _, a := range applies {
		w, ok := a.cfg.window(f.window)
		if !ok {
			continue
		}
		if lrl == nil {
			lrl = &localrlv3.LocalRateLimit{
				StatPrefix:                      "rate_limiting_" + f.window,
				FilterEnabled:                   fullPercent("local_rate_limit_enabled"),
				FilterEnforced:                  fullPercent("local_rate_limit_enforced"),
				AlwaysConsumeDefaultTokenBucket: wrapperspb.Bool(false),
				MaxDynamicDescriptors:           wrapperspb.UInt32(maxRateLimitClients),
				RateLimitedAsResourceExhausted:  true,
				// A fallback bucket is required next to descriptors; it is
				// never consumed (always_consume_default_token_bucket
				// false): a request matching no descriptor (another
				// consumer's instance applies) is not limited here.
				TokenBucket: tokenBucket(w),
			}
			if !main.cfg.HideClientHeaders {
				lrl.EnableXRatelimitHeaders = rlcommonv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03
				lrl.EnableRetryAfterHeader = true
			}
			if code := main.cfg.errorCode(); code != 429 {
				lrl.ResponseHeadersToAdd = []*corev3.HeaderValueOption{setHeader(RateLimitStatusHeader, strconv.Itoa(code))}
			}
		}
		condAction, condEntry := a.condition()
		for _, v := range rateLimitVariants(a, serviceID) {
			actions := []*routev3.RateLimit_Action{genericKey(rlKeyPlugin, a.inst.id)}
			entries := []*rlcommonv3.RateLimitDescriptor_Entry{{Key: rlKeyPlugin, Value: a.inst.id}}
			if condAction != nil {
				actions = append(actions, condAction)
				entries = append(entries, condEntry)
			}
			lrl.RateLimits = append(lrl.RateLimits, &routev3.RateLimit{Actions: append(actions, v.actions...)})
			lrl.Descriptors = append(lrl.Descriptors, &rlcommonv3.LocalRateLimitDescriptor{
				Entries: append(entries, v.entries...), TokenBucket: tokenBucket(w),
			})
		}
	}
	return lrl
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
