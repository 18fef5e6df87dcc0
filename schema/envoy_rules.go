package schema

import (
	"fmt"
	"math"
	"regexp/syntax"
	"strings"
	"unicode"
)

// Envoy's own rules, checked before a write is accepted so that a 2xx never
// turns into a NACK (ARCHITECTURE.md: never accept what Envoy would reject). Each
// function is pure and returns "" when the value is fine, or the reason,
// worded as a Kong field error, when Envoy would refuse or silently drop
// what switchboard would generate from it.

// EnvoyMaxProgramSize is Envoy's default RE2 program-size limit (runtime
// key re2.max_program_size.error_level, default 100): a safe_regex whose
// compiled program is larger is refused and the whole RouteConfiguration is
// NACKed.
const EnvoyMaxProgramSize = 100

// MinHealthCheckInterval is the smallest non-zero health-check interval or
// timeout Envoy honours: it reads them in whole milliseconds, so a shorter
// one becomes 0, which HealthCheck's proto rules (interval > 0) reject.
const MinHealthCheckInterval = 0.001

// RE2ProgramSize estimates the size RE2 reports for re's compiled program.
// Go's regexp/syntax compiles the same instruction set, except that RE2
// works on bytes: a character class costs one instruction per byte range
// where Go has one rune instruction (see classRanges). Checked against
// Envoy 1.40 by TestEnvoyRules_ProgramSizeAgainstEnvoy: exact for literals
// and ASCII classes, and high rather than low otherwise, so that it may
// refuse a regex at the margin but never lets a NACK through.
func RE2ProgramSize(re string) (int, error) {
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return 0, err
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return 0, err
	}
	size := len(prog.Inst)
	for _, in := range prog.Inst {
		switch in.Op {
		case syntax.InstRune:
			size += classRanges(in.Rune) - 1
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			size++ // two byte ranges in RE2
		}
	}
	// RE2 adds an unanchored-start loop and its own match bookkeeping that
	// Go's program does not hold: two more instructions, as measured.
	return size + 2, nil
}

// classRanges is what RE2 charges for one rune class, as measured against
// Envoy 1.40: one per ASCII range, an upper-case range whose lower-case
// twin is also in the class being free (RE2 folds them into one), up to six
// for the non-ASCII part, and nothing for an open-ended one ([^/], .) or for
// the Kelvin sign and long s that Go's case folding adds.
func classRanges(ranges []rune) int {
	has := func(r rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= r && r <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	ascii, nonASCII, openEnded := 0, 0, false
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if hi == unicode.MaxRune {
			openEnded = true
		}
		if lo > unicode.MaxASCII {
			if lo != 0x17F && lo != 0x212A || lo != hi {
				nonASCII++
			}
			continue
		}
		if hi > unicode.MaxASCII {
			nonASCII++
		}
		top := min(hi, unicode.MaxASCII)
		if lo >= 'A' && top <= 'Z' && has(lo+32) && has(top+32) {
			continue
		}
		ascii++
	}
	if openEnded {
		nonASCII = 0
	}
	return max(1, ascii+min(nonASCII, 6))
}

// RegexProblem says why Envoy's RE2 would refuse re for its size: a
// program larger than EnvoyMaxProgramSize. Syntax errors are the schema's
// to report (in Kong's words), so they are not repeated here.
func RegexProblem(re string) string {
	size, err := RE2ProgramSize(re)
	if err != nil {
		return ""
	}
	if size > EnvoyMaxProgramSize {
		return fmt.Sprintf("regex too complex for the data plane: RE2 program size %d, Envoy allows at most %d", size, EnvoyMaxProgramSize)
	}
	return ""
}

// RoutePathRegexes are the regexes the translator builds from a Kong regex
// path (without its "~"): the match (Kong anchors at the start only, Envoy
// matches the whole path) and the strip_path rewrite. Every one must fit.
func RoutePathRegexes(re string) []string {
	return []string{"(?:" + re + ").*", "^(?:" + re + ")/?"}
}

// RoutePlainPathProblem checks a plain route path: the translator's
// strip_path rewrite is the regex "^<quoted path>/?", so a long path can
// exceed Envoy's program-size limit too.
func RoutePlainPathProblem(p string) string {
	if msg := PathBytesProblem(p); msg != "" {
		return msg
	}
	if size, err := RE2ProgramSize("^" + regexpQuote(p) + "/?"); err == nil && size > EnvoyMaxProgramSize {
		return fmt.Sprintf("path too long for the data plane: its rewrite regex has RE2 program size %d, Envoy allows at most %d", size, EnvoyMaxProgramSize)
	}
	return ""
}

