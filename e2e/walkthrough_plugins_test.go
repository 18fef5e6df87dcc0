package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var probes atomic.Uint32

// probeClient sends requests from a loopback address of its own, so the
// test can watch a plugin reach Envoy without spending the per-IP rate
// limit of the script's curl (which comes from 127.0.0.1).
// Each probe comes from the next address, so convergence polls never
// exhaust a per-IP bucket either.
func probeClient() *http.Client {
	n := byte(100 + probes.Add(1)%100)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, n)}, Timeout: 2 * time.Second}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// proxyProbe returns the status and headers of GET path through the proxy.
func proxyProbe(s *stack, path string, hdr map[string]string) (int, http.Header, error) {
	req, err := http.NewRequest(http.MethodGet, s.proxyURL(path), nil)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := probeClient().Do(req)
	if err != nil {
		return 0, nil, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header, nil
}

// listenerVersionRe matches the version_info of Envoy's dynamic listeners
// in /config_dump.
var listenerVersionRe = regexp.MustCompile(`"version_info":\s*"([^"]*)"`)

// listenerVersions are the versions of the listeners Envoy runs.
func listenerVersions(s *stack) []string {
	var out []string
	for _, m := range listenerVersionRe.FindAllStringSubmatch(s.envoyAdmin("/config_dump?resource=dynamic_listeners"), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestWalkthroughPlugins runs e2e/walkthrough_plugins.sh, the Get Started
// chapters' own curl commands, against a live stack after the Services and
// Routes chapter, and reads what they print.
func TestWalkthroughPlugins(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on PATH")
	}
	httpbin := startBackend(t, "httpbin")
	s := startStack(t, stackOptions{hosts: map[string]string{"httpbin.test": httpbin.ip}})
	env := []string{"KONG_ADMIN=" + s.adminURL(""), "KONG_PROXY=" + s.proxyURL("")}
	run := func(step string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "walkthrough_plugins.sh", step)
		cmd.Env = append(cleanEnv(), env...)
		out, err := cmd.CombinedOutput()
		t.Logf("walkthrough_plugins.sh %s:\n%s", step, out)
		if err != nil {
			t.Fatalf("walkthrough_plugins.sh %s: %v", step, err)
		}
		return string(out)
	}
	// The Services and Routes chapter, as walkthrough.sh runs it.
	s.mustAPI("POST", "/services", form("name", "example_service", "url", fmt.Sprintf("http://httpbin.test:%d", httpbin.port)), 201)
	s.mustAPI("POST", "/services/example_service/routes", form("name", "example_route", "paths[]", "/mock"), 201)
	s.converge("example_route", func() (bool, string) {
		code, _, err := proxyProbe(s, "/mock/anything", nil)
		return code == 200, fmt.Sprint(code, err)
	})

	// No listener churn: every plugin, consumer and credential change below
	// reaches Envoy through the route table, so the listener Envoy runs
	// keeps its version (and its connections) throughout.
	listenerBefore := listenerVersions(s)
	if len(listenerBefore) == 0 {
		t.Fatal("Envoy reports no dynamic listener")
	}
	t.Cleanup(func() {
		if after := listenerVersions(s); !slices.Equal(after, listenerBefore) {
			t.Errorf("Envoy's listener version moved during the plugin chapters: %v → %v", listenerBefore, after)
		}
	})

	t.Run("rate-limiting", func(t *testing.T) {
		out := run("rate-limiting")
		if !strings.Contains(out, "HTTP/1.1 201") {
			t.Fatalf("plugin not created:\n%s", out)
		}
		s.converge("rate-limiting plugin", func() (bool, string) {
			_, h, err := proxyProbe(s, "/mock/anything", nil)
			return h.Get("X-RateLimit-Limit-Minute") == "5", fmt.Sprint(h, err)
		})
		out = run("rate-limiting-validate")
		answers := strings.Split(out, "HTTP/1.1 ")[1:]
		if len(answers) != 6 {
			t.Fatalf("%d answers, want 6", len(answers))
		}
		for i, a := range answers[:5] {
			if !strings.HasPrefix(a, "200") {
				t.Errorf("request %d: %.40q, want 200", i+1, a)
			}
			if want := fmt.Sprintf("X-Ratelimit-Remaining-Minute: %d", 4-i); !strings.Contains(a, want) {
				t.Errorf("request %d lacks %q", i+1, want)
			}
		}
		last := answers[5]
		if !strings.HasPrefix(last, "429") || !strings.Contains(last, `{"message":"API rate limit exceeded"}`) {
			t.Errorf("6th request: %q, want 429 API rate limit exceeded", last)
		}
		out = run("rate-limiting-scoped")
		if n := strings.Count(out, `"name":"rate-limiting"`) + strings.Count(out, `"name": "rate-limiting"`); n != 3 {
			t.Errorf("%d rate-limiting instances created, want 3:\n%s", n, out)
		}
	})

	t.Run("proxy-cache", func(t *testing.T) {
		out := run("proxy-caching")
		if !strings.Contains(out, "HTTP/1.1 201") {
			t.Fatalf("plugin not created:\n%s", out)
		}
		// The probe asks for another URL (its query is part of the cache
		// key), so the page's first request still meets an empty cache.
		s.converge("proxy-cache plugin", func() (bool, string) {
			_, h, err := proxyProbe(s, "/mock/anything?probe=proxy-cache", nil)
			return h.Get("X-Cache-Status") != "", fmt.Sprint(h, err)
		})
		out = run("proxy-caching-validate")
		m := regexp.MustCompile(`X-Cache-Key: ([0-9a-f]{64})\s+X-Cache-Status: Miss\s+X-Cache-Key: ([0-9a-f]{64})\s+X-Cache-Status: Hit\s*$`).FindStringSubmatch(out)
		if m == nil || m[1] != m[2] {
			t.Errorf("want Miss then Hit under one 64-hex X-Cache-Key, as the page shows:\n%s", out)
		}
		out = run("proxy-caching-scoped")
		if n := strings.Count(strings.ReplaceAll(out, `": `, `":`), `"name":"proxy-cache"`); n != 3 {
			t.Errorf("%d proxy-cache instances created, want 3:\n%s", n, out)
		}
		out = run("proxy-caching-entry")
		if !strings.Contains(out, "HTTP/1.1 501") || !strings.Contains(out, "cannot be read through the Admin API") {
			t.Errorf("entry lookup: want the 501 that says why:\n%s", out)
		}
	})

	t.Run("key-auth", func(t *testing.T) {
		out := run("key-auth")
		if n := strings.Count(out, "HTTP/1.1 201"); n != 2 {
			t.Fatalf("%d of consumer and credential created, want 2:\n%s", n, out)
		}
		s.converge("key-auth plugin", func() (bool, string) {
			code, _, err := proxyProbe(s, "/mock/anything", nil)
			return code == 401, fmt.Sprint(code, err)
		})
		answers := strings.Split(run("key-auth-validate"), "HTTP/1.1 ")[1:]
		if len(answers) != 3 {
			t.Fatalf("%d answers, want 3", len(answers))
		}
		for i, want := range []struct{ status, text string }{
			{"401", `{"message":"No API key found in request"}`},
			{"401", `{"message":"Unauthorized"}`},
			{"200", "X-Consumer-Username"},
		} {
			if !strings.HasPrefix(answers[i], want.status) || !strings.Contains(answers[i], want.text) {
				t.Errorf("request %d: want %s with %q, got:\n%s", i+1, want.status, want.text, answers[i])
			}
		}
		if !strings.Contains(answers[0], "Www-Authenticate: Key") {
			t.Errorf("401 lacks WWW-Authenticate: Key:\n%s", answers[0])
		}
		if !strings.Contains(strings.ToLower(answers[2]), "luka") {
			t.Errorf("the upstream did not see consumer luka:\n%s", answers[2])
		}
		run("key-auth-scoped")
		if _, err := exec.LookPath("jq"); err != nil {
			t.Skip("no jq on PATH for the disable step")
		}
		out = run("key-auth-disable")
		if n := strings.Count(strings.ReplaceAll(out, `": `, `":`), `"enabled":false`); n != 3 {
			t.Errorf("%d key-auth instances disabled, want 3:\n%s", n, out)
		}
		s.converge("key-auth disabled", func() (bool, string) {
			code, _, err := proxyProbe(s, "/mock/anything", nil)
			return code == 200, fmt.Sprint(code, err)
		})
		out = run("key-auth-disabled-validate")
		if !strings.Contains(out, "HTTP/1.1 200") {
			t.Errorf("with key-auth disabled: want 200:\n%s", out)
		}
	})
}
