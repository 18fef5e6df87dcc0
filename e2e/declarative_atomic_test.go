package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// atomicRoutes is the size of the file the atomicity test swaps.
const atomicRoutes = 5000

// routesFile is a declarative file of n routes /r<i>, all under the
// service named owner; the other service has one route of its own, so that
// both clusters exist in either file and only the routes move.
func routesFile(n int, owner string, urls map[string]string) string {
	services := []any{}
	for _, name := range []string{"blue", "green"} {
		svc := map[string]any{"name": name, "url": urls[name],
			"routes": []any{map[string]any{"name": name + "-probe", "paths": []string{"/probe-" + name}}}}
		if name == owner {
			routes := svc["routes"].([]any)
			for i := range n {
				routes = append(routes, map[string]any{"name": fmt.Sprintf("r%d", i), "paths": []string{fmt.Sprintf("/r%d", i)}})
			}
			svc["routes"] = routes
		}
		services = append(services, svc)
	}
	b, _ := json.Marshal(map[string]any{"_format_version": "3.0", "services": services})
	return string(b)
}

// TestDeclarative_FileIsAtomicInEnvoy applies a file of 5,000 routes, all
// on the blue service, then the same routes on the green one, while a
// poller walks the routes through Envoy. Every answer must be blue or
// green (never a 404 or 503), and once a green answer is seen no blue one
// may follow: Envoy switched from the old file to the new at once, never
// holding a mix. The time until Envoy served each file is logged for the
// closing note (never asserted).
func TestDeclarative_FileIsAtomicInEnvoy(t *testing.T) {
	t.Parallel()
	blue, green := startBackend(t, "blue"), startBackend(t, "green")
	s := startStack(t, stackOptions{})
	urls := map[string]string{"blue": blue.URL(), "green": green.URL()}

	start := time.Now()
	if r := s.postConfig("", "application/json", routesFile(atomicRoutes, "blue", urls)); r.status != http.StatusCreated {
		t.Fatalf("POST /config (blue): %d %.300s", r.status, r.body)
	}
	applied := time.Since(start)
	last := fmt.Sprintf("/r%d", atomicRoutes-1)
	eventually(t, 2*convergeBound, "the blue file through Envoy", func() (bool, string) {
		r := s.get(last, "")
		return r.backend == "blue", r.String()
	})
	t.Logf("%d routes: POST /config %s, Envoy served the last route %s after the POST began",
		atomicRoutes, applied.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	s.sweep("blue")

	// The poller: routes in a stride that visits far-apart ones in turn,
	// bounded in count and time.
	var (
		mu       sync.Mutex
		mixed    []string
		answers  = map[string]int{}
		sawGreen bool
		stop     = make(chan struct{})
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		deadline := time.Now().Add(2 * convergeBound)
		for i := 0; i < 200000 && time.Now().Before(deadline); i++ {
			select {
			case <-stop:
				return
			default:
			}
			path := fmt.Sprintf("/r%d", (i*7919)%atomicRoutes)
			r := s.get(path, "")
			mu.Lock()
			switch {
			case r.backend == "green":
				sawGreen = true
			case r.backend == "blue" && sawGreen:
				mixed = append(mixed, path+" blue after green")
			case r.backend != "blue":
				mixed = append(mixed, path+" "+r.String())
			}
			answers[r.backend]++
			mu.Unlock()
		}
	}()
	start = time.Now()
	if r := s.postConfig("", "application/json", routesFile(atomicRoutes, "green", urls)); r.status != http.StatusCreated {
		t.Fatalf("POST /config (green): %d %.300s", r.status, r.body)
	}
	applied = time.Since(start)
	eventually(t, 2*convergeBound, "the green file through Envoy", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return sawGreen && answers["green"] >= 200, fmt.Sprint(answers)
	})
	t.Logf("%d routes moved: POST /config %s, the poller saw green %s after the POST began",
		atomicRoutes, applied.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	close(stop)
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(mixed) > 0 {
		t.Errorf("Envoy served a mix of the two files (%d answers; counts %v), first: %v", len(mixed), answers, mixed[:min(5, len(mixed))])
	}
	if answers["blue"] == 0 {
		t.Errorf("the poller never saw the old file (counts %v): it proved nothing", answers)
	}
	s.sweep("green")
}

// sweep checks every route of the file answers from backend.
func (s *stack) sweep(backend string) {
	s.t.Helper()
	for i := range atomicRoutes {
		if r := s.get(fmt.Sprintf("/r%d", i), ""); r.backend != backend {
			s.t.Fatalf("/r%d: %s, want %s", i, r, backend)
		}
	}
}
