package admin

import (
	"net/http"
	"testing"
)

// Two kept services swap their names in one file: one batch, no 409, and
// each keeps its id and its routes.
func TestConfig_NameSwap(t *testing.T) {
	ts := newTestServer(t)
	const a, b = "0b5a0000-0000-4000-8000-00000000000a", "0b5a0000-0000-4000-8000-00000000000b"
	file := func(nameA, nameB string) string {
		return `{"_format_version": "3.0", "services": [
			{"id": "` + a + `", "name": "` + nameA + `", "host": "a.test", "routes": [{"name": "ra", "paths": ["/a"]}]},
			{"id": "` + b + `", "name": "` + nameB + `", "host": "b.test", "routes": [{"name": "rb", "paths": ["/b"]}]}]}`
	}
	ts.postConfig("", "application/json", file("x", "y")).mustStatus(t, http.StatusCreated)
	rev := ts.store.Revision()
	ts.postConfig("", "application/json", file("y", "x")).mustStatus(t, http.StatusCreated)
	if got := ts.store.Revision(); got != rev+1 {
		t.Errorf("swap: revision %d -> %d, want one write", rev, got)
	}
	for name, want := range map[string]string{"x": b, "y": a} {
		svc := ts.do(http.MethodGet, "/services/"+name, nil, encJSON).mustStatus(t, http.StatusOK).obj()
		if svc["id"] != want {
			t.Errorf("service %s has id %v, want %s", name, svc["id"], want)
		}
	}
	if n := count(t, ts, "/services/"+a+"/routes"); n != 1 {
		t.Errorf("service a has %d routes after the swap", n)
	}
	ts.postConfig("?check_hash=1", "application/json", file("y", "x")).mustStatus(t, http.StatusNotModified)
}
