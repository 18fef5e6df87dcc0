package translator

import (
	"regexp"
	"strings"
	"testing"

	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// TestSNIMatcher_KongOrder evaluates the generated filter_chain_matcher the
// way Envoy does (exact map, then the list in order, lowercased SNI; no
// match is the default chain) on the names of Kong's 06-ssl_spec.lua
// "wildcard sni" cases and the one-label rules of §3.2. Envoy itself runs
// the same matcher in e2e/https_test.go.
func TestSNIMatcher_KongOrder(t *testing.T) {
	snis := []*store.SNI{
		sni("*.wildcard.com", "prefix"), sni("wildcard.*", "suffix"), sni("wildcard.org", "exact"),
		sni("test.wildcard.*", "test-suffix"), sni("*.www.wildcard.com", "www-prefix"),
		sni("*.com", "never"), sni("Upper.Test", "upper"),
	}
	m := sniMatcher(snis)
	for name, want := range map[string]string{
		"test.wildcard.com":     "prefix",      // *.wildcard.com
		"wildcard.eu":           "suffix",      // wildcard.*
		"wildcard.org":          "exact",       // exact beats wildcard.*
		"test.wildcard.org":     "test-suffix", // test.wildcard.*
		"test.www.wildcard.com": "www-prefix",  // *.www.wildcard.com, not *.wildcard.com
		"a.b.wildcard.com":      "",            // a prefix wildcard covers one label
		"wildcard.co.uk":        "",            // so does a suffix one
		"example.com":           "",            // "*.com" never matches
		"UPPER.test":            "upper",       // Envoy lowercases the SNI
		"":                      "",            // no SNI: the default chain
	} {
		if got := evalMatcher(t, m, name); got != want {
			t.Errorf("SNI %q selects %q, want %q", name, got, want)
		}
	}
	// The "*" SNI catches every other valid name, but not a connection
	// without SNI (Envoy's ServerNameInput is then empty).
	m = sniMatcher(append(snis, sni("*", "star")))
	for name, want := range map[string]string{
		"a.b.wildcard.com": "star", "wildcard.org": "exact", "": "",
		// Kong's "invalid SNI" cases get the default certificate.
		"a.example.com:600": "", "127.0.0.1": "", "256.256.256.256": "", "*.exam*le.com": "", "a.exam*le.com": "", "::1": "",
	} {
		if got := evalMatcher(t, m, name); got != want {
			t.Errorf("with *: SNI %q selects %q, want %q", name, got, want)
		}
	}
	if sniMatcher(nil) != nil {
		t.Error("no SNIs: want no matcher (the default chain serves everything)")
	}
}

func sni(name, certID string) *store.SNI {
	return &store.SNI{ID: name, Name: name, Certificate: store.ForeignKey{ID: certID}}
}

// evalMatcher returns the certificate id whose chain m selects, "" for the
// default chain.
func evalMatcher(t *testing.T, m *xdsmatcherv3.Matcher, name string) string {
	t.Helper()
	name = strings.ToLower(name)
	var walk func(m *xdsmatcherv3.Matcher) (string, bool)
	onMatch := func(om *xdsmatcherv3.Matcher_OnMatch) (string, bool) {
		if sub := om.GetMatcher(); sub != nil {
			return walk(sub)
		}
		return strings.TrimPrefix(om.GetAction().GetName(), certSecretPrefix), true
	}
	walk = func(m *xdsmatcherv3.Matcher) (string, bool) {
		if m == nil {
			return "", false
		}
		if tree := m.GetMatcherTree(); tree != nil {
			if om, ok := tree.GetExactMatchMap().GetMap()[name]; ok && name != "" {
				if got, ok := onMatch(om); ok {
					return got, true
				}
			}
		}
		for _, fm := range m.GetMatcherList().GetMatchers() {
			re := fm.GetPredicate().GetSinglePredicate().GetValueMatch().GetSafeRegex().GetRegex()
			if regexp.MustCompile(re).MatchString(name) {
				if got, ok := onMatch(fm.GetOnMatch()); ok {
					return got, true
				}
			}
		}
		if m.GetOnNoMatch() != nil {
			return onMatch(m.GetOnNoMatch())
		}
		return "", false
	}
	got, _ := walk(m)
	return got
}
