package admin

import (
	"net/http"
	"regexp"
	"testing"
	"time"
)

var generatedKey = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

// 09-key-auth/01-api_spec.lua (its Admin API part; docs/kong-contract.md §11), run
// with JSON, form and multipart bodies.
func TestAdminKeyAuth(t *testing.T) {
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			now := testNow
			ts := newTestServer(t, func(o *Options) { o.Now = func() time.Time { return now } })
			bob := ts.do(http.MethodPost, "/consumers", obj("username", "bob"), enc).mustStatus(t, http.StatusCreated).str("id")
			alice := ts.do(http.MethodPost, "/consumers", obj("username", "alice"), enc).mustStatus(t, http.StatusCreated).str("id")

			// POST with a key, auto-generated keys (they differ), tags, ttl
			r := ts.do(http.MethodPost, "/consumers/bob/key-auth", obj("key", "1234"), enc).mustStatus(t, http.StatusCreated)
			cred := r.str("id")
			jsonEqual(t, r.body, `{"id":"`+cred+`","created_at":1700000000,"consumer":{"id":"`+bob+`"},"key":"1234","tags":null,"ttl":null}`)
			k1 := ts.do(http.MethodPost, "/consumers/bob/key-auth", obj(), enc).mustStatus(t, http.StatusCreated).str("key")
			k2 := ts.do(http.MethodPost, "/consumers/bob/key-auth", obj(), enc).mustStatus(t, http.StatusCreated).str("key")
			if !generatedKey.MatchString(k1) || !generatedKey.MatchString(k2) || k1 == k2 {
				t.Fatalf("generated keys %q %q", k1, k2)
			}
			r = ts.do(http.MethodPost, "/consumers/bob/key-auth", obj("key", "tagged", "tags", list("tag1", "tag2")), enc).mustStatus(t, http.StatusCreated)
			subset(t, r.obj(), `{"tags": ["tag1", "tag2"]}`)
			r = ts.do(http.MethodPost, "/consumers/bob/key-auth", obj("key", "short-lived", "ttl", 10), enc).mustStatus(t, http.StatusCreated)
			shortLived := r.str("id")
			subset(t, r.obj(), `{"ttl": 10}`)
			now = now.Add(4 * time.Second)
			// GET #ttl: entries contain the remaining ttl
			r = ts.do(http.MethodGet, "/consumers/bob/key-auth/short-lived", nil, enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"ttl": 6}`)
			// a bad ttl is Kong's invalid option
			r = ts.do(http.MethodPost, "/consumers/bob/key-auth", obj("ttl", 1.5), enc).mustStatus(t, http.StatusBadRequest)
			jsonEqual(t, r.body, `{"code":11,"name":"invalid options","message":"invalid option (ttl: must be an integer between 0 and 100000000)","options":{"ttl":"must be an integer between 0 and 100000000"}}`)
			// GET "retrieves the first page"
			r = ts.do(http.MethodGet, "/consumers/bob/key-auth", nil, enc).mustStatus(t, http.StatusOK)
			if n := len(r.obj()["data"].([]any)); n != 5 {
				t.Fatalf("bob has %d credentials listed", n)
			}
			// gone after the ttl: reads, lists and lookups
			now = now.Add(7 * time.Second)
			ts.do(http.MethodGet, "/consumers/bob/key-auth/"+shortLived, nil, enc).mustStatus(t, http.StatusNotFound)
			ts.do(http.MethodGet, "/key-auths/short-lived", nil, enc).mustStatus(t, http.StatusNotFound)
			r = ts.do(http.MethodGet, "/consumers/bob/key-auth", nil, enc).mustStatus(t, http.StatusOK)
			if n := len(r.obj()["data"].([]any)); n != 4 {
				t.Fatalf("expired credential still listed: %d", n)
			}

			// /consumers/:consumer/key-auth/:id by id, by key, only its own
			ts.do(http.MethodGet, "/consumers/bob/key-auth/"+cred, nil, enc).mustStatus(t, http.StatusOK)
			ts.do(http.MethodGet, "/consumers/bob/key-auth/1234", nil, enc).mustStatus(t, http.StatusOK)
			ts.do(http.MethodGet, "/consumers/alice/key-auth/"+cred, nil, enc).mustStatus(t, http.StatusNotFound)
			// PUT creates with the key of the path, or with a generated key at a UUID
			r = ts.do(http.MethodPut, "/consumers/alice/key-auth/5678", obj(), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"key": "5678", "consumer": {"id": "`+alice+`"}}`)
			id := "5a1e0000-0000-4000-8000-00000000c0de"
			r = ts.do(http.MethodPut, "/consumers/alice/key-auth/"+id, obj(), enc).mustStatus(t, http.StatusOK)
			if r.str("id") != id || !generatedKey.MatchString(r.str("key")) {
				t.Fatalf("PUT by UUID: %s", r.raw)
			}
			// PATCH by id / by key; a non-string key
			r = ts.do(http.MethodPatch, "/consumers/bob/key-auth/"+cred, obj("key", "4321"), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"key": "4321", "id": "`+cred+`"}`)
			r = ts.do(http.MethodPatch, "/consumers/bob/key-auth/4321", obj("tags", list("x")), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"key": "4321", "tags": ["x"]}`)
			if enc == encJSON {
				r = ts.do(http.MethodPatch, "/consumers/bob/key-auth/4321", obj("key", 123), enc).mustStatus(t, http.StatusBadRequest)
				subset(t, r.obj(), `{"fields": {"key": "expected a string"}}`)
			}
			// duplicate keys across consumers
			r = ts.do(http.MethodPost, "/consumers/alice/key-auth", obj("key", "4321"), enc).mustStatus(t, http.StatusConflict)
			subset(t, r.obj(), `{"message": "UNIQUE violation detected on '{key=\"4321\"}'"}`)
			// DELETE 204, unknown → 404, zero UUID → 404
			ts.do(http.MethodDelete, "/consumers/bob/key-auth/"+cred, nil, enc).mustStatus(t, http.StatusNoContent)
			ts.do(http.MethodDelete, "/consumers/bob/key-auth/blah", nil, enc).mustStatus(t, http.StatusNotFound)
			ts.do(http.MethodDelete, "/consumers/bob/key-auth/00000000-0000-0000-0000-000000000000", nil, enc).mustStatus(t, http.StatusNotFound)

			// /key-auths with and without trailing slash; paging
			for _, p := range []string{"/key-auths", "/key-auths/"} {
				r = ts.do(http.MethodGet, p, nil, enc).mustStatus(t, http.StatusOK)
				if n := len(r.obj()["data"].([]any)); n != 5 {
					t.Fatalf("%s: %d credentials", p, n)
				}
			}
			r = ts.do(http.MethodGet, "/key-auths?size=3", nil, enc).mustStatus(t, http.StatusOK)
			r2 := ts.do(http.MethodGet, "/key-auths?size=3&offset="+r.str("offset"), nil, enc).mustStatus(t, http.StatusOK)
			if len(r2.obj()["data"].([]any)) != 2 || r2.obj()["offset"] != nil {
				t.Fatalf("second page: %s", r2.raw)
			}
			// POST without consumer, then with one
			r = ts.do(http.MethodPost, "/key-auths", obj("key", "1234"), enc).mustStatus(t, http.StatusBadRequest)
			subset(t, r.obj(), `{"message": "schema violation (consumer: required field missing)"}`)
			r = ts.do(http.MethodPost, "/key-auths", obj("key", "1234", "consumer", obj("id", bob)), enc).mustStatus(t, http.StatusCreated)
			subset(t, r.obj(), `{"key": "1234", "consumer": {"id": "`+bob+`"}}`)
			// PUT /key-auths/{key} without / with consumer
			r = ts.do(http.MethodPut, "/key-auths/9999", obj(), enc).mustStatus(t, http.StatusBadRequest)
			subset(t, r.obj(), `{"message": "schema violation (consumer: required field missing)"}`)
			r = ts.do(http.MethodPut, "/key-auths/9999", obj("consumer", obj("username", "alice")), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"key": "9999", "consumer": {"id": "`+alice+`"}}`)
			// /key-auths/{k}/consumer by id, by key, 404s
			c := ts.do(http.MethodGet, "/key-auths/9999/consumer", nil, enc).mustStatus(t, http.StatusOK)
			subset(t, c.obj(), `{"username": "alice"}`)
			ts.do(http.MethodGet, "/key-auths/"+r.str("id")+"/consumer", nil, enc).mustStatus(t, http.StatusOK)
			ts.do(http.MethodGet, "/key-auths/5a1e0000-0000-4000-8000-00000000beef/consumer", nil, enc).mustStatus(t, http.StatusNotFound)
			ts.do(http.MethodGet, "/key-auths/random-key/consumer", nil, enc).mustStatus(t, http.StatusNotFound)

			// deleting the consumer deletes its credentials
			ts.do(http.MethodDelete, "/consumers/alice", nil, enc).mustStatus(t, http.StatusNoContent)
			ts.do(http.MethodGet, "/key-auths/9999", nil, enc).mustStatus(t, http.StatusNotFound)
		})
	}
}
