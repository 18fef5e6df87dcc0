package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSnapshot_SaveAndRestore backs up a running node with `switchboard
// snapshot save`, changes the config, and restores the backup with
// `switchboard snapshot restore`: the Admin API and Envoy both go back to
// the saved state.
func TestSnapshot_SaveAndRestore(t *testing.T) {
	t.Parallel()
	a := startBackend(t, "a")
	s := startStack(t, stackOptions{hosts: map[string]string{"a.test": a.ip}})
	s.mustAPI("POST", "/services", form("name", "kept", "url", fmt.Sprintf("http://a.test:%d", a.port)), 201)
	s.mustAPI("POST", "/services/kept/routes", form("name", "kept", "paths[]", "/kept"), 201)
	s.converge("route before the backup", func() (bool, string) {
		r := s.get("/kept/anything", "")
		return r.backend == "a", r.String()
	})
	backup := filepath.Join(t.TempDir(), "backup.json")
	snapshotCLI(t, "save", backup, s)

	s.mustAPI("DELETE", "/routes/kept", nil, 204)
	s.mustAPI("POST", "/services", form("name", "later", "url", "http://a.test:1"), 201)
	s.converge("route deleted after the backup", func() (bool, string) {
		r := s.get("/kept/anything", "")
		return r.status == 404, r.String()
	})

	snapshotCLI(t, "restore", backup, s)
	if r := s.api("GET", "/services/later", nil); r.status != 404 {
		t.Fatalf("service created after the backup survived the restore: %d", r.status)
	}
	s.mustAPI("GET", "/routes/kept", nil, 200)
	s.converge("route back after the restore", func() (bool, string) {
		r := s.get("/kept/anything", "")
		return r.backend == "a", r.String()
	})
}

// snapshotCLI runs `switchboard snapshot` as an operator on the node's
// machine would: the cluster secret comes from the node's data directory.
func snapshotCLI(t *testing.T, verb, file string, s *stack) {
	t.Helper()
	out, err := exec.Command(switchboardBin, "snapshot", verb, file, "--admin", s.adminAddr, "--data-dir", s.dataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("switchboard snapshot %s: %v\n%s", verb, err, out)
	}
	if !strings.Contains(string(out), file) {
		t.Fatalf("switchboard snapshot %s: %s", verb, out)
	}
}
