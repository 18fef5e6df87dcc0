package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestResolveTrustedCA(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	fail := filepath.Join(dir, "fail.pem")
	if err := writeUntrustedCA(fail); err != nil {
		t.Fatal(err)
	}
	if got, err := resolveTrustedCA(fail, dir, log); err != nil || got != fail {
		t.Errorf("explicit bundle: %q, %v", got, err)
	}
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveTrustedCA(empty, dir, log); err == nil {
		t.Error("a file without a certificate was accepted")
	}
	if _, err := resolveTrustedCA(filepath.Join(dir, "missing.pem"), dir, log); err == nil {
		t.Error("a missing file was accepted")
	}

	saved := systemCABundles
	t.Cleanup(func() { systemCABundles = saved })
	systemCABundles = []string{empty, fail}
	if got, err := resolveTrustedCA("system", dir, log); err != nil || got != fail {
		t.Errorf("system: %q, %v; want the first bundle holding a certificate", got, err)
	}
	systemCABundles = []string{empty}
	got, err := resolveTrustedCA("system", dir, log)
	if err != nil || got != filepath.Join(dir, "untrusted-ca.pem") {
		t.Fatalf("no bundle: %q, %v", got, err)
	}
	if b, err := os.ReadFile(got); err != nil || !hasPEMCertificate(b) {
		t.Errorf("fail-closed bundle: %v", err)
	}
}
