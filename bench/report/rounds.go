package report

import (
	"fmt"
	"strings"

	"github.com/switchboard-gw/switchboard/bench/load"
)

// roundRates lists every round's throughput, in run order: the spread
// beside the median round a table shows.
func roundRates(rounds []float64) string {
	out := make([]string, len(rounds))
	for i, x := range rounds {
		out[i] = rate(x)
	}
	return strings.Join(out, ", ")
}

// versus is run's throughput and p99 as ratios of base's, "—" for both
// when there is no base to divide by.
func versus(run load.Result, base *load.Result) (throughput, p99 string) {
	if base == nil || base.Throughput <= 0 || base.Latency.P99 <= 0 {
		return "—", "—"
	}
	return fmt.Sprintf("%.3f", run.Throughput/base.Throughput),
		fmt.Sprintf("%.2f", float64(run.Latency.P99)/float64(base.Latency.P99))
}
