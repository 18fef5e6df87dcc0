package admin

import (
	"net/http"
	"testing"
)

// TestAdmin_ServiceWithClientCert_GoKong replays go-kong's
// TestServiceWithClientCert: go-kong sends the whole created certificate
// (cert, key, created_at, snis…) as the service's client_certificate, and
// Kong keeps only its id (the foreign key is validated as a primary key,
// other fields ignored).
func TestAdmin_ServiceWithClientCert_GoKong(t *testing.T) {
	ts := newTestServer(t)
	p := pairs(t).ec1
	cert := ts.do(http.MethodPost, "/certificates", obj("cert", p.cert, "key", p.key), encJSON).mustStatus(t, http.StatusCreated).obj()
	svc := ts.do(http.MethodPost, "/services", obj("name", "foo", "host", "example.com", "protocol", "https",
		"client_certificate", cert), encJSON).mustStatus(t, http.StatusCreated)
	got, _ := svc.obj()["client_certificate"].(map[string]any)
	if got["id"] != cert["id"] || len(got) != 1 {
		t.Fatalf("client_certificate = %v, want {id: %v}", got, cert["id"])
	}
	ts.do(http.MethodDelete, "/services/"+svc.str("id"), nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodDelete, "/certificates/"+cert["id"].(string), nil, encJSON).mustStatus(t, http.StatusNoContent)
}
