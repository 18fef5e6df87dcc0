package manager

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echoAPI stands in for the Admin API: it reports the path and Origin it
// was handed.
var echoAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Path", r.URL.Path)
	w.Header().Set("X-Origin", r.Header.Get("Origin"))
	// What the Admin API answers a request without Origin.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	w.WriteHeader(http.StatusOK)
})

func serve(t *testing.T, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Host = "127.0.0.1:8002"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	Handler(Options{API: echoAPI}).ServeHTTP(rec, req)
	return rec
}

func TestManager_Pages(t *testing.T) {
	for _, path := range []string{"/", "/overview", "/services/create", "/upstreams/abc/targets"} {
		rec := serve(t, http.MethodGet, path)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `src="/assets/js/app.mjs"`) {
			t.Errorf("GET %s: %d, want index.html", path, rec.Code)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: missing framing/sniffing headers", path)
		}
	}
	rec := serve(t, http.MethodGet, "/assets/js/app.mjs")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("app.mjs: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	etag := rec.Header().Get("ETag")
	if rec := serve(t, http.MethodGet, "/assets/js/app.mjs", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", rec.Code)
	}
	if rec := serve(t, http.MethodGet, "/assets/nope.js"); rec.Code != http.StatusNotFound {
		t.Errorf("missing asset: %d, want 404", rec.Code)
	}
	if rec := serve(t, http.MethodPost, "/services"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST to a page: %d, want 405", rec.Code)
	}
}

func TestManager_API(t *testing.T) {
	rec := serve(t, http.MethodGet, "/api/services?size=2", "Origin", "http://evil.test")
	if rec.Code != http.StatusOK || rec.Header().Get("X-Path") != "/services" || rec.Header().Get("X-Origin") != "" {
		t.Fatalf("GET /api/services: %d path %q origin %q", rec.Code, rec.Header().Get("X-Path"), rec.Header().Get("X-Origin"))
	}
	// Another site's page may not read the API through the Manager's origin.
	if h := rec.Header(); h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("GET /api/services carries CORS headers: %v", h)
	}
	if rec := serve(t, http.MethodGet, "/api"); rec.Header().Get("X-Path") != "/" {
		t.Errorf("GET /api reaches %q, want /", rec.Header().Get("X-Path"))
	}
	for _, tc := range []struct {
		name   string
		origin string
		want   int
	}{
		{"own origin", "http://127.0.0.1:8002", http.StatusOK},
		{"foreign origin", "http://evil.test", http.StatusForbidden},
		{"same host, other port", "http://127.0.0.1:8001", http.StatusForbidden},
		{"null origin", "null", http.StatusForbidden},
		{"no origin", "", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.origin != "" {
				hdr = []string{"Origin", tc.origin}
			}
			for _, m := range []string{http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
				rec := serve(t, m, "/api/services", hdr...)
				if rec.Code != tc.want {
					body, _ := io.ReadAll(rec.Body)
					t.Errorf("%s with Origin %q: %d %s, want %d", m, tc.origin, rec.Code, body, tc.want)
				}
				if rec.Code == http.StatusOK && rec.Header().Get("X-Origin") != "" {
					t.Errorf("%s: the Origin reached the API", m)
				}
			}
		})
	}
}

// The whole UI stays small: no framework build, no fonts, no images.
func TestManager_Size(t *testing.T) {
	if n := Size(); n > 256<<10 {
		t.Fatalf("embedded UI is %d bytes; keep it under 256 KiB", n)
	}
}

// A DNS-rebinding page reaches the Manager under its own host name; only
// IP addresses, localhost and the configured names are answered.
func TestManager_Hosts(t *testing.T) {
	h := Handler(Options{API: echoAPI, Hosts: []string{"gw.example.com"}})
	for host, want := range map[string]int{
		"127.0.0.1:8002": http.StatusOK, "[::1]:8002": http.StatusOK, "localhost:8002": http.StatusOK,
		"gw.example.com:8002": http.StatusOK, "GW.example.com": http.StatusOK, "app.localhost:8002": http.StatusOK,
		"evil.test:8002": http.StatusMisdirectedRequest, "127.0.0.1.evil.test": http.StatusMisdirectedRequest,
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/services", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
}
