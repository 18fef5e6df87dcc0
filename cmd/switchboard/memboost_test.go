package main

import (
	"testing"
	"time"
)

// fakeLimit is a memoryLimit on a fake clock whose timers fire only when
// the test says so.
type fakeLimit struct {
	*memoryLimit
	clock  time.Time
	limits []int64 // every limit set, in order
	timers []func()
}

func newFakeLimit(base int64) *fakeLimit {
	f := &fakeLimit{clock: time.Unix(0, 0)}
	f.memoryLimit = newMemoryLimit(base, func(v int64) int64 { f.limits = append(f.limits, v); return 0 })
	f.now = func() time.Time { return f.clock }
	f.after = func(_ time.Duration, fn func()) { f.timers = append(f.timers, fn) }
	return f
}

func (f *fakeLimit) last() int64 { return f.limits[len(f.limits)-1] }

func (f *fakeLimit) fire() {
	ts := f.timers
	f.timers = nil
	for _, fn := range ts {
		fn()
	}
}

func TestMemoryLimit_IsolatedPublishBoosts(t *testing.T) {
	const m = 1 << 20
	f := newFakeLimit(160 * m)
	f.publishing()
	if f.last() != 160*m+publishBoost || len(f.timers) != 1 {
		t.Fatalf("limit %d MiB, %d timers; want the boost and its end scheduled", f.last()/m, len(f.timers))
	}
	// The follower moves the base meanwhile: the boost stays on top.
	f.setBase(170 * m)
	if f.last() != 170*m+publishBoost {
		t.Fatalf("limit %d MiB during a boost after the base moved, want %d", f.last()/m, (170*m+publishBoost)/m)
	}
	f.clock = f.clock.Add(publishBoostWindow)
	f.fire()
	if f.last() != 170*m {
		t.Fatalf("limit %d MiB after the window, want the base 170", f.last()/m)
	}
}

func TestMemoryLimit_BurstIsNotBoosted(t *testing.T) {
	const m = 1 << 20
	f := newFakeLimit(160 * m)
	f.publishing() // the burst's first publish follows a quiet spell
	for range 10 {
		f.clock = f.clock.Add(boostQuiet / 4)
		f.publishing()
	}
	if len(f.timers) != 1 {
		t.Fatalf("%d boosts scheduled in a burst, want the first one only (not extended)", len(f.timers))
	}
	f.fire()
	f.clock = f.clock.Add(boostQuiet / 4)
	f.publishing() // still the burst
	if f.last() != 160*m || len(f.timers) != 0 {
		t.Fatalf("limit %d MiB, %d timers after a publish within the burst; want the base, no boost", f.last()/m, len(f.timers))
	}
	f.clock = f.clock.Add(boostQuiet)
	f.publishing() // after a quiet spell: isolated again
	if f.last() != 160*m+publishBoost {
		t.Fatalf("limit %d MiB for a publish after %s without one, want the boost", f.last()/m, boostQuiet)
	}
}

func TestMemoryLimit_OperatorLimitHasNoHook(t *testing.T) {
	var lim *memoryLimit // GOMEMLIMIT set: applyMemoryLimit returns nil
	if lim.onPublish() != nil {
		t.Fatal("a nil memoryLimit must give no OnPublish hook")
	}
}
