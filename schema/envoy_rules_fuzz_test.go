package schema

import (
	"regexp"
	"testing"
)

// FuzzEnvoyRules_Regex runs the route regex checks on any pattern: never a
// panic, and every regex Go's RE2 syntax accepts gets a size.
func FuzzEnvoyRules_Regex(f *testing.F) {
	for _, s := range []string{`/users/(?<id>\d+)`, `[a-zA-Z0-9._-]{0,40}`, `(?i)\pL+`, `a{1000}`, `((((a))))`, `[^\x00-\x{10FFFF}]`, `\C`, `(?P<x>`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, re string) {
		_ = RoutePathRegexProblem(re)
		_ = RouteHeaderValuesProblem([]string{"~*" + re, re})
		_ = RoutePlainPathProblem(re)
		if _, err := regexp.Compile(re); err == nil {
			if n, err := RE2ProgramSize(re); err != nil || n <= 0 {
				t.Fatalf("%q compiles in Go but has no size: %d %v", re, n, err)
			}
		}
	})
}
