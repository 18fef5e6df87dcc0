package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// RevisionHeader carries the store revision on every Admin API answer.
const RevisionHeader = "X-Switchboard-Revision"

// Admin is a client of the Kong-compatible Admin API.
type Admin struct {
	base string
	c    *http.Client
}

// NewAdmin returns a client for the Admin API at addr (host:port). Its
// transport keeps enough idle connections for 64 parallel writers.
func NewAdmin(addr string) *Admin {
	return &Admin{base: "http://" + addr, c: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 64},
	}}
}

// Close drops idle connections.
func (a *Admin) Close() { a.c.CloseIdleConnections() }

// Response is one Admin API answer.
type Response struct {
	Status   int
	Body     []byte
	Revision uint64
}

// Do sends body (nil, or any value encoded as JSON) to path.
func (a *Admin) Do(method, path string, body any) (Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	rev, _ := strconv.ParseUint(resp.Header.Get(RevisionHeader), 10, 64)
	return Response{Status: resp.StatusCode, Body: b, Revision: rev}, nil
}

// Must is Do that fails unless the status is want.
func (a *Admin) Must(method, path string, body any, want int) (Response, error) {
	r, err := a.Do(method, path, body)
	if err != nil {
		return r, err
	}
	if r.Status != want {
		return r, fmt.Errorf("%s %s: status %d, want %d: %s", method, path, r.Status, want, bytes.TrimSpace(r.Body))
	}
	return r, nil
}

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
				_, err := a.Must(op.Method, op.Path, op.Body, op.Want)
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
