package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRateLimitingCluster runs rate-limiting policy=cluster through Envoy
// and switchboard's own rate-limit service: the Get Started chapter with
// policy=cluster, several windows at once, hide_client_headers, error_code
// and every limit_by. Each case has its own route (a route instance wins
// over the global one) and its own client addresses.
func TestRateLimitingCluster(t *testing.T) {
	t.Parallel()
	httpbin := startBackend(t, "httpbin")
	s := startStack(t, stackOptions{hosts: map[string]string{"httpbin.test": httpbin.ip}})
	url := fmt.Sprintf("http://httpbin.test:%d", httpbin.port)
	s.mustAPI("POST", "/services", form("name", "example_service", "url", url), 201)
	s.mustAPI("POST", "/services/example_service/routes", form("name", "example_route", "paths[]", "/mock"), 201)
	route := func(name, path string) {
		s.mustAPI("POST", "/services/example_service/routes", form("name", name, "paths[]", path), 201)
	}
	plugin := func(at string, kv ...string) string {
		p := s.mustAPI("POST", at, form(append([]string{"name", "rate-limiting", "config.policy", "cluster"}, kv...)...), 201)
		return p["id"].(string)
	}
	s.converge("example_route", func() (bool, string) {
		a := rlGet(t, s, probeClient(), "/mock/anything")
		return a.status == 200, a.String()
	})
	listenerBefore := listenerVersions(s)
	t.Cleanup(func() {
		if after := listenerVersions(s); !slices.Equal(after, listenerBefore) {
			t.Errorf("Envoy's listener version moved through the rate-limiting changes: %v → %v", listenerBefore, after)
		}
	})

	t.Run("get-started", func(t *testing.T) {
		// The chapter's global instance, with policy=cluster.
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/plugins", "config.minute", "5"))
		inOneWindow(t, time.Minute, func(int) string {
			as := rlSeq(t, s, rlClient(newLoopbackIP(t)), 6, "/mock/anything")
			for i, a := range as[:5] {
				if a.status != 200 || a.header.Get("X-RateLimit-Remaining-Minute") != strconv.Itoa(4-i) ||
					a.header.Get("X-RateLimit-Limit-Minute") != "5" || a.header.Get("RateLimit-Limit") != "5" {
					return fmt.Sprintf("request %d: %s", i+1, a)
				}
			}
			last := as[5]
			if last.status != 429 || last.body != `{"message":"API rate limit exceeded"}` ||
				last.header.Get("Content-Type") != "application/json; charset=utf-8" {
				return "6th: " + last.String()
			}
			if ra, _ := strconv.Atoi(last.header.Get("Retry-After")); ra < 1 || ra > 60 || last.header.Get("RateLimit-Remaining") != "0" {
				return "6th headers: " + last.String()
			}
			return ""
		})
	})

	t.Run("several-windows", func(t *testing.T) {
		route("windows", "/windows")
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/routes/windows/plugins", "config.minute", "3", "config.hour", "100"))
		inOneWindow(t, time.Minute, func(int) string {
			as := rlSeq(t, s, rlClient(newLoopbackIP(t)), 4, "/windows")
			for i, a := range as[:3] {
				if a.status != 200 || a.header.Get("X-RateLimit-Remaining-Minute") != strconv.Itoa(2-i) ||
					a.header.Get("X-RateLimit-Remaining-Hour") != strconv.Itoa(99-i) || a.header.Get("X-RateLimit-Limit-Hour") != "100" {
					return fmt.Sprintf("request %d: %s", i+1, a)
				}
			}
			// Rejected: only the minute rejects, the hour is not counted.
			last := as[3]
			if last.status != 429 || last.header.Get("X-RateLimit-Remaining-Minute") != "0" ||
				last.header.Get("X-RateLimit-Remaining-Hour") != "97" || last.header.Get("RateLimit-Limit") != "3" {
				return "4th: " + last.String()
			}
			return ""
		})
	})

	t.Run("hide-client-headers", func(t *testing.T) {
		route("hide", "/hide")
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/routes/hide/plugins", "config.hour", "1", "config.hide_client_headers", "true"))
		as := rlSeq(t, s, rlClient(newLoopbackIP(t)), 2, "/hide")
		if rlCodes(as) != "200,429" {
			t.Fatalf("statuses %s: %v", rlCodes(as), as)
		}
		for _, a := range as {
			for k := range a.header {
				if strings.Contains(strings.ToLower(k), "ratelimit") || k == "Retry-After" {
					t.Errorf("%d carries %s with hide_client_headers", a.status, k)
				}
			}
		}
	})

	t.Run("error-code", func(t *testing.T) {
		route("errcode", "/errcode")
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/routes/errcode/plugins", "config.hour", "1",
			"config.error_code", "404", "config.error_message", "Fake Not Found"))
		as := rlSeq(t, s, rlClient(newLoopbackIP(t)), 2, "/errcode")
		if as[0].status != 200 || as[1].status != 404 || as[1].body != `{"message":"Fake Not Found"}` {
			t.Fatalf("want 200 then 404 Fake Not Found: %v", as)
		}
		if as[1].header.Get("Retry-After") == "" || as[1].header.Get("X-Sb-Rl-Status") != "" {
			t.Errorf("404: Retry-After kept, internal header gone, as Kong: %s", as[1])
		}
	})

	t.Run("limit-by-ip", func(t *testing.T) {
		route("byip", "/byip")
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/routes/byip/plugins", "config.hour", "2", "config.limit_by", "ip"))
		a, b := rlClient(newLoopbackIP(t)), rlClient(newLoopbackIP(t))
		if got := rlCodes(append(rlSeq(t, s, a, 3, "/byip"), rlGet(t, s, b, "/byip"))); got != "200,200,429,200" {
			t.Fatalf("client a ×3, then b: %s", got)
		}
	})

	t.Run("limit-by-header", func(t *testing.T) {
		route("byheader", "/byheader")
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/routes/byheader/plugins", "config.hour", "2",
			"config.limit_by", "header", "config.header_name", "X-Tenant"))
		a, b := rlClient(newLoopbackIP(t)), rlClient(newLoopbackIP(t))
		got := []rlAnswer{rlGet(t, s, a, "/byheader", "X-Tenant", "one"), rlGet(t, s, b, "/byheader", "x-tenant", "one"),
			rlGet(t, s, a, "/byheader", "X-Tenant", "one"), rlGet(t, s, a, "/byheader", "X-Tenant", "two")}
		// Without the header: Kong's fallback to the client IP.
		got = append(got, rlSeq(t, s, b, 3, "/byheader")...)
		if c := rlCodes(got); c != "200,200,429,200,200,200,429" {
			t.Fatalf("tenant one from a, b, a; tenant two; b without header ×3: %s", c)
		}
	})

	t.Run("limit-by-path", func(t *testing.T) {
		route("bypath", "/bypath")
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/routes/bypath/plugins", "config.hour", "2",
			"config.limit_by", "path", "config.path", "/bypath/one"))
		a, b, c := rlClient(newLoopbackIP(t)), rlClient(newLoopbackIP(t)), rlClient(newLoopbackIP(t))
		got := []rlAnswer{rlGet(t, s, a, "/bypath/one"), rlGet(t, s, b, "/bypath/one?x=1"), rlGet(t, s, c, "/bypath/one"),
			// Another path counts per IP: a's own counter is untouched.
			rlGet(t, s, a, "/bypath/two"), rlGet(t, s, a, "/bypath/two"), rlGet(t, s, a, "/bypath/two")}
		if codes := rlCodes(got); codes != "200,200,429,200,200,429" {
			t.Fatalf("/bypath/one from a, b, c; /bypath/two from a ×3: %s", codes)
		}
	})

	t.Run("limit-by-service", func(t *testing.T) {
		// A service instance counts once per service, across its routes
		// and clients.
		s.mustAPI("POST", "/services", form("name", "svc2", "url", url), 201)
		s.mustAPI("POST", "/services/svc2/routes", form("name", "svc2-a", "paths[]", "/svc2-a"), 201)
		s.mustAPI("POST", "/services/svc2/routes", form("name", "svc2-b", "paths[]", "/svc2-b"), 201)
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/services/svc2/plugins", "config.hour", "3", "config.limit_by", "service"))
		got := []rlAnswer{rlGet(t, s, rlClient(newLoopbackIP(t)), "/svc2-a"), rlGet(t, s, rlClient(newLoopbackIP(t)), "/svc2-b"),
			rlGet(t, s, rlClient(newLoopbackIP(t)), "/svc2-a"), rlGet(t, s, rlClient(newLoopbackIP(t)), "/svc2-b")}
		if codes := rlCodes(got); codes != "200,200,200,429" {
			t.Fatalf("four clients over two routes of svc2: %s", codes)
		}
	})

	t.Run("consumers-after-key-auth", func(t *testing.T) {
		route("keyed", "/keyed")
		s.mustAPI("POST", "/routes/keyed/plugins", form("name", "key-auth"), 201)
		ids := map[string]string{}
		for _, u := range []string{"alice", "bob", "carol", "dave"} {
			ids[u] = s.mustAPI("POST", "/consumers", form("username", u), 201)["id"].(string)
			s.mustAPI("POST", "/consumers/"+u+"/key-auth", form("key", u+"-key"), 201)
		}
		// The route's instance counts per consumer (limit_by's default);
		// alice has an instance of her own, which wins for her (Kong's
		// consumer scope ranks above the route's).
		routeID := plugin("/routes/keyed/plugins", "config.hour", "3")
		aliceID := plugin("/consumers/alice/plugins", "config.hour", "1")
		waitRoutesContain(t, s.envoyAdminAddr, routeID, aliceID)
		// Envoy's config dump hides keys: dave (whose counter no case
		// reads) probes that the last key is in.
		eventually(t, convergeBound, "keys in Envoy", func() (bool, string) {
			a := rlGet(t, s, probeClient(), "/keyed", "apikey", "dave-key")
			return a.status == 200, a.String()
		})
		c := rlClient(newLoopbackIP(t)) // one client address for all three
		alice := rlSeq(t, s, c, 2, "/keyed", "apikey", "alice-key")
		if rlCodes(alice) != "200,429" || alice[0].header.Get("X-RateLimit-Limit-Hour") != "1" {
			t.Fatalf("alice (own instance, 1/hour): %v", alice)
		}
		bob := rlSeq(t, s, c, 4, "/keyed", "apikey", "bob-key")
		if strings.Contains(strings.ToLower(bob[0].body), "x-sb-rl") {
			t.Errorf("the internal identity headers reached the upstream: %s", bob[0].body)
		}
		if rlCodes(bob) != "200,200,200,429" || bob[0].header.Get("X-RateLimit-Limit-Hour") != "3" {
			t.Fatalf("bob (route instance, 3/hour, his own counter): %v", bob)
		}
		// carol claims to be alice, in Kong's header and in the internal
		// one: the limits follow the key, never a header.
		carol := rlGet(t, s, c, "/keyed", "apikey", "carol-key", "X-Consumer-ID", ids["alice"], "X-Sb-Rl-Consumer", ids["alice"])
		if carol.status != 200 || carol.header.Get("X-RateLimit-Remaining-Hour") != "2" {
			t.Fatalf("carol: %s", carol)
		}
	})

	t.Run("global-counter-shared-across-routes", func(t *testing.T) {
		// Kong counts a global instance per client across every route it
		// applies to (spec "global for single consumer"): /mock and /shared
		// have no instance of their own, so the chapter's global one (5 a
		// minute) applies to both with one counter.
		route("shared", "/shared")
		waitRoutesContain(t, s.envoyAdminAddr, "/shared")
		inOneWindow(t, time.Minute, func(int) string {
			c := rlClient(newLoopbackIP(t))
			as := append(rlSeq(t, s, c, 3, "/mock/anything"), rlSeq(t, s, c, 3, "/shared")...)
			if got := rlCodes(as); got != "200,200,200,200,200,429" {
				return "3 on /mock then 3 on /shared: " + got
			}
			return ""
		})
	})

	t.Run("limit-by-credential-and-anonymous", func(t *testing.T) {
		route("cred", "/cred")
		erin := s.mustAPI("POST", "/consumers", form("username", "erin"), 201)["id"].(string)
		anon := s.mustAPI("POST", "/consumers", form("username", "anon"), 201)["id"].(string)
		for _, k := range []string{"erin-1", "erin-2"} {
			s.mustAPI("POST", "/consumers/erin/key-auth", form("key", k), 201)
		}
		s.mustAPI("POST", "/routes/cred/plugins", form("name", "key-auth", "config.anonymous", anon), 201)
		id := plugin("/routes/cred/plugins", "config.hour", "2", "config.limit_by", "credential")
		waitRoutesContain(t, s.envoyAdminAddr, id, erin)
		eventually(t, convergeBound, "erin's keys in Envoy", func() (bool, string) {
			a := rlGet(t, s, probeClient(), "/cred", "apikey", "erin-2")
			return a.header.Get("X-RateLimit-Limit-Hour") == "2", a.String()
		})
		c := rlClient(newLoopbackIP(t))
		// One counter per key of the same consumer (erin-2 already spent
		// one in the probe above).
		if got := rlCodes(rlSeq(t, s, c, 3, "/cred", "apikey", "erin-1")); got != "200,200,429" {
			t.Errorf("erin-1: %s", got)
		}
		if got := rlCodes(rlSeq(t, s, c, 2, "/cred", "apikey", "erin-2")); got != "200,429" {
			t.Errorf("erin-2: %s", got)
		}
		// Anonymous requests have no credential: Kong falls back to the IP.
		if got := rlCodes(append(rlSeq(t, s, c, 3, "/cred"), rlGet(t, s, rlClient(newLoopbackIP(t)), "/cred"))); got != "200,200,429,200" {
			t.Errorf("anonymous from one IP ×3, then another IP: %s", got)
		}
	})

	// Last: a second Envoy joins (it shares the proxy port through
	// SO_REUSEPORT, so each new connection lands on either). policy=cluster
	// counts once for both: exactly 5 of the requests pass, though both
	// Envoys served some — with a counter per Envoy more would.
	t.Run("two-envoys-one-counter", func(t *testing.T) {
		_, admin2, err := s.env.StartExternalEnvoy("edge-2", false)
		if err != nil {
			t.Fatalf("second Envoy: %v", err)
		}
		route("two", "/two")
		id := plugin("/routes/two/plugins", "config.hour", "5")
		waitRoutesContain(t, s.envoyAdminAddr, id)
		waitRoutesContain(t, admin2, id)
		before := []int{envoyRequests(t, s.envoyAdminAddr), envoyRequests(t, admin2)}
		c := rlClient(newLoopbackIP(t))
		var as []rlAnswer
		served := []int{0, 0}
		for len(as) < 7 || served[0] == 0 || served[1] == 0 {
			if len(as) == 40 {
				t.Fatalf("40 connections, all to one Envoy (served %v)", served)
			}
			as = append(as, rlGet(t, s, c, "/two"))
			served = []int{envoyRequests(t, s.envoyAdminAddr) - before[0], envoyRequests(t, admin2) - before[1]}
		}
		passed := 0
		for _, a := range as {
			if a.status == 200 {
				passed++
			} else if a.status != 429 {
				t.Fatalf("unexpected answer %s", a)
			}
		}
		if passed != 5 {
			t.Fatalf("%d of %d requests passed over two Envoys (served %v), want 5: %s", passed, len(as), served, rlCodes(as))
		}
		t.Logf("%d requests, Envoys served %v, 5 passed", len(as), served)
	})
}

var downstreamRqRe = regexp.MustCompile(`(?m)^http\.proxy\.downstream_rq_total: (\d+)$`)

// envoyRequests is how many requests the Envoy at admin has received on
// its proxy listener.
func envoyRequests(t *testing.T, admin string) int {
	t.Helper()
	body, err := getText("http://" + admin + "/stats?filter=^http\\.proxy\\.downstream_rq_total$")
	if err != nil {
		t.Fatal(err)
	}
	m := downstreamRqRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no http.proxy.downstream_rq_total in %q", body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
