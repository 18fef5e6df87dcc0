package report

import (
	"fmt"
	"strings"

	"github.com/switchboard-gw/switchboard/bench/load"
	"github.com/switchboard-gw/switchboard/bench/scenario"
)

// writeHTTPS is the https scenario: the same route through the plain and
// the TLS listener in one run, and the TLS listener's handshake rate.
func writeHTTPS(b *strings.Builder, r *Results) {
	h := r.HTTPS
	if h == nil {
		return
	}
	sz := r.Sizes
	fmt.Fprintf(b, "## HTTPS\n\nThe overhead scenario's closed-loop load (GET, HTTP/1.1 keep-alive, %s measured after %s "+
		"warm-up) on one route through switchboard's Envoy, on the plain listener and on the TLS listener (a certificate "+
		"chosen by SNI, ECDSA P-256, verified by the client); %d rounds, rows interleaved, the median-throughput round "+
		"shown with its ratio to plain HTTP.\n\n", sz.OverheadDuration, sz.OverheadWarmup, sz.OverheadRounds)
	t := newTable(b, "listener", "connections", "req/s", "p50", "p99", "req/s vs http", "p99 vs http", "rounds (req/s)")
	for _, c := range h.Cells {
		var plain *load.Result
		if pc := findHTTPSCell(h.Cells, scenario.HTTPSPlain, c.Conns); pc != nil {
			plain = &pc.Run
		}
		vs, p99 := versus(c.Run, plain)
		t.row(c.Row, fmt.Sprint(c.Conns), rate(c.Run.Throughput), ms(c.Run.Latency.P50), ms(c.Run.Latency.P99), vs, p99,
			roundRates(c.Rounds))
	}
	s := h.Handshakes
	fmt.Fprintf(b, "\nNew connections only (%d workers, each dialing, completing a full handshake without session "+
		"resumption and closing, %s): **%s handshakes/s**, p50 %s, p99 %s, %d failed (%s, %s certificate).\n\n",
		s.Workers, s.Duration, rate(s.PerSecond), ms(s.P50), ms(s.P99), s.Failed, s.Cipher, s.KeyType)
}

func findHTTPSCell(cells []scenario.HTTPSCell, row string, conns int) *scenario.HTTPSCell {
	for i := range cells {
		if cells[i].Row == row && cells[i].Conns == conns {
			return &cells[i]
		}
	}
	return nil
}
