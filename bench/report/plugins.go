package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-gw/switchboard/bench/load"
	"github.com/switchboard-gw/switchboard/bench/scenario"
)

// writePlugins is section 7: proxy throughput with each plugin on the
// route against none, from one run, and the rate-limit service alone.
func writePlugins(b *strings.Builder, r *Results) {
	p := r.Plugins
	if p == nil {
		return
	}
	sz := r.Sizes
	fmt.Fprintf(b, "## 7. Plugins\n\nThe overhead scenario's closed-loop load (GET, %s measured after %s warm-up) through "+
		"switchboard's Envoy on five routes of one service that differ only in their plugin: none; rate-limiting "+
		"`policy=local` (Envoy's local_ratelimit) and `policy=cluster` (one gRPC call per request to switchboard's rate-limit "+
		"service), both with `second=1e9` so nothing is refused; key-auth (key in the query); proxy-cache "+
		"(`strategy=memory`, `application/json`, the backend's type). %d rounds, rows interleaved; the median-throughput "+
		"round is shown, with its ratio to the row without a plugin.\n\n", sz.OverheadDuration, sz.OverheadWarmup, sz.PluginRounds)
	t := newTable(b, "plugin on the route", "connections", "req/s", "p50", "p99", "req/s vs none", "p99 vs none", "rounds (req/s)")
	for _, c := range p.Cells {
		if c.Skipped != "" || len(c.Rounds) == 0 {
			t.row(c.Plugin, fmt.Sprint(c.Conns), "not run: "+c.Skipped, "", "", "", "", "")
			continue
		}
		var none *load.Result
		if nc := findPluginCell(p.Cells, scenario.PluginNone, c.Conns); nc != nil {
			none = &nc.Run
		}
		vs, p99 := versus(c.Run, none)
		t.row(c.Plugin, fmt.Sprint(c.Conns), rate(c.Run.Throughput), ms(c.Run.Latency.P50), ms(c.Run.Latency.P99), vs, p99,
			roundRates(c.Rounds))
	}
	s := p.Service
	fmt.Fprintf(b, "\nThe rate-limit service alone (`--ratelimit-listen`, gRPC over one HTTP/2 connection, %d concurrent "+
		"`ShouldRateLimit` calls, one `policy=cluster` descriptor with minute and hour windows per call, 1000 client "+
		"addresses, %s): **%s calls/s**, p50 %s, p99 %s, max %s (%d calls).\n\n",
		s.Concurrency, s.Duration.Round(10*time.Millisecond), rate(s.Throughput), ms(s.Latency.P50), ms(s.Latency.P99), ms(s.Latency.Max), s.Calls)
}

func findPluginCell(cells []scenario.PluginCell, row string, conns int) *scenario.PluginCell {
	for i := range cells {
		if cells[i].Plugin == row && cells[i].Conns == conns {
			return &cells[i]
		}
	}
	return nil
}
