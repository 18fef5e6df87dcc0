package main

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"slices"
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

// A limit too close to the live heap makes the collector run back to back
// (the runtime caps it at about half the CPU): at 50,000 routes a fixed
// 160 MiB under a ~400 MiB live heap spent 49% of the CPU in GC, enough to
// starve the raft log, and at 10,000 routes with 100 clients (live ~130
// MiB) 160 MiB left the heap goal at the live heap: ~7 collections a
// second and 11–14 s of CPU for 10 s of single target changes, against
// 0.5–1.2 s with the headroom below. So the default limit follows the live
// heap: never below defaultMemoryLimit, and enough that the heap may grow
// liveHeadroom times the live heap before a collection.
//
// The limit counts all of the runtime's memory, not only live objects:
// goroutine stacks, GC metadata, the unused parts of heap spans (~27 MiB
// at 10,000 routes, most of it fixed). A limit of 1.25× the live heap (the
// first version of this policy) left the heap itself ~5% at 10,000 routes,
// so that overhead is added on top, and the runtime's own 3% reserve
// below its limit (limitReserve).
const (
	liveHeadroom    = 1.1
	limitReserve    = 0.97
	limitFollowTick = time.Second
)

// applyMemoryLimit sets the default limit and keeps it above the live heap
// until ctx ends, unless the operator chose one with GOMEMLIMIT (which the
// runtime has already applied and which is then left alone: nil).
func applyMemoryLimit(ctx context.Context, log *slog.Logger) *memoryLimit {
	if os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	lim := newMemoryLimit(defaultMemoryLimit, debug.SetMemoryLimit)
	log.Debug("memory limit", "GOMEMLIMIT", defaultMemoryLimit)
	go followLiveHeap(ctx, log, lim)
	return lim
}

// The runtime/metrics samples followLiveHeap reads.
var memSamples = []string{
	"/gc/heap/live:bytes",                 // live heap as of the last collection
	"/memory/classes/total:bytes",         // everything the runtime mapped
	"/memory/classes/heap/released:bytes", // returned to the OS
	"/memory/classes/heap/objects:bytes",  // objects, live or not yet swept
	"/memory/classes/heap/free:bytes",     // free spans, reusable for the heap
}

// raiseAfter is how many ticks in a row the limit must be short before it
// is raised: a burst (a connect storm under load) may hold a high live heap
// for a second, and a limit raised for it stays up until the heap is a
// tenth below it (one such run ended at 256 MiB RSS instead of ~200).
const raiseAfter = 3

// followLiveHeap re-reads the live heap (as of the last collection) and the
// runtime's overhead every tick and moves the limit to memoryLimitFor them:
// up once it has been short for raiseAfter ticks (to the least of those
// ticks' limits), down when it is a tenth too high, so that it does not
// flap with every collection.
func followLiveHeap(ctx context.Context, log *slog.Logger, lim *memoryLimit) {
	sample := make([]metrics.Sample, len(memSamples))
	for i, n := range memSamples {
		sample[i].Name = n
	}
	cur := int64(defaultMemoryLimit)
	var recent []int64 // the last raiseAfter limits wanted
	t := time.NewTicker(limitFollowTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		var v [5]uint64
		for i := range sample {
			if sample[i].Value.Kind() != metrics.KindUint64 {
				return // not reported by this runtime: keep the fixed default
			}
			v[i] = sample[i].Value.Uint64()
		}
		live, overhead := v[0], overheadOf(v[1], v[2], v[3], v[4])
		want := memoryLimitFor(live, overhead)
		recent = append(recent, want)
		if len(recent) > raiseAfter {
			recent = recent[1:]
		}
		next, ok := nextLimit(cur, recent)
		if ok {
			lim.setBase(next)
			log.Debug("memory limit follows the live heap", "GOMEMLIMIT", next, "live", live, "overhead", overhead)
			cur = next
		}
	}
}

// nextLimit is the limit to move to from cur, given the limits wanted at
// the last ticks (oldest first), and whether to move at all.
func nextLimit(cur int64, recent []int64) (int64, bool) {
	last := recent[len(recent)-1]
	if cur-last > cur/10 {
		return last, true
	}
	if len(recent) < raiseAfter {
		return cur, false
	}
	least := slices.Min(recent)
	return least, least > cur
}

// overheadOf is the runtime's memory that counts against the limit and is
// neither heap objects nor free heap: stacks, GC metadata, the unused
// parts of in-use spans.
func overheadOf(total, released, objects, free uint64) uint64 {
	used := released + objects + free
	if used >= total {
		return 0
	}
	return total - used
}

// memoryLimitFor is the default soft limit for a live heap of live bytes
// and overhead bytes of the runtime's other memory.
func memoryLimitFor(live, overhead uint64) int64 {
	want := (float64(live)*liveHeadroom + float64(overhead)) / limitReserve
	return max(int64(defaultMemoryLimit), int64(want))
}
