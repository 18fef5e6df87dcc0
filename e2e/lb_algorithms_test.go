package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLoadBalancing_Algorithms runs Kong's balancing algorithms through a
// real Envoy: round robin (equal and 2:1 weights), least-connections, and
// consistent hashing on a header, a cookie, the client IP and a query
// argument. One stack; every algorithm has its own upstream over the same
// three backends.
func TestLoadBalancing_Algorithms(t *testing.T) {
	t.Parallel()
	p, q, r := startCtlBackend(t, "p"), startCtlBackend(t, "q"), startCtlBackend(t, "r")
	all := []*ctlBackend{p, q, r}
	s := startStack(t, stackOptions{})

	t.Run("round robin spreads evenly", func(t *testing.T) {
		upstreamSetup{name: "rr", targets: all}.create(s)
		s.converge("round-robin upstream", func() (bool, string) {
			counts := s.spread("/rr", 9)
			return counts["p"] > 0 && counts["q"] > 0 && counts["r"] > 0, fmtCounts(counts)
		})
		counts := s.spread("/rr", 300)
		t.Logf("300 requests: %s", fmtCounts(counts))
		for _, b := range all {
			if c := counts[b.name]; c < 90 || c > 110 {
				t.Errorf("%s got %d of 300, want 100±10%% (%s)", b.name, c, fmtCounts(counts))
			}
		}
	})

	t.Run("weights 2:1", func(t *testing.T) {
		upstreamSetup{name: "wrr", targets: []*ctlBackend{p, q}, weights: []int{200, 100}}.create(s)
		s.converge("weighted upstream", func() (bool, string) { return sawBoth(s, "/wrr", "p", "q") })
		counts := s.spread("/wrr", 300)
		t.Logf("300 requests: %s", fmtCounts(counts))
		if c := counts["p"]; c < 180 || c > 220 || counts["p"]+counts["q"] != 300 {
			t.Errorf("p got %d of 300, want 200±10%% (%s)", c, fmtCounts(counts))
		}
	})

	t.Run("least-connections avoids the busy target", func(t *testing.T) {
		upstreamSetup{name: "lc", targets: []*ctlBackend{p, q}, upstream: form("algorithm", "least-connections")}.create(s)
		s.converge("least-connections upstream", func() (bool, string) { return sawBoth(s, "/lc", "p", "q") })

		// One request held open: whichever target took it is busy.
		held := make(chan proxyResponse, 1)
		go func() { held <- s.getWith(&http.Client{Timeout: requestTimeout}, "/lc/hold", nil) }()
		var busy, idle *ctlBackend
		eventually(t, convergeBound, "a target holds the slow request", func() (bool, string) {
			switch {
			case p.inFlight.Load() == 1:
				busy, idle = p, q
			case q.inFlight.Load() == 1:
				busy, idle = q, p
			}
			return busy != nil, fmt.Sprintf("in flight p=%d q=%d", p.inFlight.Load(), q.inFlight.Load())
		})
		got := hitsDuring(func() { s.spread("/lc", 30) }, busy, idle)
		t.Logf("%s holds a slow request; 30 new requests: %s=%d %s=%d", busy.name, busy.name, got[0], idle.name, got[1])
		if got[1] != 30 {
			t.Errorf("the idle target %s got %d of 30 new requests, want all", idle.name, got[1])
		}
		busy.releaseHeld()
		if r := <-held; r.err != nil || r.status != 200 {
			t.Errorf("held request: %s", r)
		}
	})

	// Consistent hashing: each case pins one key to a target over 50
	// requests, removes another target, and expects the key to stay.
	hashCases := []struct {
		name     string
		upstream url.Values
		client   func(t *testing.T) *http.Client
		// request is path and headers for the key; first is the answer to
		// the first request (cookie: the Set-Cookie to send back).
		request func(first *proxyResponse) (string, http.Header)
	}{
		{
			name:     "header",
			upstream: form("hash_on", "header", "hash_on_header", "X-Tenant"),
			request: func(*proxyResponse) (string, http.Header) {
				return "/hash-header", http.Header{"X-Tenant": {"tenant-42"}}
			},
		},
		{
			name:     "cookie",
			upstream: form("hash_on", "cookie", "hash_on_cookie", "sticky", "hash_on_cookie_path", "/hash-cookie"),
			request: func(first *proxyResponse) (string, http.Header) {
				if first == nil {
					return "/hash-cookie", nil
				}
				c := (&http.Response{Header: first.header}).Cookies()
				if len(c) == 0 {
					return "/hash-cookie", nil
				}
				return "/hash-cookie", http.Header{"Cookie": {c[0].Name + "=" + c[0].Value}}
			},
		},
		{
			name:     "ip",
			upstream: form("hash_on", "ip"),
			client:   sourceBoundClient,
			request:  func(*proxyResponse) (string, http.Header) { return "/hash-ip", nil },
		},
		{
			name:     "query_arg",
			upstream: form("hash_on", "query_arg", "hash_on_query_arg", "user"),
			request:  func(*proxyResponse) (string, http.Header) { return "/hash-query_arg?user=alice", nil },
		},
	}
	for _, hc := range hashCases {
		t.Run("consistent hashing on "+hc.name, func(t *testing.T) {
			name := "hash-" + hc.name
			upstreamSetup{name: name, targets: all, upstream: hc.upstream}.create(s)
			var client *http.Client
			if hc.client != nil {
				client = hc.client(t)
			}
			path, _ := hc.request(nil)
			s.converge("consistent-hashing upstream ("+hc.name+")", func() (bool, string) {
				r := s.getWith(client, path, nil)
				return r.backend != "", r.String()
			})

			first := s.getWith(client, path, nil)
			if hc.name == "cookie" {
				checkHashCookie(t, first)
			}
			path, hdr := hc.request(&first)
			pinned := pinnedTarget(t, s, client, path, hdr, 50)
			if hc.name == "cookie" && pinned != first.backend {
				t.Errorf("the request that got the cookie went to %s, the cookie pins %s", first.backend, pinned)
			}

			var other *ctlBackend
			for _, b := range all {
				if b.name != pinned {
					other = b
					break
				}
			}
			s.mustAPI("DELETE", "/upstreams/"+name+"/targets/"+other.target(), nil, 204)
			s.converge("target removed from "+name, func() (bool, string) {
				_, still := s.envoyHosts(name)[other.addr()]
				return !still, other.addr() + " still in Envoy's cluster"
			})
			if again := pinnedTarget(t, s, client, path, hdr, 50); again != pinned {
				t.Errorf("removing %s moved the key from %s to %s", other.name, pinned, again)
			}
			t.Logf("key pinned to %s over 50 requests, and still after removing %s", pinned, other.name)
		})
	}
}

