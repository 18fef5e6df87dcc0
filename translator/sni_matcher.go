package translator

import (
	"regexp"
	"strings"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	networkinputsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/network/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/store"
)

// validSNI is what the "*" SNI accepts: Kong serves the default
// certificate, not the "*" one, to an SNI that is no valid host name (a
// port, an IP address, a "*"; 06-ssl_spec.lua "invalid SNI"). RE2 has no
// look-ahead: no ':' or '*', and one character that is neither a digit nor
// a dot (an IPv4 address has none, an IPv6 one has ':').
const validSNI = `^[^:*]*[^:*0-9.][^:*]*$`

// sniMatcher selects a certificate's filter chain by the SNI in Kong's
// order (kong/runloop/certificate.lua find_certificate):
//
//  1. the exact name (an exact_match_map, O(1));
//  2. the SNI's first label replaced by "*" ("*.b.example.com" for
//     a.b.example.com; only for SNIs of three labels or more, so "*.com"
//     matches nothing);
//  3. its last label replaced by "*" ("test.wildcard.*");
//  4. the SNI entity "*";
//  5. nothing matched, or no SNI at all: the default filter chain.
//
// Steps 2–4 are a matcher_list of regexes, tried in order, each wildcard
// covering exactly one label as in Kong. Envoy lowercases the SNI before
// matching (verified on 1.40), so the names are lowercased here; Kong
// compares as stored, but clients send lowercase names. Every SNI entity of
// one certificate leads to that certificate's chain. With no SNI entities
// there is no matcher and every connection takes the default chain.
func sniMatcher(snis []*store.SNI) *xdsmatcherv3.Matcher {
	exact := map[string]*xdsmatcherv3.Matcher_OnMatch{}
	var prefix, suffix, star []*xdsmatcherv3.Matcher_MatcherList_FieldMatcher
	for _, n := range snis {
		name, chain := strings.ToLower(n.Name), CertSecretName(n.Certificate.ID)
		switch {
		case name == "*":
			star = append(star, regexField(validSNI, chain))
		case strings.HasPrefix(name, "*."):
			rest := name[2:]
			if !strings.Contains(rest, ".") {
				continue // "*.com": Kong never builds that candidate
			}
			prefix = append(prefix, regexField(`^[^.]+\.`+regexp.QuoteMeta(rest)+`$`, chain))
		case strings.HasSuffix(name, ".*"):
			suffix = append(suffix, regexField(`^`+regexp.QuoteMeta(name[:len(name)-2])+`\.[^.]+$`, chain))
		default:
			if _, dup := exact[name]; !dup { // names differing in case only: the first by name
				exact[name] = chainAction(chain)
			}
		}
	}
	var fallback *xdsmatcherv3.Matcher
	if list := append(append(prefix, suffix...), star...); len(list) > 0 {
		fallback = &xdsmatcherv3.Matcher{MatcherType: &xdsmatcherv3.Matcher_MatcherList_{
			MatcherList: &xdsmatcherv3.Matcher_MatcherList{Matchers: list},
		}}
	}
	if len(exact) == 0 {
		return fallback
	}
	m := &xdsmatcherv3.Matcher{MatcherType: &xdsmatcherv3.Matcher_MatcherTree_{MatcherTree: &xdsmatcherv3.Matcher_MatcherTree{
		Input:    serverNameInput(),
		TreeType: &xdsmatcherv3.Matcher_MatcherTree_ExactMatchMap{ExactMatchMap: &xdsmatcherv3.Matcher_MatcherTree_MatchMap{Map: exact}},
	}}}
	if fallback != nil {
		m.OnNoMatch = &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Matcher{Matcher: fallback}}
	}
	return m
}

func serverNameInput() *xdscorev3.TypedExtensionConfig {
	return &xdscorev3.TypedExtensionConfig{Name: "server_name", TypedConfig: mustAny(&networkinputsv3.ServerNameInput{})}
}

// chainAction selects the filter chain named chain.
func chainAction(chain string) *xdsmatcherv3.Matcher_OnMatch {
	return &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{Action: &xdscorev3.TypedExtensionConfig{
		Name: chain, TypedConfig: mustAny(wrapperspb.String(chain)),
	}}}
}

// regexField selects chain when the SNI matches re (RE2; Envoy requires
// the engine to be named).
func regexField(re, chain string) *xdsmatcherv3.Matcher_MatcherList_FieldMatcher {
	return &xdsmatcherv3.Matcher_MatcherList_FieldMatcher{
		Predicate: &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
			SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
				Input: serverNameInput(),
				Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: &xdsmatcherv3.StringMatcher{
					MatchPattern: &xdsmatcherv3.StringMatcher_SafeRegex{SafeRegex: &xdsmatcherv3.RegexMatcher{
						Regex:      re,
						EngineType: &xdsmatcherv3.RegexMatcher_GoogleRe2{GoogleRe2: &xdsmatcherv3.RegexMatcher_GoogleRE2{}},
					}},
				}},
			},
		}},
		OnMatch: chainAction(chain),
	}
}
