package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-gw/switchboard/schema"
)

// Kong's CA certificate specs (16-ca_certificates_routes_spec.lua,
// 02-db_core_entities_spec.lua) and the TLS references of services and
// upstreams (Kong 3.9, kong/db/dao/ca_certificates.lua).

func digestOf(t *testing.T, pemText string) string {
	t.Helper()
	c, err := schema.ParseCertificatePEM(pemText)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

func TestCACertificates(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	for _, enc := range allEncodings {
		ts := newTestServer(t)
		r := ts.do(http.MethodPost, "/ca_certificates", obj("cert", p.ca1.cert, "cert_digest", "overwritten"), enc).mustStatus(t, http.StatusCreated)
		subset(t, r.obj(), fmt.Sprintf(`{"cert_digest":%q,"tags":null,"created_at":1700000000}`, digestOf(t, p.ca1.cert)))
		if r.str("cert") != p.ca1.cert {
			t.Errorf("%s: cert not kept byte for byte", enc)
		}
	}
	id := ts.do(http.MethodPost, "/ca_certificates", obj("cert", p.ca1.cert), encJSON).mustStatus(t, http.StatusCreated).str("id")
	r := ts.do(http.MethodPost, "/ca_certificates", obj("cert", p.ca1.cert), encJSON).mustStatus(t, http.StatusConflict)
	d := digestOf(t, p.ca1.cert)
	jsonEqual(t, r.body, fmt.Sprintf(`{"code":5,"name":"unique constraint violation","message":"UNIQUE violation detected on '{cert_digest=\"%s\"}'","fields":{"cert_digest":%q}}`, d, d))

	bad := map[string]string{
		"":                                "schema violation (cert: required field missing)",
		p.leaf.cert:                       `schema violation (certificate does not appear to be a CA because it is missing the "CA" basic constraint)`,
		p.caExpired.cert:                  `schema violation (certificate expired, "Not After" time is in the past)`,
		p.ca1.cert + p.ca2.cert:           "schema violation (please submit only one certificate at a time)",
		strings.Repeat("x", 10) + "\nabc": "schema violation (cert: invalid certificate: no PEM block found)",
	}
	for cert, msg := range bad {
		body := obj()
		if cert != "" {
			body["cert"] = cert
		}
		for _, call := range []struct{ method, path string }{
			{http.MethodPost, "/ca_certificates"}, {http.MethodPatch, "/ca_certificates/" + id},
			{http.MethodPut, "/ca_certificates/6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d"},
		} {
			if cert == "" && call.method == http.MethodPatch {
				continue
			}
			r := ts.do(call.method, call.path, body, encJSON).mustStatus(t, http.StatusBadRequest)
			subset(t, r.obj(), fmt.Sprintf(`{"code":2,"message":%q}`, msg))
		}
	}
	// PATCH and PUT update; PUT of a new uuid creates.
	r = ts.do(http.MethodPatch, "/ca_certificates/"+id, obj("cert", p.ca2.cert), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), fmt.Sprintf(`{"cert_digest":%q}`, digestOf(t, p.ca2.cert)))
	ts.do(http.MethodPut, "/ca_certificates/"+id, obj("cert", p.ca1.cert), encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodPut, "/ca_certificates/6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d", obj("cert", p.ca2.cert), encJSON).mustStatus(t, http.StatusOK)
	if n := len(ts.do(http.MethodGet, "/ca_certificates", nil, encJSON).mustStatus(t, http.StatusOK).obj()["data"].([]any)); n != 2 {
		t.Errorf("%d CA certificates", n)
	}
	// Addressed by id only.
	ts.do(http.MethodGet, "/ca_certificates/some-name", nil, encJSON).mustStatus(t, http.StatusNotFound)

	// Referenced by a service: refused with Kong's code 19, nothing changed.
	svc := ts.do(http.MethodPost, "/services", obj("name", "s", "url", "https://b.test", "tls_verify", true, "ca_certificates", list(id)), encJSON).mustStatus(t, http.StatusCreated)
	r = ts.do(http.MethodDelete, "/ca_certificates/"+id, nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, fmt.Sprintf(`{"code":19,"name":"referenced by others","message":"ca certificate %s is still referenced by services (id = %s)"}`, id, svc.str("id")))
	ts.do(http.MethodGet, "/ca_certificates/"+id, nil, encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodPatch, "/services/s", obj("ca_certificates", nil), encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodDelete, "/ca_certificates/"+id, nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodGet, "/ca_certificates/"+id, nil, encJSON).mustStatus(t, http.StatusNotFound)

	// Unknown ids are refused on write (docs/decisions.md; Kong accepts them).
	r = ts.do(http.MethodPatch, "/services/s", obj("ca_certificates", list(id)), encJSON).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"code":4,"name":"foreign key violation"}`)
}

func TestCertificates_ClientCertificateReferences(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	c := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", list("client.test")), encJSON).mustStatus(t, http.StatusCreated)
	cid := c.str("id")
	const missing = "6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d"
	for _, enc := range allEncodings {
		r := ts.do(http.MethodPost, "/services", obj("name", "bad-"+string(enc), "url", "https://b.test", "client_certificate", obj("id", missing)), enc).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, fmt.Sprintf(`{"code":4,"name":"foreign key violation","message":"the foreign key '{id=\"%s\"}' does not reference an existing 'certificates' entity.","fields":{"client_certificate":{"id":%q}}}`, missing, missing))
		ts.do(http.MethodPost, "/services", obj("name", "s-"+string(enc), "url", "https://b.test", "client_certificate", obj("id", cid)), enc).mustStatus(t, http.StatusCreated)
	}
	ts.do(http.MethodPost, "/upstreams", obj("name", "u.test", "client_certificate", obj("id", cid)), encJSON).mustStatus(t, http.StatusCreated)

	// The linked certificate, seen from the service and the upstream.
	got := ts.do(http.MethodGet, "/services/s-json/client_certificate", nil, encJSON).mustStatus(t, http.StatusOK)
	if got.str("id") != cid {
		t.Errorf("client_certificate %s", got.raw)
	}
	ts.do(http.MethodGet, "/upstreams/u.test/client_certificate", nil, encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodDelete, "/services/s-json/client_certificate", nil, encJSON).mustStatus(t, http.StatusMethodNotAllowed)
	ts.do(http.MethodPost, "/services", obj("name", "plain", "url", "https://b.test"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodGet, "/services/plain/client_certificate", nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodDelete, "/services/plain/client_certificate", nil, encJSON).mustStatus(t, http.StatusNotFound)
	if n := len(ts.do(http.MethodGet, "/certificates/"+cid+"/services", nil, encJSON).mustStatus(t, http.StatusOK).obj()["data"].([]any)); n != 3 {
		t.Errorf("/certificates/{c}/services: %d", n)
	}

	// Delete restricted by services, then by the upstream; the SNIs stay
	// (one transaction, unlike Kong).
	r := ts.do(http.MethodDelete, "/certificates/"+cid, nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":4,"name":"foreign key violation","message":"an existing 'services' entity references this 'certificates' entity","fields":{"@referenced_by":"services"}}`)
	ts.do(http.MethodGet, "/snis/client.test", nil, encJSON).mustStatus(t, http.StatusOK)
	for _, enc := range allEncodings {
		ts.do(http.MethodPatch, "/services/s-"+string(enc), obj("client_certificate", nil), encJSON).mustStatus(t, http.StatusOK)
	}
	r = ts.do(http.MethodDelete, "/certificates/client.test", nil, encJSON).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"fields":{"@referenced_by":"upstreams"}}`)
	ts.do(http.MethodPatch, "/upstreams/u.test", obj("client_certificate", nil), encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodDelete, "/certificates/client.test", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodGet, "/snis/client.test", nil, encJSON).mustStatus(t, http.StatusNotFound)

	// client_certificate needs an https/tls service.
	c2 := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1), encJSON).mustStatus(t, http.StatusCreated).str("id")
	ts.do(http.MethodPost, "/services", obj("name", "http", "url", "http://b.test", "client_certificate", obj("id", c2)), encJSON).mustStatus(t, http.StatusBadRequest)
}

func TestTLSSchemas(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	for _, name := range []string{"certificates", "snis", "ca_certificates"} {
		r := ts.do(http.MethodGet, "/schemas/"+name, nil, encJSON).mustStatus(t, http.StatusOK)
		if _, ok := r.obj()["fields"].([]any); !ok {
			t.Errorf("/schemas/%s: %s", name, r.raw)
		}
	}
	r := ts.do(http.MethodGet, "/schemas/certificates", nil, encJSON)
	if !strings.Contains(string(r.raw), `"mutually_required":["cert_alt","key_alt"]`) {
		t.Errorf("certificates entity checks: %s", r.raw)
	}
	r = ts.do(http.MethodPost, "/schemas/certificates/validate", certBody(p.rsa1), encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, r.body, `{"message":"schema validation successful"}`)
	ts.do(http.MethodPost, "/schemas/certificates/validate", obj("cert", p.rsa1.cert, "key", p.rsa2.key), encJSON).mustStatus(t, http.StatusBadRequest)
}
