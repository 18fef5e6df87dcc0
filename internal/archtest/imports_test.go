package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImports runs `go list` over the whole module and checks every
// package, and its tests, against rules.go.
func TestImports(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages of ours; expected the whole module", len(pkgs))
	}
	for _, line := range check(rules, pkgs) {
		t.Error(line)
	}
}

// TestCheck shows the checker catches each kind of break, so a green
// TestImports means something.
func TestCheck(t *testing.T) {
	p := func(rel string, imports ...string) pkgInfo {
		info := pkgInfo{ImportPath: module + "/" + rel}
		for _, imp := range imports {
			if !strings.Contains(imp, ".") && !strings.Contains(imp, "/http") {
				imp = module + "/" + imp
			}
			info.Imports = append(info.Imports, imp)
		}
		return info
	}
	tests := []struct {
		name string
		pkg  pkgInfo
		want string // substring of the only violation; "" for none
	}{
		{"allowed", p("admin", "store", "schema"), ""},
		{"subpackage allowed", p("xds/resolve", "translator", "xds"), ""},
		{"upward import", p("store", "admin"), `store imports admin, which rule "store" does not allow`},
		{"nothing imports admin", p("xds", "admin"), `rule "xds/..." does not allow`},
		{"outside denied", p("translator", "net/http"), `translator imports net/http, denied`},
		{"envoy in store", p("store", "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"), "denied by rule"},
		{"raftstore is not store", p("admin", "store/raftstore"), "does not allow"},
		{"unknown package", p("plugins", "store"), "plugins: no row in internal/archtest/rules.go"},
		{"test helper in tests", pkgInfo{ImportPath: module + "/xds", TestImports: []string{module + "/internal/adstest"}}, ""},
		{"e2e test imports store", pkgInfo{ImportPath: module + "/e2e", TestImports: []string{module + "/store"}},
			"e2e's tests import store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(rules, []pkgInfo{tt.pkg})
			switch {
			case tt.want == "" && len(got) != 0:
				t.Fatalf("want no violation, got %q", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Fatalf("want one violation containing %q, got %q", tt.want, got)
			}
		})
	}
}

// listPackages returns `go list -e -json ./...` from the module root.
func listPackages(t *testing.T) []pkgInfo {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-e", "-json", "./...")
	cmd.Dir = moduleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	var pkgs []pkgInfo
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkgInfo
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
}

// moduleRoot walks up from the test's directory to the go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}
