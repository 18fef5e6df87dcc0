package translator

import (
	"regexp"
	"testing"
)

// Route snis follow Kong 3.9's default router: exact, "*.x" a suffix of any
// depth, "x.*" a prefix of any depth, a trailing dot dropped.
func TestSNIRouteMatcher(t *testing.T) {
	m := sniRouteMatcher([]string{"exact.test.", "*.wild.test", "pre.*"})
	if m.GetKey() != sniFilterStateKey {
		t.Fatalf("key %q", m.GetKey())
	}
	re := regexp.MustCompile(m.GetStringMatch().GetSafeRegex().GetRegex())
	for name, want := range map[string]bool{
		"exact.test": true, "exact.test.": false, "a.exact.test": false,
		"a.wild.test": true, "a.b.wild.test": true, "wild.test": false,
		"pre.example": true, "pre.a.b": true, "prefix.example": false,
	} {
		if got := re.MatchString(name); got != want {
			t.Errorf("SNI %q: match %v, want %v", name, got, want)
		}
	}
}
