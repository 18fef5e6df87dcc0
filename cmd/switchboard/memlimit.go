package main

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set. Without one the heap grows to twice the live size before a
// collection (GOGC=100), and a burst (the connect storm of 100 Envoys, a
// bulk load) leaves RSS at the peak: ~470 MiB at 10,000 routes for a live
// heap of ~150 MiB. The limit makes the collector work harder near it
// instead; it is soft, so a larger live heap is never refused, only
// collected more often (the runtime caps that at about half the CPU).
// Sized for the 200 MiB RSS goal at 10,000 routes (docs/benchmarks.md).
const defaultMemoryLimit = 160 << 20

// applyMemoryLimit sets defaultMemoryLimit unless the operator chose one
// with GOMEMLIMIT (which the runtime has already applied).
func applyMemoryLimit(log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	log.Debug("memory limit", "GOMEMLIMIT", defaultMemoryLimit)
}