// RoutePathRegexProblem checks a Kong regex path (without "~") in every form
// the translator sends to Envoy.
func RoutePathRegexProblem(re string) string {
	if msg := RegexProblem(re); msg != "" {
		return msg
	}
	for _, form := range RoutePathRegexes(re) {
		if msg := RegexProblem(form); msg != "" {
			return msg
		}
	}
	return ""
}

// RouteHeaderRegex is the one regex the translator builds for a header
// condition with several values or a "~*" regex value: case-insensitive, an
// alternation of the quoted literals and of the regexes, which may match
// anywhere in the value.
func RouteHeaderRegex(values []string) string {
	alts := make([]string, len(values))
	for i, v := range values {
		if re, ok := strings.CutPrefix(v, "~*"); ok {
			alts[i] = ".*(?:" + re + ").*"
		} else {
			alts[i] = regexpQuote(v)
		}
	}
	return "(?i)(?:" + strings.Join(alts, "|") + ")"
}

// RouteHeaderValuesProblem checks the values of one route header condition:
// each value must be a valid header value and each "~*" regex must compile,
// and the combined regex must fit Envoy's program-size limit.
func RouteHeaderValuesProblem(values []string) string {
	needsRegex := len(values) > 1
	for _, v := range values {
		if msg := HeaderValueProblem(v); msg != "" {
			return msg
		}
		if re, ok := strings.CutPrefix(v, "~*"); ok {
			needsRegex = true
			if msg := RegexProblem(re); msg != "" {
				return fmt.Sprintf("invalid regex: '%s' (%s)", re, msg)
			}
		}
	}
	if !needsRegex {
		return ""
	}
	if msg := RegexProblem(RouteHeaderRegex(values)); msg != "" {
		return "values combined: " + msg
	}
	return ""
}

// RouteMethodsRegex is the regex the translator matches :method with when a
// route lists several methods.
func RouteMethodsRegex(methods []string) string {
	quoted := make([]string, len(methods))
	for i, m := range methods {
		quoted[i] = regexpQuote(m)
	}
	return "^(" + strings.Join(quoted, "|") + ")$"
}

// RouteMethodsProblem refuses a method list whose combined regex exceeds
// Envoy's program size (Kong caps neither the number nor the length of
// methods; the seven standard ones use about a third of the limit).
func RouteMethodsProblem(methods []string) string {
	if len(methods) < 2 {
		return ""
	}
	if size, err := RE2ProgramSize(RouteMethodsRegex(methods)); err == nil && size > EnvoyMaxProgramSize {
		return fmt.Sprintf("too many or too long methods for the data plane: their regex has RE2 program size %d, Envoy allows at most %d", size, EnvoyMaxProgramSize)
	}
	return ""
}

// HeaderValueProblem refuses what HTTP and Envoy's header-value rule
// (HTTP_HEADER_VALUE) refuse: NUL, CR and LF.
func HeaderValueProblem(v string) string {
	if i := strings.IndexAny(v, "\x00\r\n"); i >= 0 {
		return fmt.Sprintf("invalid header value: contains %s", byteName(v[i]))
	}
	return ""
}

// PathBytesProblem refuses control characters in a route path: Envoy
// compares them against a request path that can never contain them (its
// codec refuses such requests), so the route would be accepted and never
// match — a silent drop.
func PathBytesProblem(p string) string {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return fmt.Sprintf("invalid path: contains %s", byteName(c))
		}
	}
	return ""
}

// HealthCheckIntervalProblem refuses a positive interval or timeout (in
// seconds) that Envoy would round to zero milliseconds; negative values are
// the schema's range error.
func HealthCheckIntervalProblem(seconds float64) string {
	if math.IsNaN(seconds) || seconds <= 0 || seconds >= MinHealthCheckInterval {
		return ""
	}
	return fmt.Sprintf("value should be 0 (off) or at least %g (the data plane counts in milliseconds)", MinHealthCheckInterval)
}

func byteName(c byte) string {
	switch c {
	case 0:
		return "NUL"
	case '\r':
		return "CR"
	case '\n':
		return "LF"
	}
	return fmt.Sprintf("control character 0x%02x", c)
}

// regexpQuote is regexp.QuoteMeta without importing regexp for one call.
func regexpQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`\.+*?()|[]{}^$`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
