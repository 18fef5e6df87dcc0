package report

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/bench/load"
	"github.com/switchboard-gw/switchboard/bench/scenario"
)

// TestMarkdown_Goals renders made-up results (no timing is measured) and
// checks that every goal is stated beside its figure, misses marked.
func TestMarkdown_Goals(t *testing.T) {
	r := &Results{
		Command: "make bench", Started: time.Unix(0, 0), Finished: time.Unix(600, 0), Sizes: scenario.FullSizes(),
		Propagation: []scenario.PropagationRow{
			{Existing: 5000, Loaded: true, Latency: load.Summary{N: 200, P50: 10 * time.Millisecond, P99: 30 * time.Millisecond, Max: 40 * time.Millisecond}},
			{Shape: scenario.ShapeHost, Existing: 50000, Loaded: true, Latency: load.Summary{N: 200, P50: 10 * time.Millisecond, P99: 30 * time.Millisecond, Max: 40 * time.Millisecond},
				Publish: scenario.PublishStats{CommitToCacheP99: time.Millisecond}},
		},
		Churn:    &scenario.ChurnResult{Load: load.Result{Requests: 1000, OK: 1000}},
		Failover: []scenario.FailoverRow{{Mode: "passive", Load: load.Result{Requests: 10, OK: 9, Non2xx: map[int]int{502: 1}}}},
		Overhead: []scenario.OverheadCell{
			{Target: scenario.TargetSB, Conns: 16, Run: load.Result{Throughput: 980}, Rounds: []float64{900, 980, 990}},
			{Target: scenario.TargetStatic, Conns: 16, Run: load.Result{Throughput: 1000}, Rounds: []float64{1000, 1000, 1100}},
		},
		Scale: &scenario.ScaleResult{Routes: 10000, Clients: 100, PeakRSS: 100 << 20,
			ChangeFromAck: load.Summary{P99: 60 * time.Millisecond},
			Changes: []scenario.ChangeSample{{Types: []string{"ClusterLoadAssignment"}, Resources: []string{"upstream/u/http/60000"},
				Expected: "upstream/u/http/60000", BytesPerClient: 700}}},
	}
	md := Markdown(r)
	for _, want := range []string{
		"| 1. route propagation, hostless | p99 ≤ 60.0 ms at 5,000 routes under load | p99 30.0 ms (p50 10.0 ms, max 40.0 ms) | ✅ met |",
		"| 1. route propagation, one host per route | p99 ≤ 20.0 ms at 50,000 routes under load | p99 30.0 ms (p50 10.0 ms, max 40.0 ms) | ❌ **missed** |",
		"| 1. control-plane share of a route change, one host per route | commit → xDS cache p99 ≤ 2.0 ms at 50,000 routes | p99 ≤ 1.0 ms",
		"| 2. change under traffic | 0 non-2xx, 0 connection errors | 0 non-2xx, 0 connection errors of 1,000 requests | ✅ met |",
		"| 3. failover: passive | 0 failed requests (retries on) | 1 failed of 10 | ❌ **missed** |",
		"| 4. proxy overhead, 16 connections | b/c ≥ 0.97 (median rounds) | b/c = 0.980 (best rounds: 0.900) | ✅ met |",
		"| 5. control-plane RSS | ≤ 200 MiB at 10,000 routes | 0 MiB at the end, 100 MiB peak | ✅ met |",
		"| 5. single-change push | ≤ 20.0 ms to all 100 clients | p99 60.0 ms",
		"700 bytes per client, ClusterLoadAssignment of upstream/u/http/60000 | ✅ met |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
}

func TestNum(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 5000: "5,000", 10000: "10,000", 1234567: "1,234,567"} {
		if got := num(in); got != want {
			t.Errorf("num(%d) = %q, want %q", in, got, want)
		}
	}
}
