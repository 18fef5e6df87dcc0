package e2e

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// cacheAnswer is one answer through a proxy-cache route.
type cacheAnswer struct {
	code   int
	header http.Header
	body   string
}

func (a cacheAnswer) status() string { return a.header.Get("X-Cache-Status") }

func (a cacheAnswer) String() string {
	return fmt.Sprintf("%d X-Cache-Status=%q X-Cache-Key=%q Age=%q", a.code, a.status(), a.header.Get("X-Cache-Key"), a.header.Get("Age"))
}

// cacheClient sends requests from one loopback source address, so that a
// rate limit keyed by client IP sees one client.
func cacheClient(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

func cacheDo(t *testing.T, c *http.Client, s *stack, method, path string, hdr map[string]string) cacheAnswer {
	t.Helper()
	req, err := http.NewRequest(method, s.proxyURL(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return cacheAnswer{code: resp.StatusCode, header: resp.Header, body: string(body)}
}

// wantStatuses sends GET path once per wanted X-Cache-Status and checks
// each answer.
func wantStatuses(t *testing.T, c *http.Client, s *stack, path string, hdr map[string]string, want ...string) []cacheAnswer {
	t.Helper()
	var got []cacheAnswer
	for i, w := range want {
		a := cacheDo(t, c, s, http.MethodGet, path, hdr)
		if a.status() != w {
			t.Errorf("GET %s %v #%d: %s, want X-Cache-Status %s", path, hdr, i+1, a, w)
		}
		got = append(got, a)
	}
	return got
}

// TestProxyCache runs Kong's proxy-cache spec cases (shared/kong-plugins.md
// §5.4) through a real Envoy: each route has its own instance, so each case
// has its own cache.
func TestProxyCache(t *testing.T) {
	t.Parallel()
	httpbin := startBackend(t, "httpbin")
	s := startStack(t, stackOptions{hosts: map[string]string{"httpbin.test": httpbin.ip}})
	s.mustAPI("POST", "/services", form("name", "cache", "url", fmt.Sprintf("http://httpbin.test:%d", httpbin.port)), 201)
	routeIDs := map[string]string{}
	route := func(name string, plugin ...string) {
		r := s.mustAPI("POST", "/services/cache/routes", form("name", name, "paths[]", "/"+name), 201)
		routeIDs[name] = r["id"].(string)
		s.mustAPI("POST", "/routes/"+name+"/plugins", form(append([]string{"name", "proxy-cache", "config.strategy", "memory"}, plugin...)...), 201)
	}
	route("basic")
	route("vq", "config.vary_query_params", "a")
	route("vh", "config.vary_headers", "X-Kong-Test")
	route("ttl", "config.cache_ttl", "1")
	route("cc", "config.cache_control", "true")
	route("quiet", "config.response_headers.age", "false", "config.response_headers.X-Cache-Status", "false",
		"config.response_headers.X-Cache-Key", "false")
	route("rl")
	s.mustAPI("POST", "/routes/rl/plugins", form("name", "rate-limiting", "config.minute", "3", "config.policy", "local"), 201)
	// An https-only route: cached through the TLS listener's own loop.
	r := s.mustAPI("POST", "/services/cache/routes", form("name", "tls", "paths[]", "/tls", "protocols[]", "https"), 201)
	routeIDs["tls"] = r["id"].(string)
	s.mustAPI("POST", "/routes/tls/plugins", form("name", "proxy-cache", "config.strategy", "memory"), 201)
	route("ka")
	s.mustAPI("POST", "/routes/ka/plugins", form("name", "key-auth"), 201)
	// A route of the same service without an instance: the cache is off
	// there (the route configuration's default).
	s.mustAPI("POST", "/services/cache/routes", form("name", "nocache", "paths[]", "/nocache"), 201)
	for _, who := range []string{"bob", "alice"} {
		s.mustAPI("POST", "/consumers", form("username", who), 201)
		s.mustAPI("POST", "/consumers/"+who+"/key-auth", form("key", who+"-key"), 201)
	}
	s.converge("proxy-cache instances", func() (bool, string) {
		code, _, err := proxyProbe(s, "/ka/anything", nil)
		return code == 401, fmt.Sprint(code, err)
	})
	c := cacheClient("127.0.0.1")
	listenerBefore := listenerVersions(s)

	t.Run("caches a simple request, keyed by sorted query args", func(t *testing.T) {
		before := httpbin.hits.Load()
		got := wantStatuses(t, c, s, "/basic/anything?a=b&b=c", nil, "Miss", "Hit")
		if h := httpbin.hits.Load() - before; h != 1 {
			t.Errorf("the upstream saw %d requests for a Miss and a Hit, want 1", h)
		}
		if got[0].header.Get("Age") != "" || got[1].header.Get("Age") == "" {
			t.Errorf("Age on the Miss %q, on the Hit %q: want it on the Hit only", got[0].header.Get("Age"), got[1].header.Get("Age"))
		}
		if got[0].body != got[1].body {
			t.Errorf("the Hit's body differs from the Miss's")
		}
		// Kong's key: sha256 of route id | method | request line cut at
		// "?" | sorted args | vary headers.
		sum := sha256.Sum256([]byte(routeIDs["basic"] + "|GET|GET /basic/anything|a=b:b=c|"))
		if k := got[0].header.Get("X-Cache-Key"); k != hex.EncodeToString(sum[:]) || got[1].header.Get("X-Cache-Key") != k {
			t.Errorf("X-Cache-Key %q / %q, want %x", k, got[1].header.Get("X-Cache-Key"), sum)
		}
		// The route's action applied on the way to the upstream: strip_path
		// and the query as sent.
		if !strings.Contains(got[0].body, `"path": "/anything"`) || !strings.Contains(got[0].body, `"url": "http://httpbin.test:`) ||
			!strings.Contains(got[0].body, `/anything?a=b&b=c"`) {
			t.Errorf("the upstream did not get /anything?a=b&b=c:\n%s", got[0].body)
		}
		// What the upstream saw and sent is what it would without the cache.
		bypass := cacheDo(t, c, s, http.MethodPost, "/basic/anything", nil)
		for _, h := range []string{"X-Forwarded-For", "X-Real-Ip"} {
			line := func(body string) string {
				for _, l := range strings.Split(body, "\n") {
					if strings.Contains(l, `"`+h+`"`) {
						return strings.TrimSpace(l)
					}
				}
				return ""
			}
			if line(got[0].body) == "" || line(got[0].body) != line(bypass.body) {
				t.Errorf("the upstream saw %s %q through the cache, %q without", h, line(got[0].body), line(bypass.body))
			}
		}
		for _, a := range got {
			if a.header.Get("X-Envoy-Upstream-Service-Time") != "" || a.header.Get("Server") == "envoy" {
				t.Errorf("Envoy's own headers on a cached route: %v", a.header)
			}
		}
		wantStatuses(t, c, s, "/basic/anything?b=c&a=b", nil, "Hit")
		wantStatuses(t, c, s, "/basic/anything?a&b", nil, "Miss", "Hit")
	})

	t.Run("a route without an instance is not cached", func(t *testing.T) {
		before := httpbin.hits.Load()
		for range 2 {
			a := cacheDo(t, c, s, http.MethodGet, "/nocache/response-headers?Cache-Control=public%2C%20max-age%3D60", nil)
			if a.code != 200 || a.status() != "" || a.header.Get("Age") != "" {
				t.Fatalf("GET /nocache: %s, want 200 from the upstream", a)
			}
		}
		if h := httpbin.hits.Load() - before; h != 2 {
			t.Errorf("the upstream saw %d of 2 requests to a route without proxy-cache", h)
		}
	})

	t.Run("HEAD is answered from the stored GET", func(t *testing.T) {
		// Envoy never stores HEAD (docs/plugins.md): a Miss until a GET
		// stored the entry, then a Hit.
		if a := cacheDo(t, c, s, http.MethodHead, "/basic/anything?head=1", nil); a.status() != "Miss" {
			t.Errorf("first HEAD: %s, want Miss", a)
		}
		wantStatuses(t, c, s, "/basic/anything?head=1", nil, "Miss")
		if a := cacheDo(t, c, s, http.MethodHead, "/basic/anything?head=1", nil); a.status() != "Hit" || a.body != "" {
			t.Errorf("HEAD after the GET: %s, want a bodiless Hit", a)
		}
	})

	t.Run("vary_query_params", func(t *testing.T) {
		wantStatuses(t, c, s, "/vq/anything?a=1&x=1", nil, "Miss")
		wantStatuses(t, c, s, "/vq/anything?a=1&x=2", nil, "Hit")
		wantStatuses(t, c, s, "/vq/anything?a=2&x=1", nil, "Miss")
	})

	t.Run("vary_headers", func(t *testing.T) {
		wantStatuses(t, c, s, "/vh/anything", map[string]string{"X-Kong-Test": "1"}, "Miss", "Hit")
		wantStatuses(t, c, s, "/vh/anything", map[string]string{"X-Kong-Test": "2"}, "Miss", "Hit")
		wantStatuses(t, c, s, "/vh/anything", nil, "Miss")
	})

	t.Run("cache_ttl expiry", func(t *testing.T) {
		wantStatuses(t, c, s, "/ttl/anything", nil, "Miss", "Hit")
		eventually(t, 15*time.Second, "the 1 s entry to expire", func() (bool, string) {
			a := cacheDo(t, c, s, http.MethodGet, "/ttl/anything", nil)
			return a.status() == "Miss", a.String()
		})
		wantStatuses(t, c, s, "/ttl/anything", nil, "Hit")
	})

	t.Run("bypasses non-cacheable methods, status codes and content types", func(t *testing.T) {
		for range 2 {
			if a := cacheDo(t, c, s, http.MethodPost, "/basic/anything", nil); a.status() != "Bypass" || a.code != 200 {
				t.Errorf("POST: %s, want 200 Bypass", a)
			}
		}
		// A websocket upgrade is never the cache's (the echo backend refuses
		// the upgrade with a bodiless 200).
		if up := cacheDo(t, c, s, http.MethodGet, "/basic/anything?ws=1", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}); up.status() != "Bypass" {
			t.Errorf("upgrade: %s, want Bypass", up)
		}
		wantStatuses(t, c, s, "/basic/status/418", nil, "Bypass", "Bypass")
		wantStatuses(t, c, s, "/basic/xml", nil, "Bypass", "Bypass")
	})

	t.Run("cache_control", func(t *testing.T) {
		wantStatuses(t, c, s, "/cc/response-headers?Cache-Control=max-age%3D0", nil, "Bypass", "Bypass")
		got := wantStatuses(t, c, s, "/cc/response-headers?Cache-Control=max-age%3D30", nil, "Miss", "Hit")
		if cc := got[1].header.Get("Cache-Control"); cc != "max-age=30" {
			t.Errorf("the Hit's Cache-Control = %q, want the upstream's max-age=30", cc)
		}
		wantStatuses(t, c, s, "/cc/anything", nil, "Bypass", "Bypass")
		// Fresh by Expires alone (no Cache-Control): Kong stores it.
		expires := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		wantStatuses(t, c, s, "/cc/response-headers?Expires="+expires, nil, "Miss", "Hit")
		wantStatuses(t, c, s, "/cc/response-headers?Cache-Control=max-age%3D30", map[string]string{"Cache-Control": "no-cache"}, "Bypass")
	})

	t.Run("the upstream's Cache-Control is ignored and kept without cache_control", func(t *testing.T) {
		got := wantStatuses(t, c, s, "/basic/response-headers?Cache-Control=no-store", nil, "Miss", "Hit")
		if cc := got[1].header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q, want the upstream's no-store", cc)
		}
	})

	t.Run("response_headers off, Kong-Debug on", func(t *testing.T) {
		for _, a := range wantStatuses(t, c, s, "/quiet/anything", nil, "", "") {
			if a.header.Get("X-Cache-Key") != "" || a.header.Get("Age") != "" {
				t.Errorf("diagnostic headers sent: %s", a)
			}
		}
		a := wantStatuses(t, c, s, "/quiet/anything", map[string]string{"Kong-Debug": "1"}, "Hit")[0]
		if a.header.Get("X-Cache-Key") == "" || a.header.Get("Age") == "" {
			t.Errorf("Kong-Debug: %s, want X-Cache-Key and Age", a)
		}
	})

	t.Run("cache hits count against the rate limit", func(t *testing.T) {
		rl := cacheClient("127.0.0.9")
		for i, want := range []string{"Miss", "Hit", "Hit"} {
			a := cacheDo(t, rl, s, http.MethodGet, "/rl/anything", nil)
			if a.status() != want || a.header.Get("X-Ratelimit-Remaining-Minute") != fmt.Sprint(2-i) {
				t.Errorf("request %d: %s remaining %q, want %s with %d left", i+1, a, a.header.Get("X-Ratelimit-Remaining-Minute"), want, 2-i)
			}
		}
		if a := cacheDo(t, rl, s, http.MethodGet, "/rl/anything", nil); a.code != 429 || a.status() != "" ||
			!strings.Contains(a.body, "API rate limit exceeded") {
			t.Errorf("4th request: %s %s, want 429 without X-Cache-Status", a, a.body)
		}
	})

	t.Run("authenticated routes: no cache on 401, one cache per consumer", func(t *testing.T) {
		if a := cacheDo(t, c, s, http.MethodGet, "/ka/anything", nil); a.code != 401 || a.status() != "" {
			t.Errorf("without a key: %s, want 401 without X-Cache-Status", a)
		}
		bob := wantStatuses(t, c, s, "/ka/anything", map[string]string{"apikey": "bob-key"}, "Miss", "Hit")
		alice := wantStatuses(t, c, s, "/ka/anything", map[string]string{"apikey": "alice-key"}, "Miss", "Hit")
		if bob[0].header.Get("X-Cache-Key") == alice[0].header.Get("X-Cache-Key") {
			t.Errorf("bob and alice share a cache key")
		}
		if !strings.Contains(alice[1].body, `"X-Consumer-Username": "alice"`) {
			t.Errorf("alice's Hit is not her own answer:\n%s", alice[1].body)
		}
	})

	t.Run("through the TLS listener", func(t *testing.T) {
		tc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true, ForceAttemptHTTP2: true,
		}}
		for i, want := range []string{"Miss", "Hit"} {
			resp, err := tc.Get("https://" + s.env.ProxyTLSAddr + "/tls/anything?x=1")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if got := resp.Header.Get("X-Cache-Status"); resp.StatusCode != 200 || got != want {
				t.Errorf("HTTPS #%d: %d %q, want 200 %s", i+1, resp.StatusCode, got, want)
			}
			if !strings.Contains(string(body), `"path": "/anything"`) {
				t.Errorf("HTTPS #%d: the upstream did not get /anything:\n%s", i+1, body)
			}
		}
	})

	t.Run("purge", func(t *testing.T) {
		first := wantStatuses(t, c, s, "/basic/anything?purge=1", nil, "Miss", "Hit")[0]
		s.mustAPI("DELETE", "/proxy-cache", nil, 204)
		s.converge("purge of every cache", func() (bool, string) {
			a := cacheDo(t, c, s, http.MethodGet, "/basic/anything?purge=1", nil)
			return a.status() == "Miss", a.String()
		})
		wantStatuses(t, c, s, "/basic/anything?purge=1", nil, "Hit")
		plugins := s.mustAPI("GET", "/routes/basic/plugins", nil, 200)["data"].([]any)
		id := plugins[0].(map[string]any)["id"].(string)
		key := first.header.Get("X-Cache-Key")
		s.mustAPI("DELETE", "/proxy-cache/"+id+"/caches/"+key, nil, 204)
		s.converge("purge of one plugin's cache", func() (bool, string) {
			a := cacheDo(t, c, s, http.MethodGet, "/basic/anything?purge=1", nil)
			return a.status() == "Miss", a.String()
		})
		s.mustAPI("DELETE", "/proxy-cache/"+key, nil, 204)
		s.mustAPI("DELETE", "/proxy-cache/00000000-0000-4000-8000-000000000000/caches/"+key, nil, 404)
		if r := s.api("GET", "/proxy-cache/"+key, nil); r.status != 501 || !strings.Contains(string(r.body), "cannot be read") {
			t.Errorf("GET /proxy-cache/{key}: %d %s, want 501 saying why", r.status, r.body)
		}
		if r := s.api("GET", "/proxy-cache/"+id+"/caches/"+key, nil); r.status != 501 {
			t.Errorf("GET /proxy-cache/{plugin}/caches/{key}: %d %s, want 501", r.status, r.body)
		}
	})

	if after := listenerVersions(s); !slices.Equal(after, listenerBefore) {
		t.Errorf("Envoy's listener version moved: %v → %v", listenerBefore, after)
	}
}
