package admin

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboard-gw/switchboard/store"
)

// benchN is the entity count of the benchmark: 10,000 services
// with a route each, and 10,000 targets.
const benchN = 10_000

func benchServer(b *testing.B) http.Handler {
	b.Helper()
	st, err := store.New()
	if err != nil {
		b.Fatal(err)
	}
	return New(st, Options{NodeID: "bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
}

// call sends one request through the handler (no network) and checks the
// status.
func call(b *testing.B, h http.Handler, method, path, body string, want int) {
	req := httptest.NewRequest(method, path, bytes.NewBufferString(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
}

func reportRate(b *testing.B, requests int) {
	b.ReportMetric(float64(requests)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(requests), "ns/req")
}

// BenchmarkAdmin_CreateServicesWithRoutes creates 10,000 services and a
// route on each (20,000 POSTs) per iteration, on a fresh store.
func BenchmarkAdmin_CreateServicesWithRoutes(b *testing.B) {
	requests := 0
	for b.Loop() {
		b.StopTimer()
		h := benchServer(b)
		b.StartTimer()
		for i := range benchN {
			call(b, h, http.MethodPost, "/services", fmt.Sprintf(`{"name":"svc-%d","url":"http://backend-%d.test:8080/api"}`, i, i), http.StatusCreated)
			call(b, h, http.MethodPost, fmt.Sprintf("/services/svc-%d/routes", i), fmt.Sprintf(`{"name":"route-%d","paths":["/svc-%d"],"methods":["GET","POST"]}`, i, i), http.StatusCreated)
		}
		requests += 2 * benchN
	}
	reportRate(b, requests)
}

// BenchmarkAdmin_CreateTargets creates 10,000 targets in one upstream per
// iteration.
func BenchmarkAdmin_CreateTargets(b *testing.B) {
	requests := 0
	for b.Loop() {
		b.StopTimer()
		h := benchServer(b)
		call(b, h, http.MethodPost, "/upstreams", `{"name":"bench-upstream"}`, http.StatusCreated)
		b.StartTimer()
		for i := range benchN {
			call(b, h, http.MethodPost, "/upstreams/bench-upstream/targets", fmt.Sprintf(`{"target":"10.%d.%d.%d:80","weight":%d}`, i>>16, (i>>8)&255, i&255, 1+i%100), http.StatusCreated)
		}
		requests += benchN
	}
	reportRate(b, requests)
}

// populated builds a server holding 10,000 services with routes and
// 10,000 targets, outside the timer.
func populated(b *testing.B) http.Handler {
	b.Helper()
	h := benchServer(b)
	for i := range benchN {
		call(b, h, http.MethodPost, "/services", fmt.Sprintf(`{"name":"svc-%d","host":"backend-%d.test"}`, i, i), http.StatusCreated)
		call(b, h, http.MethodPost, fmt.Sprintf("/services/svc-%d/routes", i), fmt.Sprintf(`{"name":"route-%d","paths":["/svc-%d"]}`, i, i), http.StatusCreated)
	}
	call(b, h, http.MethodPost, "/upstreams", `{"name":"bench-upstream"}`, http.StatusCreated)
	for i := range benchN {
		call(b, h, http.MethodPost, "/upstreams/bench-upstream/targets", fmt.Sprintf(`{"target":"10.%d.%d.%d:80"}`, i>>16, (i>>8)&255, i&255), http.StatusCreated)
	}
	return h
}

// BenchmarkAdmin_Read reads entities by name and pages through the
// collections of a populated store; one op is one request.
func BenchmarkAdmin_Read(b *testing.B) {
	h := populated(b)
	cases := []struct {
		name string
		path func(i int) string
	}{
		{"service-by-name", func(i int) string { return fmt.Sprintf("/services/svc-%d", i%benchN) }},
		{"route-by-name", func(i int) string { return fmt.Sprintf("/routes/route-%d", i%benchN) }},
		{"service-routes", func(i int) string { return fmt.Sprintf("/services/svc-%d/routes", i%benchN) }},
		{"target-by-address", func(i int) string {
			return fmt.Sprintf("/upstreams/bench-upstream/targets/10.%d.%d.%d:80", (i%benchN)>>16, ((i%benchN)>>8)&255, (i%benchN)&255)
		}},
		{"services-page-100", func(int) string { return "/services" }},
		{"routes-page-1000", func(int) string { return "/routes?size=1000" }},
		{"targets-page-100-newest-first", func(int) string { return "/upstreams/bench-upstream/targets" }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				call(b, h, http.MethodGet, c.path(i), "", http.StatusOK)
				i++
			}
			reportRate(b, i)
		})
	}
}
