package archtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestDepguard_AgreesWithRules keeps .golangci.yml's depguard deny lists
// and rules.go from contradicting each other: no package may be denied, by
// a depguard rule covering its files, an import of ours that rules.go
// allows it.
func TestDepguard_AgreesWithRules(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), ".golangci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Linters struct {
			Settings struct {
				Depguard struct {
					Rules map[string]struct {
						Files []string `json:"files"`
						Deny  []struct {
							Pkg string `json:"pkg"`
						} `json:"deny"`
					} `json:"rules"`
				} `json:"depguard"`
			} `json:"settings"`
		} `json:"linters"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf(".golangci.yml: %v", err)
	}
	rulesByName := cfg.Linters.Settings.Depguard.Rules
	if len(rulesByName) == 0 {
		t.Fatal("no depguard rules found in .golangci.yml")
	}
	var ourPkgs []string
	for _, p := range listPackages(t) {
		if rel, ok := ours(p.ImportPath); ok {
			ourPkgs = append(ourPkgs, rel)
		}
	}
	for name, dg := range rulesByName {
		for _, pkg := range ourPkgs {
			if !coveredBy(dg.Files, pkg) {
				continue
			}
			r, ok := ruleFor(rules, pkg)
			if !ok {
				continue // TestImports reports it
			}
			for _, d := range dg.Deny {
				denied, ok := ours(d.Pkg)
				if !ok {
					continue
				}
				for _, target := range ourPkgs {
					if target != pkg && (target == denied || strings.HasPrefix(target, denied+"/")) && mayImport(r.may, target) {
						t.Errorf("depguard rule %q denies %s to %s, which internal/archtest/rules.go (row %q) allows: change one of them",
							name, target, pkg, r.pkg)
					}
				}
			}
		}
	}
}

// coveredBy reports whether a depguard files glob of the "**/dir/**" form
// covers the files of package rel.
func coveredBy(globs []string, rel string) bool {
	for _, g := range globs {
		dir := strings.TrimSuffix(strings.TrimPrefix(g, "**/"), "/**")
		if rel == dir || strings.HasPrefix(rel, dir+"/") || strings.Contains("/"+rel+"/", "/"+dir+"/") {
			return true
		}
	}
	return false
}
