package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestGetStarted_ServicesAndRoutes follows Kong's "Services and Routes"
// page: a service from a URL, a route on /mock, and a request through the
// proxy that reaches the backend as /anything with Kong's forwarded headers.
func TestGetStarted_ServicesAndRoutes(t *testing.T) {
	t.Parallel()
	httpbin := startBackend(t, "httpbin")
	s := startStack(t, stackOptions{hosts: map[string]string{"httpbin.test": httpbin.ip}})
	serviceURL := fmt.Sprintf("http://httpbin.test:%d", httpbin.port)

	svc := s.mustAPI("POST", "/services", form("name", "example_service", "url", serviceURL), 201)
	if svc["host"] != "httpbin.test" || svc["protocol"] != "http" || svc["port"] != float64(httpbin.port) {
		t.Errorf("service from url: host %v protocol %v port %v", svc["host"], svc["protocol"], svc["port"])
	}
	s.mustAPI("GET", "/services/example_service", nil, 200)
	if got := s.mustAPI("PATCH", "/services/example_service", form("retries", "6"), 200); got["retries"] != float64(6) {
		t.Errorf("PATCH retries=6: retries = %v", got["retries"])
	}
	s.mustAPI("GET", "/services", nil, 200)
	route := s.mustAPI("POST", "/services/example_service/routes", form("paths[]", "/mock", "name", "example_route"), 201)
	if route["strip_path"] != true || route["preserve_host"] != false {
		t.Errorf("route defaults: strip_path %v preserve_host %v", route["strip_path"], route["preserve_host"])
	}

	var r proxyResponse
	s.converge("service and route", func() (bool, string) {
		r = s.get("/mock/anything", "")
		return r.backend == "httpbin", r.String()
	})

	// Tagging the route is part of the page; it must not disturb routing.
	if got := s.mustAPI("PATCH", "/services/example_service/routes/example_route", form("tags", "tutorial"), 200); fmt.Sprint(got["tags"]) != "[tutorial]" {
		t.Errorf("tags = %v", got["tags"])
	}
	s.mustAPI("GET", "/routes", nil, 200)

	r = s.get("/mock/anything?x=1", "")
	e, err := r.echo()
	if r.status != 200 || err != nil {
		t.Fatalf("GET /mock/anything: %s (%v)", r, err)
	}
	if e.Method != "GET" || e.Path != "/anything" || e.Args["x"] != "1" {
		t.Errorf("backend saw %s %s args %v; want GET /anything (strip_path) with x=1", e.Method, e.Path, e.Args)
	}
	// preserve_host=false: the service's host, with the port as Kong adds a
	// non-default one.
	host, _ := e.header("Host")
	wantHost(t, host, "httpbin.test", httpbin.port)

	for _, h := range []struct{ name, want string }{
		{"X-Forwarded-Proto", "http"},
		{"X-Forwarded-Path", "/mock/anything"},
		{"X-Forwarded-Prefix", "/mock"},
	} {
		got, ok := e.header(h.name)
		if !ok || got != h.want {
			t.Errorf("%s = %q (present %v), want %q", h.name, got, ok, h.want)
		}
	}
	// Kong sends the client's host without the port (nginx $host) and the
	// port in X-Forwarded-Port; Envoy's append_x_forwarded_host keeps the
	// Host header as sent. Either names the client's host.
	proxyIP, _, _ := net.SplitHostPort(s.proxyAddr)
	if got, _ := e.header("X-Forwarded-Host"); got != proxyIP && got != s.proxyAddr {
		t.Errorf("X-Forwarded-Host = %q, want %q (or %q)", got, proxyIP, s.proxyAddr)
	}
	// X-Forwarded-For ends with the client address. For a loopback client
	// Envoy appends its own local (non-loopback) address instead, where
	// Kong would append 127.0.0.1; both are an IP of this machine.
	xff, _ := e.header("X-Forwarded-For")
	parts := strings.Split(xff, ",")
	if last := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(last) == nil {
		t.Errorf("X-Forwarded-For = %q, want it to end with the client's address", xff)
	} else if last != "127.0.0.1" {
		t.Logf("X-Forwarded-For = %q: Envoy's local address for a loopback client (Kong: 127.0.0.1)", xff)
	}
}

