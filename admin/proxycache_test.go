package admin

import (
	"net/http"
	"strings"
	"testing"
)

// TestProxyCacheAPI checks Kong's proxy-cache endpoints: purges touch the
// proxy-cache plugins concerned (a new revision each, nothing else), a
// plugin id that is not a proxy-cache instance is Kong's 404, and reads
// say why they cannot answer.
func TestProxyCacheAPI(t *testing.T) {
	ts := newTestServer(t)
	ts.do(http.MethodDelete, "/proxy-cache", nil, encJSON).mustStatus(t, http.StatusNoContent)
	a := ts.do(http.MethodPost, "/plugins", obj("name", "proxy-cache", "config", obj("strategy", "memory")), encJSON).mustStatus(t, http.StatusCreated).str("id")
	ts.do(http.MethodPost, "/services", obj("name", "s", "url", "http://example.test"), encJSON).mustStatus(t, http.StatusCreated)
	b := ts.do(http.MethodPost, "/services/s/plugins", obj("name", "proxy-cache", "config", obj("strategy", "memory")), encJSON).mustStatus(t, http.StatusCreated).str("id")
	other := ts.do(http.MethodPost, "/plugins", obj("name", "key-auth"), encJSON).mustStatus(t, http.StatusCreated).str("id")
	rev := func(id string) uint64 {
		p, err := ts.store.Snapshot().PluginByID(id)
		if err != nil || p == nil {
			t.Fatalf("plugin %s: %v", id, err)
		}
		return p.ModifyIndex
	}
	before := map[string]uint64{a: rev(a), b: rev(b), other: rev(other)}
	updated := ts.do(http.MethodGet, "/plugins/"+a, nil, encJSON).mustStatus(t, http.StatusOK).obj()["updated_at"]

	ts.do(http.MethodDelete, "/proxy-cache/"+b+"/caches/somekey", nil, encJSON).mustStatus(t, http.StatusNoContent)
	if rev(b) == before[b] || rev(a) != before[a] {
		t.Errorf("a per-plugin purge moved a %d→%d, b %d→%d; want only b", before[a], rev(a), before[b], rev(b))
	}
	ts.do(http.MethodDelete, "/proxy-cache", nil, encJSON).mustStatus(t, http.StatusNoContent)
	if rev(a) == before[a] || rev(other) != before[other] {
		t.Errorf("a purge moved proxy-cache %d→%d, key-auth %d→%d; want only proxy-cache", before[a], rev(a), before[other], rev(other))
	}
	if got := ts.do(http.MethodGet, "/plugins/"+a, nil, encJSON).mustStatus(t, http.StatusOK).obj()["updated_at"]; got != updated {
		t.Errorf("a purge changed updated_at %v → %v", updated, got)
	}
	ts.do(http.MethodDelete, "/proxy-cache/anykey", nil, encJSON).mustStatus(t, http.StatusNoContent)

	for _, path := range []string{"/proxy-cache/" + other + "/caches/k", "/proxy-cache/00000000-0000-4000-8000-000000000000/caches/k"} {
		for _, m := range []string{http.MethodGet, http.MethodDelete} {
			jsonEqual(t, ts.do(m, path, nil, encJSON).mustStatus(t, http.StatusNotFound).obj(), `{"message":"Not found"}`)
		}
	}
	for _, path := range []string{"/proxy-cache/k", "/proxy-cache/" + a + "/caches/k"} {
		if msg := ts.do(http.MethodGet, path, nil, encJSON).mustStatus(t, http.StatusNotImplemented).str("message"); !strings.Contains(msg, "cannot be read") {
			t.Errorf("GET %s: %q, want why", path, msg)
		}
	}
}
