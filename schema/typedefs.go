package schema

import (
	"fmt"
	"regexp"
	"strings"
)

// protocols is Kong OSS's constants.PROTOCOLS in schema order (ws/wss are
// Enterprise-only).
var protocols = []string{"grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp"}

var (
	rfc3986PathRe = regexp.MustCompile(`^/[0-9A-Za-z.\-_~/%:@!$&'()*+,;=]*$`)
	percentRe     = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)
	emptySegRe    = regexp.MustCompile(`//`)
	methodRe      = regexp.MustCompile(`^[A-Z]+$`)
)

// validatePath is typedefs.path's custom validator. It returns the error and
// whether the problem is only the character set (routes' regex paths ignore
// that one).
func validatePath(p string) (msg string, charset bool) {
	if !rfc3986PathRe.MatchString(p) {
		return fmt.Sprintf("invalid path: '%s' (characters outside of the reserved list of RFC 3986 found)", p), true
	}
	raw := percentRe.ReplaceAllString(p, "___")
	if i := strings.IndexByte(raw, '%'); i >= 0 {
		end := min(i+3, len(raw))
		return fmt.Sprintf("invalid url-encoded value: '%s'", raw[i:end]), false
	}
	return "", false
}

// fPath is typedefs.path: starts with /, no empty segments, RFC 3986
// characters, valid percent-encoding.
func fPath(name string) *Field {
	return &Field{
		name: name, kind: KString, startsWith: "/",
		matchNone: []pattern{{re: emptySegRe, err: "must not have empty segments"}},
		custom: func(s string) string {
			msg, _ := validatePath(s)
			return msg
		},
	}
}

// validateRouterPath is typedefs.router_path's validator: plain paths must
// be normalised already; regex paths (~/...) must compile.
//
// Kong compiles route regexes with PCRE; Go has RE2, which rejects
// backreferences and lookaround that PCRE accepts. A path RE2 cannot compile
// is refused here with Kong's message shape, the RE2 error standing in for
// PCRE's, because the data plane (Envoy, also RE2) could not use it either.
func validateRouterPath(p string) string {
	msg, charset := validatePath(p)
	if msg != "" && !charset {
		return msg
	}
	if !strings.HasPrefix(p, "~") {
		if n := normalizePath(p); n != p {
			return fmt.Sprintf("non-normalized path, consider use '%s' instead", n)
		}
		return ""
	}
	re := p[1:]
	if _, err := regexp.Compile(re); err != nil {
		return fmt.Sprintf("invalid regex: '%s' (PCRE returned: %s)", re, re2Reason(err))
	}
	return ""
}

// re2Reason strips Go's "error parsing regexp: " prefix.
func re2Reason(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// fHeaders is typedefs.headers: a map of header name to a list of values.
func fHeaders(name string) *Field {
	return &Field{
		name: name, kind: KMap,
		keys:   &Field{kind: KString, custom: validateHeaderName},
		values: &Field{kind: KArray, elements: &Field{kind: KString}},
	}
}

func fHost(name string) *Field {
	return &Field{name: name, kind: KString, custom: validateHost}
}

func fPort(name string) *Field {
	return Integer(name).Between(0, 65535)
}

func fUTF8Name() *Field {
	return &Field{name: "name", kind: KString, unique: true, custom: validateUTF8Name}
}
