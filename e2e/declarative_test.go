package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// postConfig sends a declarative file to POST /config.
func (s *stack) postConfig(query, ctype, body string) apiResponse {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.adminURL("/config"+query), strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	res, err := testenv.NewAdminWith(s.adminAddr, s.admin).Send(req)
	if err != nil {
		s.t.Fatalf("POST /config: %v", err)
	}
	return apiResponse{status: res.Status, header: res.Header, body: res.Body}
}

// xdsCounters are the figures that move on any xDS push: switchboard's
// publishes and responses, and every update Envoy's CDS, LDS and RDS
// subscriptions attempted.
func (s *stack) xdsCounters() map[string]float64 {
	s.t.Helper()
	out := map[string]float64{}
	m, err := testenv.NewAdminWith(s.adminAddr, s.admin).Metrics()
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range m {
		if strings.HasPrefix(k, "switchboard_xds_publishes_total") || strings.HasPrefix(k, "switchboard_xds_responses_total") {
			out[k] = v
		}
	}
	// Every xDS subscription's counters: CDS, LDS, each RDS and SDS
	// resource, each cluster's EDS.
	stats, err := testenv.NewEnvoyAdmin(s.envoyAdminAddr).Stats(`update_(attempt|success|rejected)$`)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range stats {
		out["envoy "+k] = float64(v)
	}
	rev, err := strconv.ParseFloat(s.api("GET", "/status", nil).header.Get(revisionHeader), 64)
	if err != nil {
		s.t.Fatalf("revision header: %v", err)
	}
	out["store revision"] = rev
	return out
}

