package scenario

import (
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
)

// PublishStats is what switchboard's own /metrics say about the publishes
// during a measurement: how many, of which kind, and where the time went.
// They explain a figure; they are never the figure.
type PublishStats struct {
	Full, Endpoints int
	// Means over the measurement.
	TranslateFull, TranslateEndpoints time.Duration
	// RevisionToPublish: store watch fired → configuration in the cache
	// (includes the wait for the publish spacing).
	RevisionToPublish time.Duration
	Pushes            map[string]int // xDS responses sent, by type
}

func readMetrics(a *harness.Admin) map[string]float64 {
	m, err := a.Metrics()
	if err != nil {
		return map[string]float64{}
	}
	return m
}

func publishStats(before, after map[string]float64) PublishStats {
	d := func(k string) float64 { return after[k] - before[k] }
	mean := func(sum, count string) time.Duration {
		if n := d(count); n > 0 {
			return time.Duration(d(sum) / n * float64(time.Second))
		}
		return 0
	}
	ps := PublishStats{
		Full:               int(d(`switchboard_xds_publishes_total{mode="full"}`)),
		Endpoints:          int(d(`switchboard_xds_publishes_total{mode="endpoints"}`)),
		TranslateFull:      mean(`switchboard_xds_translation_duration_seconds_sum{mode="full"}`, `switchboard_xds_translation_duration_seconds_count{mode="full"}`),
		TranslateEndpoints: mean(`switchboard_xds_translation_duration_seconds_sum{mode="endpoints"}`, `switchboard_xds_translation_duration_seconds_count{mode="endpoints"}`),
		RevisionToPublish:  mean(`switchboard_xds_commit_to_cache_seconds_sum`, `switchboard_xds_commit_to_cache_seconds_count`),
		Pushes:             map[string]int{},
	}
	for _, t := range []string{"clusters", "endpoints", "listeners", "routes"} {
		if n := int(d(`switchboard_xds_responses_total{type="` + t + `"}`)); n > 0 {
			ps.Pushes[t] = n
		}
	}
	return ps
}
