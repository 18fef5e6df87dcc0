package admin

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// A key-auth credential the file gives no key keeps the key it was given
// the first time, and one with a ttl keeps its expiry: re-applying the
// file, later, writes nothing. A longer ttl, or a key, is a change.
func TestConfig_CredentialsWithoutKeyOrWithTTL(t *testing.T) {
	var now atomic.Int64
	now.Store(testNow.Unix())
	ts := newTestServer(t, func(o *Options) { o.Now = func() time.Time { return time.Unix(now.Load(), 0) } })
	file := `_format_version: "3.0"
consumers:
- username: luka
  keyauth_credentials:
  - tags: [generated]
  - key: short-lived
    ttl: 3600
`
	ts.postConfig("", "application/yaml", file).mustStatus(t, http.StatusCreated)
	keys := func() map[string]bool {
		out := map[string]bool{}
		for _, c := range ts.do(http.MethodGet, "/key-auths", nil, encJSON).mustStatus(t, http.StatusOK).obj()["data"].([]any) {
			out[c.(map[string]any)["key"].(string)] = true
		}
		return out
	}
	first := keys()
	if len(first) != 2 || !first["short-lived"] {
		t.Fatalf("keys %v", first)
	}
	rev := ts.store.Revision()
	now.Add(600)
	ts.postConfig("", "application/yaml", file).mustStatus(t, http.StatusCreated)
	if got := ts.store.Revision(); got != rev {
		t.Errorf("re-apply ten minutes later wrote (revision %d -> %d)", rev, got)
	}
	if again := keys(); len(again) != 2 || !again["short-lived"] || len(first) != len(again) {
		t.Errorf("keys changed: %v -> %v", first, again)
	} else {
		for k := range first {
			if !again[k] {
				t.Errorf("generated key %s replaced: %v", k, again)
			}
		}
	}
	ts.postConfig("?check_hash=1", "application/yaml", file).mustStatus(t, http.StatusNotModified)
	longer := `_format_version: "3.0"
consumers:
- username: luka
  keyauth_credentials:
  - tags: [generated]
  - key: short-lived
    ttl: 7200
`
	ts.postConfig("", "application/yaml", longer).mustStatus(t, http.StatusCreated)
	if ts.store.Revision() == rev {
		t.Error("a longer ttl wrote nothing")
	}
}

// check_hash=1 answers 304 for the bytes last applied only while nothing
// else wrote: after a PATCH, the same file is a change again (it undoes
// the PATCH).
func TestConfig_CheckHashAfterAnotherWrite(t *testing.T) {
	ts := newTestServer(t)
	ts.postConfig("", "application/yaml", getStartedYAML).mustStatus(t, http.StatusCreated)
	ts.postConfig("?check_hash=1", "application/yaml", getStartedYAML).mustStatus(t, http.StatusNotModified)
	ts.do(http.MethodPatch, "/services/example_service", map[string]any{"retries": 9}, encJSON).mustStatus(t, http.StatusOK)
	ts.postConfig("?check_hash=1", "application/yaml", getStartedYAML).mustStatus(t, http.StatusCreated)
	svc := ts.do(http.MethodGet, "/services/example_service", nil, encJSON).mustStatus(t, http.StatusOK).obj()
	if svc["retries"] != json.Number("5") {
		t.Errorf("retries %v after re-applying the file, want 5", svc["retries"])
	}
	ts.postConfig("?check_hash=1", "application/yaml", getStartedYAML).mustStatus(t, http.StatusNotModified)
}
