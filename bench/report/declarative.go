package report

import (
	"fmt"
	"strings"
)

// writeDeclarative is the section of scenario 8 (bench/scenario/declarative.go).
func writeDeclarative(b *strings.Builder, r *Results) {
	if r.Declarative == nil {
		return
	}
	b.WriteString("## 8. Declarative configuration (POST /config)\n\nA kong.yaml of services with ten routes each (JSON), " +
		"posted to an empty node with a local Envoy: the apply is the request until its 201 (validated, one raft entry on " +
		"disk); served is the request until every service's routes answer through Envoy; the re-apply is the same file " +
		"with `check_hash=1` (304, nothing written). Anchor: Kong DB-less takes ≈10 s for 5,000 routes.\n\n")
	t := newTable(b, "routes", "services", "file", "apply (201)", "served through Envoy", "re-apply (304)")
	for _, d := range r.Declarative.Files {
		t.row(num(d.Routes), num(d.Services), fileSize(d.FileBytes), ms(d.Apply), ms(d.Served), ms(d.Reapply))
	}
	if d := r.Declarative.Deck; d.Services > 0 {
		fmt.Fprintf(b, "\ndecK's write pattern instead (what `deck gateway sync` sends to an empty node): PUT /services/{id} "+
			"for %s services, then PUT /routes/{id} for one route each, from %d parallel clients: **%s** in total "+
			"(issue goal: well under 5 s for 1,000).\n", num(d.Services), d.Clients, ms(d.Elapsed))
	}
	b.WriteString("\n")
}

// fileSize is a size in KiB below 1 MiB, else in MiB.
func fileSize(n int) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
