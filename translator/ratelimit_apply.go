package translator

import (
	"encoding/json"
	"fmt"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// rateLimitApply is one rate-limiting instance a request on a route may
// get, and the consumer condition that picks it. Kong chooses the instance
// per request once key-auth has identified the consumer (§1.7 of the
// plugin contract); Envoy chooses per-route config before any filter runs,
// so every candidate goes into the route's config and a condition on the
// identity header decides per request which one produces descriptors.
type rateLimitApply struct {
	inst pluginInstance
	cfg  rateLimitingConfig
	// consumer, when set, is the consumer id this consumer-scoped instance
	// applies to; otherwise the instance applies to every request except
	// those of the consumers in except (their own instance wins).
	consumer string
	except   []string
	// authenticated: key-auth applies to the route, so a request may carry
	// an authenticated consumer (ratelimit_identity.go). Elsewhere no
	// request has one, as in Kong.
	authenticated bool
}

// rateLimitApplies lists the rate-limiting instances of rp, each with its
// condition: the static instance (if any) and, on routes where key-auth
// identifies the consumer, the most specific consumer-scoped instance of
// each consumer. Consumer-scoped instances can never apply without an auth
// plugin, as in Kong. Instances configuring no window are skipped.
func rateLimitApplies(rp *routePlan) ([]rateLimitApply, error) {
	m := &rp.rateLimits
	if !m.done {
		m.applies, m.err = resolveRateLimits(rp, m.cache)
		m.done = true
	}
	return m.applies, m.err
}

func resolveRateLimits(rp *routePlan, cache *rateLimitCache) ([]rateLimitApply, error) {
	authenticated := authenticates(rp)
	var out []rateLimitApply
	var consumers []string
	if authenticated {
		seen := map[string]bool{}
		// perConsumer is sorted by rank: the first per consumer wins.
		for _, p := range rp.perConsumer {
			if p.name != pluginRateLimiting || p.row == nil || seen[p.consumerID] {
				continue
			}
			seen[p.consumerID] = true
			cfg, err := cache.config(p)
			if err != nil {
				return nil, err
			}
			consumers = append(consumers, p.consumerID)
			if len(cfg.windows()) == 0 {
				continue
			}
			out = append(out, rateLimitApply{inst: p, cfg: cfg, consumer: p.consumerID, authenticated: true})
		}
	}
	for _, p := range rp.plugins {
		if p.name != pluginRateLimiting || p.row == nil {
			continue
		}
		cfg, err := cache.config(p)
		if err != nil {
			return nil, err
		}
		if len(cfg.windows()) > 0 {
			out = append(out, rateLimitApply{inst: p, cfg: cfg, except: consumers, authenticated: authenticated})
		}
		break
	}
	return out, nil
}

// rateLimitRoute memoizes rateLimitApplies for one route plan: every
// rate-limiting stage of the chain asks.
type rateLimitRoute struct {
	cache   *rateLimitCache
	applies []rateLimitApply
	err     error
	done    bool
	// key is rateLimitKey of applies; local and main are localApplies'.
	key       string
	keyDone   bool
	local     []rateLimitApply
	main      rateLimitApply
	localDone bool
}

// rateLimitCache is what the rate-limiting filters share in one
// translation (plugin edits start a new one): each instance's config,
// decoded once, and each distinct per-route filter config, built and
// marshalled once — the routes of one global or service instance carry
// the same bytes.
type rateLimitCache struct {
	configs  map[string]rateLimitingConfig // by plugin id
	perRoute map[string]*anypb.Any         // by filter name and rateLimitKey
}

func newRateLimitCache() *rateLimitCache {
	return &rateLimitCache{configs: map[string]rateLimitingConfig{}, perRoute: map[string]*anypb.Any{}}
}

func (c *rateLimitCache) config(p pluginInstance) (rateLimitingConfig, error) {
	if c != nil {
		if cfg, ok := c.configs[p.id]; ok {
			return cfg, nil
		}
	}
	var cfg rateLimitingConfig
	if err := json.Unmarshal(p.row.Config, &cfg); err != nil {
		return cfg, fmt.Errorf("plugin %s: config: %w", p.id, err)
	}
	cfg.parsed, cfg.decoded = cfg.computeWindows(), true
	if c != nil {
		c.configs[p.id] = cfg
	}
	return cfg, nil
}

// setPerRoute sets filter's per-route config on er, built by build (nil:
// none) unless a route with the same instances, conditions and, where
// limit_by=service reads it, service already had it built. A nil cache
// (a plan made outside a translation) builds every time.
func (c *rateLimitCache) setPerRoute(er *routev3.Route, filter string, rp *routePlan, applies []rateLimitApply, serviceID string,
	build func() (proto.Message, error)) error {
	m := &rp.rateLimits
	if !m.keyDone {
		m.key, m.keyDone = rateLimitKey(m.applies, serviceID), true
	}
	key := filter + "\x00" + m.key
	a, ok := (*anypb.Any)(nil), false
	if c != nil {
		a, ok = c.perRoute[key]
	}
	if !ok {
		m, err := build()
		if err != nil {
			return err
		}
		if m != nil {
			if a, err = perFilterAny(filter, m); err != nil {
				return err
			}
		}
		if c != nil {
			c.perRoute[key] = a
		}
	}
	if a != nil {
		setPerFilterAny(er, filter, a)
	}
	return nil
}

// rateLimitKey says everything a route's rate-limit configs depend on.
func rateLimitKey(applies []rateLimitApply, serviceID string) string {
	var b strings.Builder
	for _, a := range applies {
		fmt.Fprintf(&b, "%s|%s|%s|%t;", a.inst.id, a.consumer, strings.Join(a.except, ","), a.authenticated)
		if a.cfg.LimitBy == "service" {
			b.WriteString(serviceID + ";")
		}
	}
	return b.String()
}

// local reports whether the instance is served by Envoy's local limiter
// (policy=local); cluster and redis go to the rate-limit service.
func (a rateLimitApply) local() bool { return a.cfg.Policy == "" || a.cfg.Policy == "local" }
