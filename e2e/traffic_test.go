package e2e

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// traffic is a bounded background load through Envoy that records every
// answer, for tests that must see zero failed requests while the control
// plane dies, restarts or fails over. Half the requests reuse connections,
// half open new ones, so both paths through Envoy are covered.
type traffic struct {
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	mu       sync.Mutex
	total    int
	failures map[string]int // failure description → count
}

// startTraffic sends GET url from workers goroutines until stopped, or
// until maxRequests or maxDuration is reached.
func startTraffic(url, wantBackend string, workers, maxRequests int, maxDuration time.Duration) *traffic {
	tr := &traffic{stop: make(chan struct{}), failures: map[string]int{}}
	deadline := time.Now().Add(maxDuration)
	per := maxRequests / workers
	for w := 0; w < workers; w++ {
		tr.wg.Add(1)
		go func(w int) {
			defer tr.wg.Done()
			client := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DisableKeepAlives: w%2 == 1}}
			defer client.CloseIdleConnections()
			for i := 0; i < per && time.Now().Before(deadline); i++ {
				select {
				case <-tr.stop:
					return
				default:
				}
				tr.record(get(client, url, wantBackend))
				time.Sleep(2 * time.Millisecond) // a steady, not a saturating, load
			}
		}(w)
	}
	return tr
}

func get(client *http.Client, url, wantBackend string) string {
	resp, err := client.Get(url)
	if err != nil {
		return "error: " + err.Error()
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	if b := resp.Header.Get(backendHeader); wantBackend != "" && b != wantBackend {
		return fmt.Sprintf("backend %q", b)
	}
	return ""
}

func (tr *traffic) record(failure string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.total++
	if failure != "" {
		tr.failures[failure]++
	}
}

// snapshot returns the number of requests so far and a description of the
// failures.
func (tr *traffic) snapshot() (total, failed int, detail string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var parts []string
	for f, n := range tr.failures {
		failed += n
		parts = append(parts, fmt.Sprintf("%d× %s", n, f))
	}
	sort.Strings(parts)
	return tr.total, failed, strings.Join(parts, "; ")
}

// finish stops the load and waits for the workers; calling it again is a
// no-op beyond reporting.
func (tr *traffic) finish() (total, failed int, detail string) {
	tr.stopOnce.Do(func() { close(tr.stop) })
	tr.wg.Wait()
	return tr.snapshot()
}
