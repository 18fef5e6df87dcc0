package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/store"
)

const cliFile = `_format_version: "3.0"
services:
- name: example_service
  url: http://httpbin.konghq.com
  routes:
  - name: example_route
    paths: [/mock]
`

// config validate|diff|apply|dump against an Admin API: diff exits 2 while
// the node differs from the file, 0 once applied.
func TestConfigCommand(t *testing.T) {
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	api := admin.New(st, admin.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Tokens: []admin.Token{{Secret: "s3cret"}}})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	file := filepath.Join(dir, "kong.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(file, []byte(cliFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(cliFile, "/mock", "mock", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		args = append(args, "--admin-url", srv.URL, "--admin-token", "s3cret")
		if code := run(args, &out, &errb); code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	cli(0, "config", "validate", file)
	if out := cli(1, "config", "validate", bad); !strings.Contains(out, "declarative config is invalid") {
		t.Errorf("validate bad: %s", out)
	}
	if out := cli(2, "config", "diff", file); !strings.Contains(out, "create routes ") || !strings.Contains(out, "2 changes") {
		t.Errorf("diff: %s", out)
	}
	cli(0, "config", "apply", file)
	cli(0, "config", "diff", file)
	dump := cli(0, "config", "dump")
	if !strings.Contains(dump, "example_route") {
		t.Errorf("dump: %s", dump)
	}
	dumped := filepath.Join(dir, "dump.yaml")
	if err := os.WriteFile(dumped, []byte(dump), 0o600); err != nil {
		t.Fatal(err)
	}
	cli(0, "config", "diff", dumped)
	var out, errb bytes.Buffer
	if code := run([]string{"config", "dump", "--admin-url", srv.URL}, &out, &errb); code != 1 {
		t.Errorf("dump without the token: exit %d", code)
	}
}

// serve --declarative-config: the file is applied once; a restart with the
// same file writes nothing; an invalid file is an error.
func TestLoadDeclarative(t *testing.T) {
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := admin.New(st, admin.Options{Logger: log})
	dir := t.TempDir()
	file := filepath.Join(dir, "kong.yaml")
	if err := os.WriteFile(file, []byte(cliFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := loadDeclarative(api, file, log); err != nil {
		t.Fatal(err)
	}
	rev := st.Revision()
	if err := loadDeclarative(api, file, log); err != nil || st.Revision() != rev {
		t.Fatalf("second load: %v, revision %d -> %d", err, rev, st.Revision())
	}
	if err := os.WriteFile(file, []byte(strings.Replace(cliFile, "/mock", "mock", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := loadDeclarative(api, file, log); err == nil || !strings.Contains(err.Error(), "paths") || st.Revision() != rev {
		t.Fatalf("invalid file: %v", err)
	}
}
