package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestRateLimitingLocal covers what policy=local gained beside the Get
// Started chapter (walkthrough_plugins_test.go): error_code, the IP
// fallback of limit_by=header, and consumer-scoped instances after key-auth.
// Token buckets: a limit of n admits n at once, which is all these cases
// read (docs/plugins.md).
func TestRateLimitingLocal(t *testing.T) {
	t.Parallel()
	httpbin := startBackend(t, "httpbin")
	s := startStack(t, stackOptions{hosts: map[string]string{"httpbin.test": httpbin.ip}})
	s.mustAPI("POST", "/services", form("name", "example_service", "url", fmt.Sprintf("http://httpbin.test:%d", httpbin.port)), 201)
	route := func(name string) {
		s.mustAPI("POST", "/services/example_service/routes", form("name", name, "paths[]", "/"+name), 201)
	}
	plugin := func(at string, kv ...string) string {
		return s.mustAPI("POST", at, form(append([]string{"name", "rate-limiting", "config.policy", "local"}, kv...)...), 201)["id"].(string)
	}

	t.Run("error-code", func(t *testing.T) {
		route("errcode")
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/routes/errcode/plugins", "config.hour", "1",
			"config.error_code", "418", "config.error_message", "Fake Not Found"))
		as := rlSeq(t, s, rlClient(newLoopbackIP(t)), 2, "/errcode")
		if as[0].status != 200 || as[1].status != 418 || strings.TrimSpace(as[1].body) != `{"message":"Fake Not Found"}` {
			t.Fatalf("want 200 then 418 Fake Not Found: %v", as)
		}
	})

	t.Run("several-windows", func(t *testing.T) {
		route("windows")
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/routes/windows/plugins", "config.minute", "3", "config.hour", "100"))
		as := rlSeq(t, s, rlClient(newLoopbackIP(t)), 4, "/windows")
		for i, a := range as[:3] {
			// Every window's headers; RateLimit-* for the least remaining.
			if a.status != 200 || a.header.Get("X-RateLimit-Remaining-Minute") != strconv.Itoa(2-i) ||
				a.header.Get("X-RateLimit-Remaining-Hour") != strconv.Itoa(99-i) || a.header.Get("X-RateLimit-Limit-Hour") != "100" ||
				a.header.Get("RateLimit-Limit") != "3" || a.header.Get("RateLimit-Remaining") != strconv.Itoa(2-i) {
				t.Fatalf("request %d: %s", i+1, a)
			}
			if a.header.Get("X-Sb-Rl-Reset-Minute") != "" {
				t.Fatalf("internal header left on the response: %s", a)
			}
		}
		if last := as[3]; last.status != 429 || last.header.Get("X-RateLimit-Remaining-Minute") != "0" || last.header.Get("Retry-After") == "" {
			t.Fatalf("4th: %s", last)
		}
	})

	t.Run("limit-by-header-falls-back-to-ip", func(t *testing.T) {
		route("byheader")
		waitRoutesContain(t, s.envoyAdminAddr, plugin("/routes/byheader/plugins", "config.hour", "1",
			"config.limit_by", "header", "config.header_name", "X-Tenant"))
		a, b := rlClient(newLoopbackIP(t)), rlClient(newLoopbackIP(t))
		got := []rlAnswer{rlGet(t, s, a, "/byheader", "X-Tenant", "one"), rlGet(t, s, b, "/byheader", "X-Tenant", "one"),
			rlGet(t, s, a, "/byheader"), rlGet(t, s, b, "/byheader"), rlGet(t, s, b, "/byheader")}
		if c := rlCodes(got); c != "200,429,200,200,429" {
			t.Fatalf("tenant one from a, b; no header from a, b, b: %s", c)
		}
	})

	t.Run("consumer-scoped", func(t *testing.T) {
		route("keyed")
		s.mustAPI("POST", "/routes/keyed/plugins", form("name", "key-auth"), 201)
		for _, u := range []string{"erin", "frank", "probe"} {
			s.mustAPI("POST", "/consumers", form("username", u), 201)
			s.mustAPI("POST", "/consumers/"+u+"/key-auth", form("key", u+"-key"), 201)
		}
		routeID := plugin("/routes/keyed/plugins", "config.hour", "3")
		erinID := plugin("/consumers/erin/plugins", "config.hour", "1")
		waitRoutesContain(t, s.envoyAdminAddr, routeID, erinID)
		eventually(t, convergeBound, "keys in Envoy", func() (bool, string) {
			a := rlGet(t, s, probeClient(), "/keyed", "apikey", "probe-key")
			return a.status == 200, a.String()
		})
		c := rlClient(newLoopbackIP(t))
		if got := rlCodes(rlSeq(t, s, c, 2, "/keyed", "apikey", "erin-key")); got != "200,429" {
			t.Errorf("erin (own instance, 1): %s", got)
		}
		if got := rlCodes(rlSeq(t, s, c, 4, "/keyed", "apikey", "frank-key")); got != "200,200,200,429" {
			t.Errorf("frank (route instance, 3, per consumer): %s", got)
		}
	})
}
