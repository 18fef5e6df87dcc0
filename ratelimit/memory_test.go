package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rlcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
)

// policy=cluster is exact under concurrency: the memory store reads and
// increments under one lock, so 8 Envoys racing for 100 units get 100.
func TestMemoryExactUnderConcurrency(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	s := New(Options{Now: clock.Now})
	req := &rlsv3.RateLimitRequest{Descriptors: []*rlcommonv3.RateLimitDescriptor{desc("kong_minute=100", "kong_hour=1000", "remote_address=1.1.1.1")}}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				resp, err := s.ShouldRateLimit(context.Background(), req)
				if err != nil {
					t.Error(err)
					return
				}
				if resp.GetOverallCode() == rlsv3.RateLimitResponse_OK {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 100 {
		t.Fatalf("admitted %d of 400, want 100", admitted.Load())
	}
}

// Expired counters are forgotten: the map does not grow without bound.
func TestMemorySweep(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m := NewMemoryStore(func() time.Time { return now })
	admit := func([]int64) bool { return true }
	for i := range 100 {
		_, _, _ = m.Take(context.Background(), []Counter{{Key: string(rune('a' + i)), TTL: time.Second}}, admit)
	}
	now = now.Add(sweepEvery)
	_, _, _ = m.Take(context.Background(), []Counter{{Key: "z", TTL: time.Second}}, admit)
	if m.Len() != 1 {
		t.Fatalf("%d counters after the sweep, want 1", m.Len())
	}
}
