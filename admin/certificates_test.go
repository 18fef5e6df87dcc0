package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Kong's certificate and SNI Admin API specs (Kong 3.9
// 06-certificates_routes_spec.lua), in JSON, form and multipart where Kong
// runs them in all three.

func certBody(p testPair, kv ...any) map[string]any {
	return obj(append([]any{"cert", p.cert, "key", p.key}, kv...)...)
}

func snisOf(t *testing.T, r *resp) []string {
	t.Helper()
	raw, ok := r.obj()["snis"].([]any)
	if !ok {
		t.Fatalf("no snis list in %s", r.raw)
	}
	out := []string{}
	for _, s := range raw {
		out = append(out, s.(string))
	}
	return out
}

func wantSNIs(t *testing.T, r *resp, want ...string) {
	t.Helper()
	if got := snisOf(t, r); !slices.Equal(got, append([]string{}, want...)) {
		t.Fatalf("snis %v, want %v", got, want)
	}
}

func TestCertificates_CreateWithSNIs(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	for _, enc := range allEncodings {
		n1, n2 := "a-"+string(enc)+".test", "b-"+string(enc)+".test"
		r := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", list(n2, n1)), enc).mustStatus(t, http.StatusCreated)
		wantSNIs(t, r, n1, n2)
		if r.str("cert") != p.rsa1.cert || r.str("key") != p.rsa1.key {
			t.Errorf("%s: cert/key not returned byte for byte", enc)
		}
		subset(t, r.obj(), `{"cert_alt": null, "key_alt": null, "tags": null, "created_at": 1700000000}`)
		// none set → the literal "snis":[]
		r = ts.do(http.MethodPost, "/certificates", certBody(p.rsa1), enc).mustStatus(t, http.StatusCreated)
		if !strings.Contains(string(r.raw), `"snis":[]`) {
			t.Errorf("%s: %s", enc, r.raw)
		}
	}
	// A single form value is a one-element list.
	wantSNIs(t, ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", "single.test"), encForm).mustStatus(t, http.StatusCreated), "single.test")
}

func TestCertificates_SNIConflicts(t *testing.T) {
	p := pairs(t)
	for _, enc := range allEncodings {
		ts := newTestServer(t)
		r := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", list("n1.test", "n1.test")), enc).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (snis: n1.test is duplicated)","fields":{"snis":"n1.test is duplicated"}}`)
		ts.do(http.MethodGet, "/snis/n1.test", nil, encJSON).mustStatus(t, http.StatusNotFound)

		first := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", list("n1.test")), enc).mustStatus(t, http.StatusCreated)
		r = ts.do(http.MethodPost, "/certificates", certBody(p.rsa2, "snis", list("n1.test", "n2.test")), enc).mustStatus(t, http.StatusBadRequest)
		msg := fmt.Sprintf("n1.test already associated with existing certificate '%s'", first.str("id"))
		subset(t, r.obj(), fmt.Sprintf(`{"code":2,"message":"schema violation (snis: %s)","fields":{"snis":%q}}`, msg, msg))
		ts.do(http.MethodGet, "/snis/n2.test", nil, encJSON).mustStatus(t, http.StatusNotFound)
		if n := len(ts.do(http.MethodGet, "/certificates", nil, encJSON).obj()["data"].([]any)); n != 1 {
			t.Errorf("%s: a refused certificate was stored (%d)", enc, n)
		}
	}
}

func TestCertificates_ListAttachesSortedSNIs(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	var names []any
	var want []string
	for i := range 150 {
		n := fmt.Sprintf("n%03d.test", 149-i)
		names = append(names, n)
		want = append(want, n)
	}
	slices.Sort(want)
	ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", names), encJSON).mustStatus(t, http.StatusCreated)
	page := ts.do(http.MethodGet, "/certificates", nil, encJSON).mustStatus(t, http.StatusOK)
	row := page.obj()["data"].([]any)[0].(map[string]any)
	wantSNIs(t, &resp{body: row}, want...)
	if row["cert_alt"] != nil || row["key_alt"] != nil {
		t.Errorf("alt pair: %v %v", row["cert_alt"], row["key_alt"])
	}
	if n := len(ts.do(http.MethodGet, "/snis?size=1000", nil, encJSON).obj()["data"].([]any)); n != 150 {
		t.Errorf("%d snis", n)
	}
}

func TestCertificates_ReadBySNI(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	c := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "cert_alt", p.ec1.cert, "key_alt", p.ec1.key, "snis", list("a.test", "*.wild.test")), encJSON).mustStatus(t, http.StatusCreated)
	byID := ts.do(http.MethodGet, "/certificates/"+c.str("id"), nil, encJSON).mustStatus(t, http.StatusOK)
	for _, key := range []string{"a.test", "%2A.wild.test"} {
		jsonEqual(t, ts.do(http.MethodGet, "/certificates/"+key, nil, encJSON).mustStatus(t, http.StatusOK).body, string(byID.raw))
	}
	wantSNIs(t, byID, "*.wild.test", "a.test")
	if byID.str("cert_alt") != p.ec1.cert {
		t.Error("cert_alt not returned")
	}
	ts.do(http.MethodGet, "/certificates/6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d", nil, encJSON).mustStatus(t, http.StatusNotFound)
	r := ts.do(http.MethodGet, "/certificates/nope.test", nil, encJSON).mustStatus(t, http.StatusNotFound)
	jsonEqual(t, r.body, `{"message":"SNI not found"}`)
	for _, m := range []string{http.MethodPatch, http.MethodDelete} {
		jsonEqual(t, ts.do(m, "/certificates/nope.test", obj(), encJSON).mustStatus(t, http.StatusNotFound).body, `{"message":"SNI not found"}`)
	}
	jsonEqual(t, ts.do(http.MethodPost, "/certificates/nope.test/snis", obj("name", "x.test"), encJSON).mustStatus(t, http.StatusNotFound).body, `{"message":"SNI not found"}`)
	// By unknown id, DELETE is the usual 204.
	ts.do(http.MethodDelete, "/certificates/6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d", nil, encJSON).mustStatus(t, http.StatusNoContent)
}

func TestCertificates_Put(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	const id = "6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d"
	r := ts.do(http.MethodPut, "/certificates/"+id, certBody(p.rsa1, "snis", list("p1.test")), encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, ts.do(http.MethodGet, "/certificates/"+id, nil, encJSON).body, string(r.raw))
	// Upsert by id without snis removes them (a replacement).
	wantSNIs(t, ts.do(http.MethodPut, "/certificates/"+id, certBody(p.rsa2), encJSON).mustStatus(t, http.StatusOK))
	ts.do(http.MethodGet, "/snis/p1.test", nil, encJSON).mustStatus(t, http.StatusNotFound)

	// By an SNI name: a new certificate, the URL's name added to snis.
	for _, body := range []map[string]any{certBody(p.rsa1, "snis", list("n2.test")), certBody(p.rsa1, "snis", list("n1.test", "n2.test"))} {
		ts2 := newTestServer(t)
		r := ts2.do(http.MethodPut, "/certificates/n1.test", body, encJSON).mustStatus(t, http.StatusOK)
		wantSNIs(t, r, "n1.test", "n2.test")
		if !isUUID(r.str("id")) {
			t.Errorf("id %q", r.str("id"))
		}
		// Again by name: the same certificate.
		again := ts2.do(http.MethodPut, "/certificates/n2.test", certBody(p.rsa2, "snis", list("n1.test")), encJSON).mustStatus(t, http.StatusOK)
		if again.str("id") != r.str("id") {
			t.Errorf("PUT by known name made a new certificate")
		}
		wantSNIs(t, again, "n1.test", "n2.test")
	}

	r = ts.do(http.MethodPut, "/certificates/"+id, obj(), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"2 schema violations (cert: required field missing; key: required field missing)","fields":{"cert":"required field missing","key":"required field missing"}}`)
	r = ts.do(http.MethodPut, "/certificates/"+id, certBody(p.rsa1, "cert_alt", p.ec1.cert), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (all or none of these fields must be set: 'cert_alt', 'key_alt')","fields":{"@entity":["all or none of these fields must be set: 'cert_alt', 'key_alt'"]}}`)
}

func TestCertificates_Validation(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	for _, enc := range allEncodings {
		r := ts.do(http.MethodPost, "/certificates", obj("cert", p.rsa1.cert, "key", p.rsa2.key), enc).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (certificate does not match key)","fields":{"@entity":["certificate does not match key"]}}`)
		r = ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "cert_alt", p.ec1.cert, "key_alt", p.ec2.key), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"message":"schema violation (alternative certificate does not match key)"}`)
		r = ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "cert_alt", p.rsa2.cert, "key_alt", p.rsa2.key), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields":{"@entity":["certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), the provided certificates were both of the same type"]}}`)
	}
	for _, tc := range []struct{ field, value, prefix string }{
		{"cert", "garbage", "invalid certificate: "},
		{"key", "garbage", "invalid key: "},
		{"cert", "{vault://env/cert}", "invalid certificate: vault references are not supported"},
		{"key", strings.Replace(p.rsa1.key, "PRIVATE KEY", "PUBLIC KEY", 2), "invalid key: "},
	} {
		body := certBody(p.rsa1)
		body[tc.field] = tc.value
		r := ts.do(http.MethodPost, "/certificates", body, encJSON).mustStatus(t, http.StatusBadRequest)
		if got, _ := r.obj()["fields"].(map[string]any)[tc.field].(string); !strings.HasPrefix(got, tc.prefix) {
			t.Errorf("%s=%.20q: %s", tc.field, tc.value, r.raw)
		}
	}
	// The alternate pair of the other type is accepted.
	ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "cert_alt", p.ec1.cert, "key_alt", p.ec1.key), encJSON).mustStatus(t, http.StatusCreated)
}

