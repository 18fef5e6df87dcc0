package testenv

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one Admin API call of a batch.
type Op struct {
	Kind   string // label for per-kind latencies ("service", "route", …)
	Method string
	Path   string
	Body   any
	Want   int
}

// BatchResult holds the latency of every call of a batch, per kind.
type BatchResult struct {
	Elapsed   time.Duration
	Latencies map[string][]time.Duration
	Count     int
}

// Batch runs ops with workers parallel clients, in order within each
// dependency level (the caller orders ops so that a worker never needs a
// write that another worker has not made yet: see Levels). It stops at
// the first failure and returns it.
func (a *Admin) Batch(ops []Op, workers int) (BatchResult, error) {
	return a.Paced(ops, workers, 0)
}

// Paced is Batch with the calls started no faster than perSec per second
// in total (0: as fast as the workers go), so that a change stream can be
// spread over time instead of landing in one burst.
func (a *Admin) Paced(ops []Op, workers int, perSec float64) (BatchResult, error) {
	res := BatchResult{Latencies: map[string][]time.Duration{}}
	var (
		mu    sync.Mutex
		next  atomic.Int64
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := map[string][]time.Duration{}
			defer func() {
				mu.Lock()
				for k, v := range lat {
					res.Latencies[k] = append(res.Latencies[k], v...)
				}
				mu.Unlock()
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ops) {
					return
				}
				mu.Lock()
				failed := first != nil
				mu.Unlock()
				if failed {
					return
				}
				op := ops[i]
				if perSec > 0 {
					due := start.Add(time.Duration(float64(i) / perSec * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				t0 := time.Now()
				err := a.mustRetrying(op)
				lat[op.Kind] = append(lat[op.Kind], time.Since(t0))
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	for _, v := range res.Latencies {
		res.Count += len(v)
	}
	return res, first
}

// Levels runs each slice of ops as its own Batch, one after the other:
// services before their routes, upstreams before their targets.
func (a *Admin) Levels(workers int, levels ...[]Op) (BatchResult, error) {
	total := BatchResult{Latencies: map[string][]time.Duration{}}
	for _, ops := range levels {
		r, err := a.Batch(ops, workers)
		total.Elapsed += r.Elapsed
		total.Count += r.Count
		for k, v := range r.Latencies {
			total.Latencies[k] = append(total.Latencies[k], v...)
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Bounds of the retry of a call the Admin API answered 503 (the raft log
// refused or timed out the proposal under a bulk load, as a busy Kong node
// answers): a few attempts, with a growing pause.
const (
	busyRetries = 5
	busyPause   = 50 * time.Millisecond
)

// mustRetrying is Must for one batch op, retrying a 503 a bounded number of
// times, as a bulk-loading client would. A create that answers 409 after a
// 503 landed the first time; that counts as done.
func (a *Admin) mustRetrying(op Op) error {
	pause := busyPause
	for attempt := 0; ; attempt++ {
		r, err := a.Do(op.Method, op.Path, op.Body)
		switch {
		case err != nil:
			return err
		case r.Status == op.Want:
			return nil
		case r.Status == http.StatusConflict && attempt > 0 && op.Method == http.MethodPost:
			return nil
		case r.Status == http.StatusServiceUnavailable && attempt < busyRetries:
			time.Sleep(pause) // pacing a retry, not waiting for a condition
			pause *= 2
			continue
		}
		return fmt.Errorf("%s %s: status %d, want %d: %s", op.Method, op.Path, r.Status, op.Want, bytes.TrimSpace(r.Body))
	}
}
