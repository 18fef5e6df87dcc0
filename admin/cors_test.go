package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// send is one request with extra headers; it returns the recorder.
func (ts *testServer) send(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	ts.t.Helper()
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return rec
}

// Kong's 23-cors_spec.lua for the answers that are safe, and our refusal
// of credentialed access from origins nobody allowed.
func TestAdmin_CORS(t *testing.T) {
	const gui = "http://gui.test:8002"
	open := newTestServer(t)
	withGUI := newTestServer(t, func(o *Options) { o.AllowedOrigins = []string{gui + "/some/path"} })
	tests := []struct {
		name        string
		ts          *testServer
		origin      string
		wantOrigin  string
		wantCredent string
	}{
		// No Origin: Kong's "*" (its quickstart checks for it), never with
		// credentials, which browsers reject beside "*".
		{"no origin, no list", open, "", "*", ""},
		{"no origin, gui url", withGUI, "", gui, "true"},
		// Kong echoes any Origin here; we do not.
		{"foreign origin, no list", open, "http://evil.test", "", ""},
		{"foreign origin, gui url", withGUI, "http://evil.test", "", ""},
		{"null origin", withGUI, "null", "", ""},
		{"allowed origin", withGUI, gui, gui, "true"},
		{"allowed origin, other case", withGUI, "HTTP://GUI.test:8002", "HTTP://GUI.test:8002", "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []string{http.MethodGet, http.MethodOptions} {
				rec := tt.ts.send(m, "/", "", "Origin", tt.origin)
				if rec.Code != http.StatusOK && rec.Code != http.StatusNoContent {
					t.Fatalf("%s: %d", m, rec.Code)
				}
				h := rec.Header()
				if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
					t.Errorf("%s: Allow-Origin %q, want %q", m, got, tt.wantOrigin)
				}
				if got := h.Get("Access-Control-Allow-Credentials"); got != tt.wantCredent {
					t.Errorf("%s: Allow-Credentials %q, want %q", m, got, tt.wantCredent)
				}
				if h.Get("Access-Control-Allow-Origin") == "*" && h.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("%s: * with credentials", m)
				}
				if m == http.MethodGet && (h.Get("Access-Control-Allow-Methods") != "" || h.Get("Access-Control-Allow-Headers") != "") {
					t.Errorf("main request carries preflight headers: %v", h)
				}
			}
		})
	}
}

func TestAdmin_CORSPreflight(t *testing.T) {
	const gui = "http://gui.test:8002"
	ts := newTestServer(t, func(o *Options) { o.AllowedOrigins = []string{gui} })
	rec := ts.send(http.MethodOptions, "/services", "", "Origin", gui,
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,kong-admin-token")
	h := rec.Header()
	if rec.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Methods") != "GET, HEAD, OPTIONS, POST" ||
		h.Get("Access-Control-Allow-Headers") != "content-type,kong-admin-token" || h.Get("Access-Control-Allow-Origin") != gui {
		t.Fatalf("allowed preflight: %d %v", rec.Code, h)
	}
	rec = ts.send(http.MethodOptions, "/services", "", "Origin", "http://evil.test",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	h = rec.Header()
	if h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Methods") != "" || h.Get("Access-Control-Allow-Headers") != "" {
		t.Fatalf("foreign preflight allowed: %v", h)
	}
	if h.Get("Allow") != "GET, HEAD, OPTIONS, POST" {
		t.Fatalf("Allow %q", h.Get("Allow"))
	}
}

// A hostile page can POST a form or text/plain body without a preflight.
// Every write from an Origin nobody allowed is refused before it runs.
func TestAdmin_ForeignOriginWritesRefused(t *testing.T) {
	const gui = "http://gui.test:8002"
	for _, origins := range [][]string{nil, {gui}} {
		ts := newTestServer(t, func(o *Options) { o.AllowedOrigins = origins })
		writes := []struct{ method, path, ctype, body string }{
			{http.MethodPost, "/services", "application/x-www-form-urlencoded", "name=evil&host=evil.test"},
			{http.MethodPost, "/services", "text/plain", `{"name":"evil","host":"evil.test"}`},
			{http.MethodPost, "/services", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"host\"\r\n\r\nevil.test\r\n--x--\r\n"},
			{http.MethodPut, "/services/evil", "application/json", `{"host":"evil.test"}`},
			{http.MethodDelete, "/services/kept", "", ""},
		}
		ts.do(http.MethodPost, "/services", map[string]any{"name": "kept", "host": "kept.test"}, encJSON).mustStatus(t, http.StatusCreated)
		rev := ts.store.Revision()
		for _, w := range writes {
			for _, origin := range []string{"http://evil.test", "null", "http://gui.test:8003"} {
				rec := ts.send(w.method, w.path, w.body, "Origin", origin, "Content-Type", w.ctype)
				if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "cross-origin write") {
					t.Fatalf("%s %s from %s: %d %s", w.method, w.path, origin, rec.Code, rec.Body)
				}
				if rec.Header().Get("Access-Control-Allow-Origin") != "" {
					t.Fatalf("refusal readable by the page: %v", rec.Header())
				}
			}
		}
		if got := ts.store.Revision(); got != rev {
			t.Fatalf("a refused write changed the store: revision %d → %d", rev, got)
		}
		ts.do(http.MethodGet, "/services/kept", nil, encJSON).mustStatus(t, http.StatusOK)
		if len(origins) > 0 {
			rec := ts.send(http.MethodPost, "/services", `{"name":"gui","host":"gui.test"}`, "Origin", gui, "Content-Type", "application/json")
			if rec.Code != http.StatusCreated {
				t.Fatalf("write from the allowed origin: %d %s", rec.Code, rec.Body)
			}
		}
	}
}

func TestNormalizeOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://gui.test:8002/path/x": "http://gui.test:8002",
		"HTTPS://GUI.test:443":        "https://gui.test",
		"http://127.0.0.1:80":         "http://127.0.0.1",
		" http://[::1]:8002 ":         "http://[::1]:8002",
	} {
		if got, err := NormalizeOrigin(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "gui.test", "ftp://gui.test", "http://"} {
		if _, err := NormalizeOrigin(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