func TestCertificates_Patch(t *testing.T) {
	p := pairs(t)
	for _, enc := range allEncodings {
		ts := newTestServer(t)
		c := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", list("a.test", "b.test")), encJSON).mustStatus(t, http.StatusCreated)
		other := ts.do(http.MethodPost, "/certificates", certBody(p.rsa2, "snis", list("o.test")), encJSON).mustStatus(t, http.StatusCreated)
		id := c.str("id")
		// by id and by sni: new cert, snis untouched
		for _, key := range []string{id, "a.test"} {
			r := ts.do(http.MethodPatch, "/certificates/"+key, certBody(p.rsa2), enc).mustStatus(t, http.StatusOK)
			if r.str("cert") != p.rsa2.cert {
				t.Errorf("%s %s: cert not updated", enc, key)
			}
			wantSNIs(t, r, "a.test", "b.test")
		}
		// PATCH {} returns the same object.
		r := ts.do(http.MethodPatch, "/certificates/"+id, obj(), encJSON).mustStatus(t, http.StatusOK)
		jsonEqual(t, r.body, string(ts.do(http.MethodGet, "/certificates/"+id, nil, encJSON).raw))
		// snis replaced; the other certificate untouched.
		wantSNIs(t, ts.do(http.MethodPatch, "/certificates/"+id, obj("snis", list("c.test", "a.test")), enc).mustStatus(t, http.StatusOK), "a.test", "c.test")
		wantSNIs(t, ts.do(http.MethodGet, "/certificates/"+other.str("id"), nil, encJSON), "o.test")
		// a name of another certificate: the exact message, nothing changed.
		r = ts.do(http.MethodPatch, "/certificates/"+id, obj("snis", list("o.test")), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), fmt.Sprintf(`{"message":"schema violation (snis: o.test already associated with existing certificate '%s')"}`, other.str("id")))
		wantSNIs(t, ts.do(http.MethodGet, "/certificates/"+id, nil, encJSON), "a.test", "c.test")
		ts.do(http.MethodPatch, "/certificates/6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d", obj("snis", list("z.test")), enc).mustStatus(t, http.StatusNotFound)
		ts.do(http.MethodGet, "/snis/z.test", nil, encJSON).mustStatus(t, http.StatusNotFound)
	}
	// JSON null deletes them all.
	ts := newTestServer(t)
	c := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", list("a.test")), encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodPatch, "/certificates/"+c.str("id"), `{"snis":null}`, encJSON).mustStatus(t, http.StatusOK)
	if !strings.Contains(string(r.raw), `"snis":[]`) {
		t.Errorf("%s", r.raw)
	}
}

