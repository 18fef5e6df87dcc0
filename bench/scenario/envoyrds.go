package scenario

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
)

// EnvoyApply is Envoy's own time to apply a route configuration update:
// the p50 and p99 of its RDS update_duration histogram over its last stats
// interval (Envoy's default 5 s), read right after a run, so mostly the
// run's own updates. Zero when Envoy has no such histogram.
type EnvoyApply struct {
	P50, P99 time.Duration
}

// envoyRDSApply reads Envoy's http.<prefix>.rds.<name>.update_duration.
func envoyRDSApply(adminAddr string) EnvoyApply {
	ea := harness.NewEnvoyAdmin(adminAddr)
	defer ea.Close()
	body, err := ea.Get("/stats?format=json&filter=" + url.QueryEscape(`\.rds\..*update_duration`))
	if err != nil {
		return EnvoyApply{}
	}
	var doc struct {
		Stats []struct {
			Histograms *struct {
				Supported []float64 `json:"supported_quantiles"`
				Computed  []struct {
					Name   string `json:"name"`
					Values []struct {
						Interval *float64 `json:"interval"`
					} `json:"values"`
				} `json:"computed_quantiles"`
			} `json:"histograms"`
		} `json:"stats"`
	}
	if json.Unmarshal([]byte(body), &doc) != nil {
		return EnvoyApply{}
	}
	var out EnvoyApply
	for _, s := range doc.Stats {
		h := s.Histograms
		if h == nil {
			continue
		}
		for _, c := range h.Computed {
			if !strings.Contains(c.Name, ".rds.") {
				continue
			}
			for i, q := range h.Supported {
				if i >= len(c.Values) || c.Values[i].Interval == nil {
					continue
				}
				// Envoy reports milliseconds.
				d := time.Duration(*c.Values[i].Interval * float64(time.Millisecond))
				switch q {
				case 50:
					out.P50 = max(out.P50, d)
				case 99:
					out.P99 = max(out.P99, d)
				}
			}
		}
	}
	return out
}