// TestDeclarative_KongYAMLThroughEnvoy applies a kong.yaml holding Kong's
// Get Started entities, the plugin chapters' plugins, a consumer with a key
// and a certificate with SNIs; Envoy serves it. Its own dump and the file
// again are then no-ops: no revision, no publish, no xDS update in Envoy.
// An invalid file is refused with Kong's code-14 body and changes nothing.
func TestDeclarative_KongYAMLThroughEnvoy(t *testing.T) {
	t.Parallel()
	httpbin := startBackend(t, "httpbin")
	bun := startBackend(t, "httpbun")
	s := startStack(t, stackOptions{hosts: map[string]string{"httpbin.test": httpbin.ip, "httpbun.test": bun.ip}})
	cert, key := throwawayCert(t, false, "shop.example.test", "api.example.test")
	indent := func(pem string) string { return strings.ReplaceAll(strings.TrimSpace(pem), "\n", "\n    ") }
	file := fmt.Sprintf(`_format_version: "3.0"
services:
- name: example_service
  url: http://httpbin.test:%d
  routes:
  - name: example_route
    paths: [/mock]
  plugins:
  - name: key-auth
- name: lb_service
  host: example_upstream
  routes:
  - name: lb_route
    paths: [/lb]
upstreams:
- name: example_upstream
  targets:
  - target: httpbun.test:%d
  - target: httpbin.test:%d
    weight: 50
consumers:
- username: luka
  keyauth_credentials:
  - key: top-secret-key
plugins:
- name: rate-limiting
  config:
    minute: 100000
    policy: local
- name: proxy-cache
  config:
    strategy: memory
    content_type: [application/json]
certificates:
- cert: |
    %s
  key: |
    %s
  snis:
  - name: shop.example.test
  - name: api.example.test
`, httpbin.port, bun.port, httpbin.port, indent(cert), indent(key))

	r := s.postConfig("", "application/yaml", file)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /config: %d %s", r.status, r.body)
	}
	s.converge("the file's key-auth route", func() (bool, string) {
		res := s.getWithKey("/mock/anything", "top-secret-key")
		return res.backend == "httpbin", res.String()
	})
	if res := s.get("/mock/anything", ""); res.status != http.StatusUnauthorized {
		t.Errorf("no key: %s, want 401", res)
	}
	s.converge("the file's upstream", func() (bool, string) {
		res := s.get("/lb/anything", "")
		return res.backend == "httpbun" || res.backend == "httpbin", res.String()
	})
	if n := len(s.mustAPI("GET", "/snis", nil, 200)["data"].([]any)); n != 2 {
		t.Errorf("certificates[].snis[]: %d SNIs, want 2", n)
	}

	// Wait until Envoy has taken everything (the hostnames' endpoints come
	// after their resolution) and the node writes nothing in the
	// background, then count the revision and every xDS update.
	var before map[string]float64
	eventually(t, convergeBound, "xDS counters at rest", func() (bool, string) {
		a := s.xdsCounters()
		s.getWithKey("/mock/anything", "top-secret-key")
		before = s.xdsCounters()
		return fmt.Sprint(a) == fmt.Sprint(before), fmt.Sprint(before)
	})
	rev := strconv.FormatFloat(before["store revision"], 'f', -1, 64)

	// Its own dump, posted back, and the file again: nothing moves.
	dump := s.mustAPI("GET", "/config", nil, 200)["config"].(string)
	for _, again := range []struct{ what, ctype, body string }{
		{"its own dump", "application/yaml", dump},
		{"the same file", "application/yaml", file},
	} {
		r := s.postConfig("", again.ctype, again.body)
		if r.status != http.StatusCreated || r.header.Get(revisionHeader) != rev {
			t.Errorf("re-applying %s: %d, revision %s (was %s): %.600s", again.what, r.status, r.header.Get(revisionHeader), rev, r.body)
		}
	}
	if r := s.postConfig("?check_hash=1", "application/yaml", file); r.status != http.StatusNotModified {
		t.Errorf("check_hash=1 of the same file: %d, want 304", r.status)
	}
	if n := len(s.mustAPI("GET", "/snis", nil, 200)["data"].([]any)); n != 2 {
		t.Errorf("after applying its own export: %d SNIs, want 2 (no duplicates)", n)
	}
	// A request through Envoy after the re-applies: had anything been
	// pushed, the counters below would have moved before it returned.
	if res := s.getWithKey("/mock/anything", "top-secret-key"); res.backend != "httpbin" {
		t.Errorf("after the re-applies: %s", res)
	}
	if n := len(before); n < 5 || before[`switchboard_xds_publishes_total{mode="full"}`] == 0 {
		t.Fatalf("only %d xDS counters, no full publish among them: %v", n, before)
	}
	after := s.xdsCounters()
	for k, v := range after {
		if before[k] != v {
			t.Errorf("re-apply pushed: %s %v -> %v", k, before[k], v)
		}
	}

	// An invalid file: Kong's code-14 body naming the fields, nothing
	// written, Envoy still serving the old file.
	bad := s.postConfig("", "application/yaml", `_format_version: "3.0"
services:
- name: broken
  port: 70000
  routes:
  - paths: [mock]
`)
	var body map[string]any
	_ = json.Unmarshal(bad.body, &body)
	if bad.status != http.StatusBadRequest || body["code"] != float64(14) || body["name"] != "invalid declarative configuration" {
		t.Fatalf("invalid file: %d %s", bad.status, bad.body)
	}
	fields, _ := json.Marshal(body["fields"])
	for _, want := range []string{`"host":"required field missing"`, `"port":"value should be between 0 and 65535"`, `"paths"`} {
		if !bytes.Contains(fields, []byte(want)) {
			t.Errorf("code-14 fields %s lack %s", fields, want)
		}
	}
	if got := bad.header.Get(revisionHeader); got != "" && got != rev {
		t.Errorf("invalid file moved the revision %s -> %s", rev, got)
	}
	if res := s.getWithKey("/mock/anything", "top-secret-key"); res.backend != "httpbin" {
		t.Errorf("after the invalid file: %s", res)
	}
	if n := len(s.mustAPI("GET", "/services", nil, 200)["data"].([]any)); n != 2 {
		t.Errorf("after the invalid file: %d services, want 2", n)
	}
}

// getWithKey is get with Kong's default key-auth header.
func (s *stack) getWithKey(path, key string) proxyResponse {
	req, err := http.NewRequest(http.MethodGet, s.proxyURL(path), nil)
	if err != nil {
		return proxyResponse{err: err}
	}
	req.Header.Set("apikey", key)
	resp, err := s.proxy.Do(req)
	if err != nil {
		return proxyResponse{err: err}
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return proxyResponse{status: resp.StatusCode, header: resp.Header, body: buf.Bytes(), backend: resp.Header.Get(backendHeader), err: err}
}
