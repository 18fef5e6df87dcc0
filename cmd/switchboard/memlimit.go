package main

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set. Without one the heap grows to twice the live size before a
// collection (GOGC=100), and a burst (the connect storm of 100 Envoys, a
// bulk load) leaves RSS at the peak: ~470 MiB at 10,000 routes for a live
// heap of ~150 MiB. The limit makes the collector work harder near it
// instead. Sized for the 200 MiB RSS goal at 10,000 routes
// (docs/benchmarks.md).
const defaultMemoryLimit = 160 << 20

// A fixed limit below the live heap makes the collector run back to back
// (the runtime caps it at about half the CPU): at 50,000 routes the live
// heap is ~400 MiB and a bulk load measured 49% of the CPU in GC, enough
// to starve the raft log into "timed out enqueuing operation". So the
// default limit follows the live heap: never below defaultMemoryLimit, and
// at least liveHeadroom times the live heap, which still collects more
// often than GOGC=100 would (at twice the live heap) but never spins. 1.25
// keeps the limit at 160 MiB up to a live heap of 128 MiB, so the RSS at
// 10,000 routes is what the fixed limit gave (1.5 raised it by ~60 MiB in
// the scale scenario).
const (
	liveHeadroom    = 1.25
	limitFollowTick = time.Second
)

// applyMemoryLimit sets the default limit and keeps it above the live heap
// until ctx ends, unless the operator chose one with GOMEMLIMIT (which the
// runtime has already applied and which is then left alone).
func applyMemoryLimit(ctx context.Context, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	log.Debug("memory limit", "GOMEMLIMIT", defaultMemoryLimit)
	go followLiveHeap(ctx, log)
}

// followLiveHeap re-reads the live heap (as of the last collection) every
// tick and moves the limit to memoryLimitFor it when that differs by more
// than a tenth, so the limit does not flap with every collection.
func followLiveHeap(ctx context.Context, log *slog.Logger) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	cur := int64(defaultMemoryLimit)
	t := time.NewTicker(limitFollowTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return // not reported by this runtime: keep the fixed default
		}
		next := memoryLimitFor(sample[0].Value.Uint64())
		if d := next - cur; d > cur/10 || -d > cur/10 {
			debug.SetMemoryLimit(next)
			log.Debug("memory limit follows the live heap", "GOMEMLIMIT", next, "live", sample[0].Value.Uint64())
			cur = next
		}
	}
}

// memoryLimitFor is the default soft limit for a live heap of live bytes.
func memoryLimitFor(live uint64) int64 {
	return max(int64(defaultMemoryLimit), int64(float64(live)*liveHeadroom))
}
