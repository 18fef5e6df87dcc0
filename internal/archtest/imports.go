package archtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// pkgInfo is the part of `go list -json` the rules read.
type pkgInfo struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// match reports whether the module-relative package rel matches pattern.
func match(pattern, rel string) bool {
	if pattern == "*" {
		return true
	}
	if tree, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == tree || strings.HasPrefix(rel, tree+"/")
	}
	return rel == pattern
}

// ruleFor returns the rule with the longest pattern matching rel.
func ruleFor(rs []rule, rel string) (rule, bool) {
	var best rule
	found := false
	for _, r := range rs {
		if match(r.pkg, rel) && (!found || len(r.pkg) > len(best.pkg)) {
			best, found = r, true
		}
	}
	return best, found
}

func mayImport(patterns []string, rel string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(p, rel) })
}

// ours returns the module-relative path of an import of ours ("" for the
// root package), and whether it is ours at all.
func ours(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// check applies rs to every package and returns one line per violation,
// sorted, each naming the rule to change.
func check(rs []rule, pkgs []pkgInfo) []string {
	var bad []string
	for _, p := range pkgs {
		rel, ok := ours(p.ImportPath)
		if !ok {
			continue
		}
		r, ok := ruleFor(rs, rel)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: no row in internal/archtest/rules.go; add one saying which packages of "+
				"ours it may import and why (and the same row to the package table of ARCHITECTURE.md)", rel))
			continue
		}
		for _, imp := range p.Imports {
			if dep, ok := ours(imp); ok {
				if !mayImport(r.may, dep) {
					bad = append(bad, fmt.Sprintf("%s imports %s, which rule %q does not allow: %s", rel, dep, r.pkg, r.why))
				}
				continue
			}
			for _, d := range r.deny {
				if imp == d || strings.HasPrefix(imp, d+"/") {
					bad = append(bad, fmt.Sprintf("%s imports %s, denied by rule %q: %s", rel, imp, r.pkg, r.why))
				}
			}
		}
		testMay := append(append([]string{rel}, r.may...), testHelpers...)
		for _, imp := range append(slices.Clone(p.TestImports), p.XTestImports...) {
			if dep, ok := ours(imp); ok && !mayImport(testMay, dep) {
				bad = append(bad, fmt.Sprintf("%s's tests import %s, which rule %q does not allow (tests may add only %s): %s",
					rel, dep, r.pkg, strings.Join(testHelpers, ", "), r.why))
			}
		}
	}
	sort.Strings(bad)
	return slices.Compact(bad)
}
