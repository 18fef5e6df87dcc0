package ratelimit

import (
	"context"
	"sync"
	"time"
)

// MemoryStore keeps counters in this process (policy=cluster): every Envoy
// talking to the process shares them. Take is atomic: concurrent requests
// never both take the last unit.
type MemoryStore struct {
	now func() time.Time

	mu        sync.Mutex
	counts    map[string]memoryCount
	nextSweep time.Time
}

type memoryCount struct {
	n       int64
	expires time.Time
}

// sweepEvery bounds how long expired counters linger (one pass over the map).
const sweepEvery = 10 * time.Second

// NewMemoryStore returns an empty store; now is the clock (nil: time.Now).
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, counts: make(map[string]memoryCount)}
}

// Take implements Store.
func (m *MemoryStore) Take(_ context.Context, counters []Counter, admit func([]int64) bool) ([]int64, bool, error) {
	now := m.now()
	usage := make([]int64, len(counters))
	m.mu.Lock()
	defer m.mu.Unlock()
	if !now.Before(m.nextSweep) {
		m.sweep(now)
	}
	for i, c := range counters {
		if e, ok := m.counts[c.Key]; ok && now.Before(e.expires) {
			usage[i] = e.n
		}
	}
	if !admit(usage) {
		return usage, false, nil
	}
	for i, c := range counters {
		e := m.counts[c.Key]
		if usage[i] == 0 {
			e = memoryCount{expires: now.Add(c.TTL)}
		}
		e.n++
		m.counts[c.Key] = e
	}
	return usage, true, nil
}

// Len is the number of counters held (expired ones until the next sweep).
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.counts)
}

func (m *MemoryStore) sweep(now time.Time) {
	for k, e := range m.counts {
		if !now.Before(e.expires) {
			delete(m.counts, k)
		}
	}
	m.nextSweep = now.Add(sweepEvery)
}
