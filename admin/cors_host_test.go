package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// DNS rebinding: a page on evil.test whose name now resolves to 127.0.0.1
// reads the API same-origin, without an Origin header; its Host gives it
// away.
func TestAdmin_LoopbackHostCheck(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.LoopbackOnly, o.AllowedHosts = true, []string{"gw.internal"} })
	for host, want := range map[string]int{
		"127.0.0.1:8001": 200, "[::1]:8001": 200, "localhost:8001": 200, "LOCALHOST": 200, "app.localhost:8001": 200,
		"gw.internal:8001": 200, "10.1.2.3": 200,
		"evil.test:8001": 403, "evil.test": 403, "localhost.evil.test": 403,
	} {
		req := httptest.NewRequest(http.MethodGet, "/services", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		ts.h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %q: %d, want %d (%s)", host, rec.Code, want, rec.Body)
		}
	}
	// Off (the listener is not loopback): names are how clients reach it.
	open := newTestServer(t)
	req := httptest.NewRequest(http.MethodGet, "/services", nil)
	req.Host = "evil.test"
	rec := httptest.NewRecorder()
	open.h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("host check without LoopbackOnly: %d", rec.Code)
	}
}