// pinnedTarget sends n requests and expects one backend to answer all.
func pinnedTarget(t *testing.T, s *stack, client *http.Client, path string, hdr http.Header, n int) string {
	t.Helper()
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		r := s.getWith(client, path, hdr)
		switch {
		case r.err != nil:
			counts["error"]++
		case r.backend == "":
			counts[fmt.Sprintf("status %d", r.status)]++
		default:
			counts[r.backend]++
		}
	}
	if len(counts) != 1 {
		t.Fatalf("%s: %d requests spread over %s, want one target", path, n, fmtCounts(counts))
	}
	for k := range counts {
		return k
	}
	return ""
}

// checkHashCookie: Envoy sets the hash cookie when the request has none,
// as Kong does, with the upstream's hash_on_cookie_path.
func checkHashCookie(t *testing.T, r proxyResponse) {
	t.Helper()
	sc := r.header.Get("Set-Cookie")
	t.Logf("Set-Cookie: %s", sc)
	if !strings.HasPrefix(sc, "sticky=") || !strings.Contains(sc, "Path=/hash-cookie") {
		t.Errorf("first response Set-Cookie = %q, want sticky=…; Path=/hash-cookie", sc)
	}
}

// sourceBoundClient sends from a fixed loopback address outside the
// backends' 127.0.0.x range, so that hash_on=ip sees one client IP.
func sourceBoundClient(t *testing.T) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.1.77")}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}
