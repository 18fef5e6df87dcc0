package scenario

import (
	"encoding/json"
	"net/url"
	"slices"
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
	// Intervals is how many 5 s stats intervals with updates the figure
	// covers (rdsSampler).
	Intervals int
}

// envoyRDSApply reads Envoy's http.<prefix>.rds.<name>.update_duration.
// Histograms only: the filter alone made Envoy match every stat name, ~180
// ms of its main thread (the one that applies xDS) at 5,000 clusters, once
// per interval during the very runs it measures; type=Histograms took
// ~17 ms.
func envoyRDSApply(adminAddr string) EnvoyApply {
	ea := harness.NewEnvoyAdmin(adminAddr)
	defer ea.Close()
	body, err := ea.Get("/stats?format=json&type=Histograms&filter=" + url.QueryEscape(`\.rds\..*update_duration`))
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

// envoyStatsInterval is Envoy's default stats flush interval: its
// histograms' interval quantiles cover the last one.
const envoyStatsInterval = 5 * time.Second

// rdsSampler reads Envoy's RDS apply quantiles once per stats interval
// while a run goes on, so that the figure covers the run's own updates
// (not only the last interval's). Every interval that held updates counts.
type rdsSampler struct {
	stop chan struct{}
	done chan EnvoyApply
}

func startRDSSampler(adminAddr string) *rdsSampler {
	s := &rdsSampler{stop: make(chan struct{}), done: make(chan EnvoyApply, 1)}
	go func() {
		var p50s []time.Duration
		var out EnvoyApply
		add := func() {
			e := envoyRDSApply(adminAddr)
			if e.P99 == 0 {
				return
			}
			p50s = append(p50s, e.P50)
			out.P99 = max(out.P99, e.P99)
			out.Intervals++
		}
		t := time.NewTicker(envoyStatsInterval)
		defer t.Stop()
		for running := true; running; {
			select {
			case <-t.C:
			case <-s.stop:
				running = false // one last read: the interval in progress
			}
			add()
		}
		if len(p50s) > 0 {
			slices.Sort(p50s)
			out.P50 = p50s[len(p50s)/2]
		}
		s.done <- out
	}()
	return s
}

// Stop ends the sampling and returns Envoy's apply time over the run: the
// median of the intervals' p50 and the highest interval p99.
func (s *rdsSampler) Stop() EnvoyApply {
	close(s.stop)
	return <-s.done
}