func TestCertificates_Delete(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	keep := ts.do(http.MethodPost, "/certificates", certBody(p.rsa2, "snis", list("keep.test")), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", list("a.test", "b.test")), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodDelete, "/certificates/a.test", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodGet, "/snis/b.test", nil, encJSON).mustStatus(t, http.StatusNotFound)
	if n := len(ts.do(http.MethodGet, "/snis", nil, encJSON).obj()["data"].([]any)); n != 1 {
		t.Errorf("%d snis left", n)
	}
	ts.do(http.MethodDelete, "/certificates/"+keep.str("id"), nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodGet, "/snis/keep.test", nil, encJSON).mustStatus(t, http.StatusNotFound)
}

func TestCertificates_NestedSNIs(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	c := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1, "snis", list("a.test")), encJSON).mustStatus(t, http.StatusCreated)
	other := ts.do(http.MethodPost, "/certificates", certBody(p.rsa2, "snis", list("o.test")), encJSON).mustStatus(t, http.StatusCreated)
	jsonEqual(t, ts.do(http.MethodPost, "/certificates/6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d/snis", obj("name", "x.test"), encJSON).mustStatus(t, http.StatusNotFound).body, `{"message":"Not found"}`)
	for _, enc := range allEncodings {
		for _, parent := range []string{c.str("id"), "a.test"} {
			name := fmt.Sprintf("%s-%d.test", enc, len(parent))
			r := ts.do(http.MethodPost, "/certificates/"+parent+"/snis", obj("name", name), enc).mustStatus(t, http.StatusCreated)
			subset(t, r.obj(), fmt.Sprintf(`{"name":%q,"certificate":{"id":%q},"tags":null}`, name, c.str("id")))
		}
	}
	r := ts.do(http.MethodPost, "/certificates/"+c.str("id")+"/snis", obj("name", "o.test"), encJSON).mustStatus(t, http.StatusConflict)
	subset(t, r.obj(), `{"code":5,"name":"unique constraint violation","message":"UNIQUE violation detected on '{name=\"o.test\"}'","fields":{"name":"o.test"}}`)
	if n := len(ts.do(http.MethodGet, "/certificates/a.test/snis", nil, encJSON).mustStatus(t, http.StatusOK).obj()["data"].([]any)); n != 7 {
		t.Errorf("nested list: %d", n)
	}
	ts.do(http.MethodGet, "/certificates/"+c.str("id")+"/snis/o.test", nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodGet, "/certificates/"+other.str("id")+"/snis/o.test", nil, encJSON).mustStatus(t, http.StatusOK)
}

