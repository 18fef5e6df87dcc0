package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRateLimitingRedis runs policy=redis through Envoy against a real
// redis-server: Kong's counting with the counters in Redis under Kong's
// keys, then Redis gone: fault_tolerant lets requests through without
// headers, fault_tolerant=false fails them with Kong's 500.
func TestRateLimitingRedis(t *testing.T) {
	t.Parallel()
	redis := startRedisServer(t)
	httpbin := startBackend(t, "httpbin")
	s := startStack(t, stackOptions{hosts: map[string]string{"httpbin.test": httpbin.ip}})
	s.mustAPI("POST", "/services", form("name", "example_service", "url", fmt.Sprintf("http://httpbin.test:%d", httpbin.port)), 201)
	redisPlugin := func(path string, kv ...string) string {
		name := strings.Trim(path, "/")
		s.mustAPI("POST", "/services/example_service/routes", form("name", name, "paths[]", path), 201)
		return s.mustAPI("POST", "/routes/"+name+"/plugins", form(append([]string{"name", "rate-limiting",
			"config.policy", "redis", "config.redis.host", redis.ip, "config.redis.port", strconv.Itoa(redis.port)}, kv...)...), 201)["id"].(string)
	}
	tolerant := redisPlugin("/tolerant", "config.minute", "5")
	strict := redisPlugin("/strict", "config.hour", "100", "config.fault_tolerant", "false")
	waitRoutesContain(t, s.envoyAdminAddr, tolerant, strict)

	inOneWindow(t, time.Minute, func(int) string {
		as := rlSeq(t, s, rlClient(newLoopbackIP(t)), 6, "/tolerant")
		for i, a := range as[:5] {
			if a.status != 200 || a.header.Get("X-RateLimit-Remaining-Minute") != strconv.Itoa(4-i) {
				return fmt.Sprintf("request %d: %s", i+1, a)
			}
		}
		if as[5].status != 429 || as[5].body != `{"message":"API rate limit exceeded"}` {
			return "6th: " + as[5].String()
		}
		return ""
	})
	if a := rlGet(t, s, rlClient(newLoopbackIP(t)), "/strict"); a.status != 200 || a.header.Get("X-RateLimit-Remaining-Hour") != "99" {
		t.Fatalf("strict route with Redis up: %s", a)
	}
	// The counters are Redis's, under Kong's key scheme.
	if out, err := redis.do("KEYS ratelimit:*"); err != nil || !strings.HasPrefix(out, "*") || out == "*0" {
		t.Fatalf("Redis holds no ratelimit:* keys: %q %v", out, err)
	}

	redis.stop()
	tol := rlGet(t, s, rlClient(newLoopbackIP(t)), "/tolerant")
	if tol.status != 200 || tol.header.Get("X-RateLimit-Limit-Minute") != "" {
		t.Errorf("fault_tolerant with Redis down: want 200 without headers, got %s", tol)
	}
	st := rlGet(t, s, rlClient(newLoopbackIP(t)), "/strict")
	if st.status != 500 || st.body != `{"message":"An unexpected error occurred"}` {
		t.Errorf("fault_tolerant=false with Redis down: want 500 An unexpected error occurred, got %s", st)
	}
}

// TestRateLimitingServiceUnreachable: the Envoys dial a rate-limit service
// address nobody listens on (--ratelimit-advertise). fault_tolerant (the
// default) lets requests through without headers; fault_tolerant=false
// answers Kong's 500.
func TestRateLimitingServiceUnreachable(t *testing.T) {
	t.Parallel()
	httpbin := startBackend(t, "httpbin")
	s := startStack(t, stackOptions{hosts: map[string]string{"httpbin.test": httpbin.ip},
		extraArgs: []string{"--ratelimit-advertise", freePort(t)}})
	s.mustAPI("POST", "/services", form("name", "example_service", "url", fmt.Sprintf("http://httpbin.test:%d", httpbin.port)), 201)
	var ids []string
	for _, c := range []struct{ path, tolerant string }{{"/tolerant", "true"}, {"/strict", "false"}} {
		name := strings.Trim(c.path, "/")
		s.mustAPI("POST", "/services/example_service/routes", form("name", name, "paths[]", c.path), 201)
		ids = append(ids, s.mustAPI("POST", "/routes/"+name+"/plugins", form("name", "rate-limiting", "config.policy", "cluster",
			"config.minute", "1", "config.fault_tolerant", c.tolerant), 201)["id"].(string))
	}
	waitRoutesContain(t, s.envoyAdminAddr, ids...)
	c := rlClient(newLoopbackIP(t))
	for i := range 2 { // over the limit, if anything counted
		if a := rlGet(t, s, c, "/tolerant"); a.status != 200 || a.header.Get("X-RateLimit-Limit-Minute") != "" {
			t.Errorf("tolerant request %d: want 200 without headers, got %s", i+1, a)
		}
	}
	if a := rlGet(t, s, c, "/strict"); a.status != 500 || a.body != `{"message":"An unexpected error occurred"}` ||
		a.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("fault_tolerant=false: want Kong's 500, got %s", a)
	}
}
