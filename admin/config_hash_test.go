package admin

import (
	"net/http"
	"regexp"
	"testing"
)

func statusHash(t *testing.T, ts *testServer) string {
	t.Helper()
	r := ts.do(http.MethodGet, "/status", nil, encJSON).mustStatus(t, http.StatusOK)
	h, _ := r.obj()["configuration_hash"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(h) {
		t.Fatalf("configuration_hash %q: want 32 hex digits", h)
	}
	return h
}

// configuration_hash is zeros on an empty node, changes with the state,
// stays put when a file is re-applied, and equals on two nodes that hold
// the same file.
func TestStatus_ConfigurationHash(t *testing.T) {
	ts := newTestServer(t)
	if h := statusHash(t, ts); h != emptyConfigHash {
		t.Fatalf("empty node: %s", h)
	}
	ts.postConfig("", "application/yaml", getStartedYAML).mustStatus(t, http.StatusCreated)
	loaded := statusHash(t, ts)
	if loaded == emptyConfigHash {
		t.Fatal("hash still zeros after a file")
	}
	ts.postConfig("", "application/yaml", getStartedYAML).mustStatus(t, http.StatusCreated)
	if h := statusHash(t, ts); h != loaded {
		t.Errorf("re-applied file: %s, was %s", h, loaded)
	}
	other := newTestServer(t)
	other.postConfig("", "application/yaml", getStartedYAML).mustStatus(t, http.StatusCreated)
	if h := statusHash(t, other); h != loaded {
		t.Errorf("another node with the same file: %s, want %s", h, loaded)
	}
	ts.do(http.MethodPatch, "/services/example_service", map[string]any{"retries": 7}, encJSON).mustStatus(t, http.StatusOK)
	if h := statusHash(t, ts); h == loaded {
		t.Error("hash unchanged after a PATCH")
	}
}