func TestSNIs_Endpoints(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	c1 := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1), encJSON).mustStatus(t, http.StatusCreated).str("id")
	c2 := ts.do(http.MethodPost, "/certificates", certBody(p.rsa2), encJSON).mustStatus(t, http.StatusCreated).str("id")
	for _, enc := range allEncodings {
		for _, n := range []string{"*." + string(enc) + ".test", string(enc) + ".test.*"} {
			ts.do(http.MethodPost, "/snis", obj("name", n, "certificate", obj("id", c1)), enc).mustStatus(t, http.StatusCreated)
		}
		r := ts.do(http.MethodPost, "/snis", obj("name", "*.wildcard.*", "certificate", obj("id", c1)), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields":{"name":"only one wildcard must be specified"}}`)
	}
	ts.do(http.MethodGet, "/snis/%2A.json.test", nil, encJSON).mustStatus(t, http.StatusOK)
	r := ts.do(http.MethodPost, "/snis", obj(), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"2 schema violations (certificate: required field missing; name: required field missing)","fields":{"certificate":"required field missing","name":"required field missing"}}`)
	r = ts.do(http.MethodPost, "/snis", obj("name", "x.test", "certificate", obj("id", "6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d")), encJSON).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"code":4,"message":"the foreign key '{id=\"6e8e1f9c-8d7a-4b5e-9d7e-0c5f1b2a3c4d\"}' does not reference an existing 'certificates' entity."}`)

	// PUT by name creates, then updates (rename by id).
	r = ts.do(http.MethodPut, "/snis/put.test", obj("certificate", obj("id", c1)), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"name":"put.test"}`)
	subset(t, ts.do(http.MethodPut, "/snis/"+r.str("id"), obj("name", "renamed.test", "certificate", obj("id", c1)), encJSON).mustStatus(t, http.StatusOK).obj(), `{"name":"renamed.test"}`)
	ts.do(http.MethodPut, "/snis/put.test", obj(), encJSON).mustStatus(t, http.StatusBadRequest)

	// Moving an SNI changes both certificates' snis.
	for _, enc := range allEncodings {
		ts.do(http.MethodPatch, "/snis/renamed.test", obj("certificate", obj("id", c2)), enc).mustStatus(t, http.StatusOK)
		if !slices.Contains(snisOf(t, ts.do(http.MethodGet, "/certificates/"+c2, nil, encJSON)), "renamed.test") ||
			slices.Contains(snisOf(t, ts.do(http.MethodGet, "/certificates/"+c1, nil, encJSON)), "renamed.test") {
			t.Errorf("%s: the SNI did not move", enc)
		}
		ts.do(http.MethodPatch, "/snis/renamed.test", obj("certificate", obj("id", c1)), enc).mustStatus(t, http.StatusOK)
	}
	// /snis/{s}/certificate is disabled.
	for _, m := range []string{http.MethodGet, http.MethodPatch, http.MethodPut, http.MethodDelete} {
		jsonEqual(t, ts.do(m, "/snis/renamed.test/certificate", obj(), encJSON).mustStatus(t, http.StatusNotFound).body, `{"message":"Not found"}`)
	}
	ts.do(http.MethodDelete, "/snis/renamed.test", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodGet, "/snis/renamed.test", nil, encJSON).mustStatus(t, http.StatusNotFound)
}

// The name table of 11-snis_spec.lua.
func TestSNIs_NameRules(t *testing.T) {
	p := pairs(t)
	ts := newTestServer(t)
	c := ts.do(http.MethodPost, "/certificates", certBody(p.rsa1), encJSON).mustStatus(t, http.StatusCreated).str("id")
	for _, ok := range []string{"valid.name", "*", "*.wildcard.com", "*.test.wildcard.com", "wildcard.*", "test.wildcard.*", "foo.test.wildcard.*"} {
		ts.do(http.MethodPost, "/snis", obj("name", ok, "certificate", obj("id", c)), encJSON).mustStatus(t, http.StatusCreated)
	}
	for name, want := range map[string]string{
		"foo.*.com":         "wildcard must be leftmost or rightmost character",
		"*.example.*":       "only one wildcard must be specified",
		"*.*.wildcard.*":    "only one wildcard must be specified",
		"127.0.0.1":         "must not be an IP",
		"10.0.0.1:8001":     "must not be an IP",
		"::1":               "must not be an IP",
		"valid.name:8000":   "must not have a port",
		"*.wildcard.com:80": "must not have a port",
		"example^com":       "invalid value: example^com",
	} {
		r := ts.do(http.MethodPost, "/snis", obj("name", name, "certificate", obj("id", c)), encJSON).mustStatus(t, http.StatusBadRequest)
		if got := r.obj()["fields"].(map[string]any)["name"]; got != want {
			t.Errorf("%q: %v, want %q", name, got, want)
		}
	}
}
