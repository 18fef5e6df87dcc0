package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestAdmin_Tokens(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.Tokens = []Token{{Secret: "rw-secret"}, {Secret: "ro-secret", ReadOnly: true}}
	})
	const body = `{"name":"s","host":"s.test"}`
	jsonCT := []string{"Content-Type", "application/json"}
	with := func(h ...string) []string { return append(append([]string{}, jsonCT...), h...) }

	// Nothing without a valid token, and nothing changes.
	for _, h := range [][]string{
		jsonCT,
		with("Kong-Admin-Token", "wrong"),
		with("Authorization", "Bearer wrong"),
		with("Authorization", "Basic cnctc2VjcmV0Og=="),
		with("Kong-Admin-Token", "rw-secre"),
		with("Kong-Admin-Token", "rw-secret-"),
	} {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			rec := ts.send(m, "/services", body, h...)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("%s %v: %d", m, h, rec.Code)
			}
			jsonEqual(t, parseJSON(t, rec.Body.Bytes()), `{"message":"Invalid credentials. Token or User credentials required"}`)
		}
	}
	if ts.store.Revision() != 0 {
		t.Fatal("an unauthenticated write changed the store")
	}
	// Preflights carry no credentials and change nothing.
	if rec := ts.send(http.MethodOptions, "/services", ""); rec.Code != http.StatusNoContent {
		t.Fatalf("preflight: %d", rec.Code)
	}

	// Read-only: GET yes, writes 403.
	if rec := ts.send(http.MethodGet, "/services", "", "Kong-Admin-Token", "ro-secret"); rec.Code != http.StatusOK {
		t.Fatalf("read-only GET: %d", rec.Code)
	}
	for m, action := range map[string]string{http.MethodPost: "create", http.MethodPatch: "update", http.MethodPut: "update", http.MethodDelete: "delete"} {
		rec := ts.send(m, "/services/x", body, with("Authorization", "Bearer ro-secret")...)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "permissions to "+action) {
			t.Fatalf("read-only %s: %d %s", m, rec.Code, rec.Body)
		}
	}
	if ts.store.Revision() != 0 {
		t.Fatal("a read-only write changed the store")
	}

	// Read-write: both headers work.
	if rec := ts.send(http.MethodPost, "/services", body, with("Kong-Admin-Token", "rw-secret")...); rec.Code != http.StatusCreated {
		t.Fatalf("write: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.send(http.MethodDelete, "/services/s", "", "Authorization", "bearer rw-secret"); rec.Code != http.StatusNoContent {
		t.Fatalf("bearer write: %d %s", rec.Code, rec.Body)
	}
}

func TestTokenSet_EmptySecretsIgnored(t *testing.T) {
	ts := newTokenSet([]Token{{Secret: ""}})
	if ts.enabled() {
		t.Fatal("an empty secret enabled auth")
	}
	if ok, _ := newTokenSet([]Token{{Secret: "a"}}).match(""); ok {
		t.Fatal("empty credential matched")
	}
}

func parseJSON(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return v
}