// TestGetStarted_LoadBalancing is Kong's "Load Balancing" page command for
// command, after the service and route of the previous page: an upstream
// with two hostname targets, the service pointed at it, then requests that
// split evenly and reach each target with its own hostname as Host. It
// runs once per xDS flavour the local Envoy can speak.
func TestGetStarted_LoadBalancing(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"sotw", "delta"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			testLoadBalancingPage(t, mode == "delta")
		})
	}
}

func testLoadBalancingPage(t *testing.T, delta bool) {
	httpbun := startBackend(t, "httpbun")
	httpbin := startBackend(t, "httpbin")
	s := startStack(t, stackOptions{delta: delta, hosts: map[string]string{
		"httpbun.test": httpbun.ip,
		"httpbin.test": httpbin.ip,
	}})
	wantAPIType := `"api_type": "GRPC"`
	if delta {
		wantAPIType = `"api_type": "DELTA_GRPC"`
	}
	if dump := s.envoyAdmin("/config_dump"); !strings.Contains(dump, wantAPIType) {
		t.Fatalf("Envoy's bootstrap lacks %s", wantAPIType)
	}

	s.mustAPI("POST", "/services", form("name", "example_service", "url", fmt.Sprintf("http://httpbin.test:%d", httpbin.port)), 201)
	s.mustAPI("POST", "/services/example_service/routes", form("paths[]", "/mock", "name", "example_route"), 201)
	s.converge("service and route", func() (bool, string) {
		r := s.get("/mock/headers", "")
		return r.backend == "httpbin", r.String()
	})

	s.mustAPI("POST", "/upstreams", form("name", "example_upstream"), 201)
	s.mustAPI("POST", "/upstreams/example_upstream/targets", form("target", fmt.Sprintf("httpbun.test:%d", httpbun.port)), 201)
	s.mustAPI("POST", "/upstreams/example_upstream/targets", form("target", fmt.Sprintf("httpbin.test:%d", httpbin.port)), 201)
	s.mustAPI("PATCH", "/services/example_service", form("host", "example_upstream"), 200)
	s.converge("service → upstream with two targets", func() (bool, string) {
		return sawBoth(s, "/mock/headers", "httpbun", "httpbin")
	})

	counts := s.spread("/mock/headers", 100)
	t.Logf("100 requests: %s", fmtCounts(counts))
	for _, name := range []string{"httpbun", "httpbin"} {
		if c := counts[name]; c < 40 || c > 60 {
			t.Errorf("%s got %d of 100 requests, want 50±10 (%s)", name, c, fmtCounts(counts))
		}
	}

	// Each target sees its own hostname as Host (docs/kong-contract.md §4).
	want := map[string]*backend{"httpbun": httpbun, "httpbin": httpbin}
	seen := map[string]bool{}
	for i := 0; i < 10 && len(seen) < 2; i++ {
		r := s.get("/mock/headers", "")
		e, err := r.echo()
		b := want[r.backend]
		if err != nil || b == nil {
			t.Fatalf("GET /mock/headers: %s", r)
		}
		seen[b.name] = true
		host, _ := e.header("Host")
		wantHost(t, host, b.name+".test", b.port)
	}
}

// sawBoth polls a few requests and reports whether both backends answered.
func sawBoth(s *stack, path, a, b string) (bool, string) {
	seen := map[string]int{}
	var last proxyResponse
	for i := 0; i < 8; i++ {
		last = s.get(path, "")
		seen[last.backend]++
		if seen[a] > 0 && seen[b] > 0 {
			return true, ""
		}
	}
	return false, fmt.Sprintf("saw %v; last %s", seen, last)
}

// wantHost checks a Host header against Kong's rule: the hostname, plus
// ":port" unless it is the scheme's default. A Host without the port is
// tolerated (logged): it reaches the same name-based virtual host.
func wantHost(t *testing.T, got, hostname string, port int) {
	t.Helper()
	withPort := net.JoinHostPort(hostname, strconv.Itoa(port))
	switch got {
	case withPort:
	case hostname:
		t.Logf("Host %q lacks the target port; Kong would send %q", got, withPort)
	default:
		t.Errorf("Host = %q, want %q", got, withPort)
	}
}
