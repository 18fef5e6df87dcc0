package translator

import (
	"encoding/json"
	"fmt"
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
			cfg, err := readRateLimiting(p)
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
		cfg, err := readRateLimiting(p)
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

func readRateLimiting(p pluginInstance) (rateLimitingConfig, error) {
	var cfg rateLimitingConfig
	if err := json.Unmarshal(p.row.Config, &cfg); err != nil {
		return cfg, fmt.Errorf("plugin %s: config: %w", p.id, err)
	}
	return cfg, nil
}

// local reports whether the instance is served by Envoy's local limiter
// (policy=local); cluster and redis go to the rate-limit service.
func (a rateLimitApply) local() bool { return a.cfg.Policy == "" || a.cfg.Policy == "local" }
