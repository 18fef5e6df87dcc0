package admin

import (
	"net/http"
	"testing"
)

// Route snis take Kong 3.9's default-router rule (wildcard_host): a
// leading or trailing "*" is accepted, in every body encoding, and the
// wildcard errors name the element.
func TestAdmin_RouteSNIWildcards(t *testing.T) {
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			ts := newTestServer(t)
			r := ts.do(http.MethodPost, "/routes", obj("protocols", list("https"), "snis", list("*.wild.test", "wild.*", "exact.test")), enc).
				mustStatus(t, http.StatusCreated)
			subset(t, r.obj(), `{"snis": ["*.wild.test", "wild.*", "exact.test"], "protocols": ["https"]}`)
			r = ts.do(http.MethodPost, "/routes", obj("protocols", list("https"), "snis", list("*.wild.*")), enc).
				mustStatus(t, http.StatusBadRequest)
			subset(t, r.obj(), `{"code": 2, "name": "schema violation", "fields": {"snis": ["only one wildcard must be specified"]}}`)
			r = ts.do(http.MethodPost, "/routes", obj("protocols", list("https"), "snis", list("a.*.test")), enc).
				mustStatus(t, http.StatusBadRequest)
			subset(t, r.obj(), `{"code": 2, "fields": {"snis": ["wildcard must be leftmost or rightmost character"]}}`)
		})
	}
}
