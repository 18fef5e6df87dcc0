package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDurability_SIGKILLLosesNothing writes 1,000 entities, SIGKILLs the
// control plane and restarts it on the same data directory: every entity
// comes back byte for byte (ids, timestamps), and the Envoy it configured
// serves the whole time, before, during and after, with no empty-config
// window.
func TestDurability_SIGKILLLosesNothing(t *testing.T) {
	t.Parallel()
	a := startBackend(t, "a")
	s := startStack(t, stackOptions{hosts: map[string]string{"a.test": a.ip}, externalEnvoy: true})
	s.mustAPI("POST", "/services", form("name", "steady", "url", fmt.Sprintf("http://a.test:%d", a.port)), 201)
	s.mustAPI("POST", "/services/steady/routes", form("name", "steady", "paths[]", "/steady"), 201)
	s.converge("steady route", func() (bool, string) {
		r := s.get("/steady/anything", "")
		return r.backend == "a", r.String()
	})
	load := startTraffic(s.proxyURL("/steady/anything"), "a", 4, 40000, 2*time.Minute)
	defer load.finish()

	// 1,000 entities: 250 upstreams with a target each, 250 services with
	// a route each, written by 8 concurrent clients.
	const n = 250
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				for _, req := range []struct {
					path string
					form url.Values
				}{
					{"/upstreams", form("name", fmt.Sprintf("up-%03d", i), "tags", "durable")},
					{fmt.Sprintf("/upstreams/up-%03d/targets", i), form("target", fmt.Sprintf("127.1.%d.%d:8080", i/200, i%200+1), "weight", "7")},
					{"/services", form("name", fmt.Sprintf("svc-%03d", i), "url", fmt.Sprintf("http://up-%03d/p%d", i, i), "retries", "3")},
					{fmt.Sprintf("/services/svc-%03d/routes", i), form("name", fmt.Sprintf("route-%03d", i), "paths[]", fmt.Sprintf("/r%03d", i), "methods", "GET")},
				} {
					if st, body := rawPost(s, req.path, req.form); st != 201 {
						mu.Lock()
						errs = append(errs, fmt.Sprintf("POST %s: %d %s", req.path, st, body))
						mu.Unlock()
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d writes failed, first: %s", len(errs), errs[0])
	}
	before := dumpEntities(t, s)
	if got := strings.Count(before, `"id":`); got < 4*n {
		t.Fatalf("dump holds %d ids, want ≥ %d", got, 4*n)
	}

	s.cp.kill(t)
	killed := time.Now()
	s.restartControlPlane()
	t.Logf("control plane back %s after SIGKILL", time.Since(killed).Round(time.Millisecond))

	if after := dumpEntities(t, s); after != before {
		t.Fatalf("state after SIGKILL + restart differs from before (%d vs %d bytes)", len(after), len(before))
	}
	// The restarted control plane configures the same Envoy: a new write
	// reaches it, and the old config was never replaced by an empty one.
	s.mustAPI("POST", "/services/steady/routes", form("name", "after", "paths[]", "/after"), 201)
	s.converge("first write after the restart", func() (bool, string) {
		r := s.get("/after/anything", "")
		return r.backend == "a", r.String()
	})
	total, failed, detail := load.finish()
	t.Logf("steady route: %d requests through Envoy during writes, SIGKILL and restart, %d failed", total, failed)
	if failed > 0 {
		t.Fatalf("%d of %d proxied requests failed: %s", failed, total, detail)
	}
}

// rawPost is an Admin API POST that reports rather than fails, for use
// from worker goroutines.
func rawPost(s *stack, path string, f url.Values) (int, string) {
	resp, err := s.admin.PostForm(s.adminURL(path), f)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// dumpEntities reads every service, route, upstream and target through the
// Admin API's pagination, as decK dumps, and returns the raw pages joined.
func dumpEntities(t *testing.T, s *stack) string {
	t.Helper()
	var out strings.Builder
	var upstreamIDs []string
	for _, coll := range []string{"/services", "/routes", "/upstreams"} {
		for _, page := range pages(t, s, coll) {
			out.WriteString(page)
			if coll == "/upstreams" {
				var p struct{ Data []struct{ ID string } }
				_ = json.Unmarshal([]byte(page), &p)
				for _, u := range p.Data {
					upstreamIDs = append(upstreamIDs, u.ID)
				}
			}
		}
	}
	for _, id := range upstreamIDs {
		for _, page := range pages(t, s, "/upstreams/"+id+"/targets") {
			out.WriteString(page)
		}
	}
	return out.String()
}

// pages follows offset through a collection, 1,000 at a time.
func pages(t *testing.T, s *stack, coll string) []string {
	t.Helper()
	var out []string
	offset := ""
	for i := 0; i < 100; i++ {
		path := coll + "?size=1000"
		if offset != "" {
			path += "&offset=" + url.QueryEscape(offset)
		}
		r := s.api("GET", path, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		out = append(out, string(r.body))
		var p struct {
			Offset string `json:"offset"`
		}
		_ = json.Unmarshal(r.body, &p)
		if p.Offset == "" {
			return out
		}
		offset = p.Offset
	}
	t.Fatalf("GET %s: more than 100 pages", coll)
	return nil
}
