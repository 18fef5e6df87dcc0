package main

import (
	"net/http"
	"strings"
	"sync/atomic"
)

// startupGate holds the Kong endpoints of the Admin API at 503 until the
// node has caught up with the replicated log: before that, reads would show
// an empty or stale store and writes would find no leader. The internal
// /_switchboard/ paths (a starting follower asks the leader how far to catch
// up through them) and /clustering/ stay open, so operators can watch the
// node come up.
type startupGate struct {
	next  http.Handler
	ready atomic.Bool
}

func (g *startupGate) open() { g.ready.Store(true) }

func (g *startupGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.ready.Load() || strings.HasPrefix(r.URL.Path, "/_switchboard/") || strings.HasPrefix(r.URL.Path, "/clustering/") {
		g.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"message":"switchboard is starting: the configuration store is not ready yet"}` + "\n"))
}
