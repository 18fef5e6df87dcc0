package scenario

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
)

// PublishStats is what switchboard's own /metrics say about the publishes
// during a measurement: how many, of which kind, and where the time went.
// They explain a figure; they are never the figure.
type PublishStats struct {
	Full, Incremental, Endpoints int
	// Means over the measurement.
	TranslateFull, TranslateIncremental, TranslateEndpoints time.Duration
	// RevisionToPublish: store watch fired → configuration in the cache,
	// the control plane's share of a change (mean; CommitToCacheP99 is the
	// upper bound of the histogram bucket holding the 99th percentile).
	RevisionToPublish time.Duration
	CommitToCacheP99  time.Duration
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
		Full:        int(d(`switchboard_xds_publishes_total{mode="full"}`)),
		Endpoints:   int(d(`switchboard_xds_publishes_total{mode="endpoints"}`)),
		Incremental: int(d(`switchboard_xds_publishes_total{mode="incremental"}`)),
		TranslateIncremental: mean(`switchboard_xds_translation_duration_seconds_sum{mode="incremental"}`,
			`switchboard_xds_translation_duration_seconds_count{mode="incremental"}`),
		TranslateFull:      mean(`switchboard_xds_translation_duration_seconds_sum{mode="full"}`, `switchboard_xds_translation_duration_seconds_count{mode="full"}`),
		TranslateEndpoints: mean(`switchboard_xds_translation_duration_seconds_sum{mode="endpoints"}`, `switchboard_xds_translation_duration_seconds_count{mode="endpoints"}`),
		RevisionToPublish:  mean(`switchboard_xds_commit_to_cache_seconds_sum`, `switchboard_xds_commit_to_cache_seconds_count`),
		CommitToCacheP99:   histQuantile(before, after, "switchboard_xds_commit_to_cache_seconds", 0.99),
		Pushes:             map[string]int{},
	}
	for _, t := range []string{"clusters", "endpoints", "listeners", "routes"} {
		if n := int(d(`switchboard_xds_responses_total{type="` + t + `"}`)); n > 0 {
			ps.Pushes[t] = n
		}
	}
	return ps
}

// histQuantile is the upper bound of the bucket holding quantile q of the
// observations a histogram gained between two scrapes (0 when none): a
// conservative p99, as fine as the buckets (steps of 1.6×).
func histQuantile(before, after map[string]float64, name string, q float64) time.Duration {
	type bucket struct{ le, n float64 }
	var bs []bucket
	prefix := name + `_bucket{le="`
	for k, v := range after {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		le := strings.TrimSuffix(rest, `"}`)
		f, err := strconv.ParseFloat(le, 64)
		if le == "+Inf" {
			f, err = math.Inf(1), nil
		}
		if err != nil {
			continue
		}
		bs = append(bs, bucket{f, v - before[k]})
	}
	slices.SortFunc(bs, func(a, b bucket) int {
		switch {
		case a.le < b.le:
			return -1
		case a.le > b.le:
			return 1
		}
		return 0
	})
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0
	}
	total := bs[len(bs)-1].n
	for _, b := range bs {
		if b.n >= q*total {
			if math.IsInf(b.le, 1) {
				return time.Duration(math.MaxInt64)
			}
			return time.Duration(b.le * float64(time.Second))
		}
	}
	return 0
}
