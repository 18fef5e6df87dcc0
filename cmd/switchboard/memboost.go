package main

import (
	"sync"
	"time"
)

// An isolated publish runs with the soft memory limit raised by
// publishBoost for publishBoostWindow. Why: the limit holds the heap goal
// ~10% above the live heap (at most a few MB above it while the limit lags
// a growing heap), so a collection's mark phase (200–1,000 ms at 10,000
// routes with 100 clients on two busy cores) has a runway of a few MB, and
// the runtime makes every allocating goroutine mark in proportion: tens of
// bytes marked per byte allocated. A change that landed in such a cycle
// waited for it: its delta responses and the ACKs allocate. In the scale
// scenario the first target change after the connect storm, whose tail
// keeps the collector cycling, reached all 100 clients after 70–300 ms
// when it met a cycle (gctrace: 66–344 ms of assist CPU in it) and ~10 ms
// otherwise (docs/benchmarks.md). Raising the limit re-paces a cycle in
// progress at once (runtime/debug.SetMemoryLimit), so the fan-out is not
// made to mark; the heap grows only by what the window allocates (about
// 1 MB for one change to 100 streams) and the collector takes it back
// after the window.
//
// Only a publish after boostQuiet without one starts a boost, and the
// boost is not extended: the publishes of a burst (a bulk load, churn)
// would otherwise keep the limit raised, and the heap larger by what they
// allocate, for as long as the burst lasts. A burst's latency is the
// coalescing's anyway.
const (
	publishBoost       = 64 << 20
	publishBoostWindow = 100 * time.Millisecond
	boostQuiet         = 100 * time.Millisecond
)

// memoryLimit owns the runtime's soft limit: the follower's base, plus
// publishBoost during a boost.
type memoryLimit struct {
	set   func(int64) int64 // runtime/debug.SetMemoryLimit
	now   func() time.Time
	after func(time.Duration, func())

	mu       sync.Mutex
	base     int64
	boosted  bool
	lastCall time.Time // the last publish
}

func newMemoryLimit(base int64, set func(int64) int64) *memoryLimit {
	m := &memoryLimit{set: set, now: time.Now, after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }, base: base}
	set(base)
	return m
}

// setBase moves the limit the follower wants.
func (m *memoryLimit) setBase(base int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.base = base
	m.apply()
}

// onPublish is the xds.Options.OnPublish hook (nil without a default
// limit).
func (m *memoryLimit) onPublish() func() {
	if m == nil {
		return nil
	}
	return m.publishing
}

// publishing is called as a publish starts.
func (m *memoryLimit) publishing() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	isolated := m.lastCall.IsZero() || now.Sub(m.lastCall) >= boostQuiet
	m.lastCall = now
	if !isolated || m.boosted {
		return
	}
	m.boosted = true
	m.apply()
	m.after(publishBoostWindow, m.expire)
}

func (m *memoryLimit) expire() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.boosted = false
	m.apply()
}

func (m *memoryLimit) apply() {
	if m.boosted {
		m.set(m.base + publishBoost)
		return
	}
	m.set(m.base)
}
