package admin

import (
	"net/http"
	"strings"
	"testing"
)

// GET of an entity that the xds side quarantined after a NACK carries the
// reason in a header (control characters made safe); other entities and the
// body are untouched.
func TestAdmin_QuarantinedEntityCarriesTheReason(t *testing.T) {
	var routeID string
	ts := newTestServer(t, func(o *Options) {
		o.Quarantined = func(id string) (string, bool) {
			if id == routeID {
				return "Envoy envoy-1 rejected it\r\nX-Evil: 1", true
			}
			return "", false
		}
	})
	if r := ts.do("POST", "/services", map[string]any{"name": "s1", "url": "http://127.0.0.1:9"}, encJSON); r.status != http.StatusCreated {
		t.Fatalf("POST /services = %d %s", r.status, r.raw)
	}
	r := ts.do("POST", "/services/s1/routes", map[string]any{"name": "r1", "paths": []any{"/a"}}, encJSON)
	if r.status != http.StatusCreated {
		t.Fatalf("POST route = %d %s", r.status, r.raw)
	}
	routeID = r.str("id")

	got := ts.do("GET", "/routes/r1", nil, encJSON)
	v := got.header.Get(QuarantineHeader)
	if got.status != http.StatusOK || !strings.Contains(v, "rejected it") || strings.ContainsAny(v, "\r\n") {
		t.Fatalf("GET /routes/r1 = %d, %s = %q, want 200 and the reason on one line", got.status, QuarantineHeader, v)
	}
	if got.str("id") != routeID {
		t.Fatalf("body changed: %s", got.raw)
	}
	if h := ts.do("GET", "/services/s1", nil, encJSON).header.Get(QuarantineHeader); h != "" {
		t.Fatalf("service carries %q, want nothing", h)
	}
}

func TestHeaderSafe_CutsOnARuneBoundary(t *testing.T) {
	if got := headerSafe("ééé", 3); got != "é" {
		t.Fatalf("headerSafe = %q, want one é", got)
	}
}
