package schema

import (
	"regexp"
	"strconv"
	"strings"
)

// sugarURL is what LuaSocket's url.parse extracts from a service's url
// shorthand. Go's net/url is stricter and disagrees on inputs such as
// "invalid url" (Kong yields path "invalid url", no host), so the shorthand
// follows LuaSocket's rules instead.
type sugarURL struct {
	scheme, host, port, path string
	hasHost, hasPort         bool
}

var schemeRe = regexp.MustCompile(`^([0-9A-Za-z][0-9A-Za-z+\-.]*):`)

func parseSugarURL(s string) sugarURL {
	var u sugarURL
	if i := strings.Index(s, "#"); i >= 0 {
		s = s[:i]
	}
	if m := schemeRe.FindStringSubmatch(s); m != nil {
		u.scheme = m[1]
		s = s[len(m[0]):]
	}
	if rest, ok := strings.CutPrefix(s, "//"); ok {
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		authority := rest[:end]
		s = rest[end:]
		if i := strings.IndexAny(authority, "?;"); i >= 0 {
			// A query right after the authority ends it, as in LuaSocket.
			s = authority[i:] + s
			authority = authority[:i]
		}
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			authority = authority[at+1:]
		}
		if i := strings.LastIndex(authority, ":"); i >= 0 && !strings.Contains(authority[i:], "]") {
			u.port, u.hasPort = authority[i+1:], true
			authority = authority[:i]
		}
		authority = strings.TrimSuffix(strings.TrimPrefix(authority, "["), "]")
		u.host, u.hasHost = authority, authority != ""
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	u.path = s
	return u
}

// expandServiceURL is the services schema's url shorthand: it overwrites
// protocol, host, port and path (also on PATCH).
func expandServiceURL(in map[string]any) {
	raw, present := in["url"]
	if !present {
		return
	}
	delete(in, "url")
	s, ok := raw.(string)
	if !ok {
		if raw == nil {
			return
		}
		// Not a string: leave the fields alone so that validation reports
		// what is missing; mirrors Kong's tostring() on odd input.
		s = ""
	}
	u := parseSugarURL(s)
	port, portErr := strconv.Atoi(u.port)
	if !u.hasPort || u.port == "" {
		portErr = strconv.ErrSyntax
	}
	protocol := u.scheme
	if protocol == "" {
		protocol = "http"
		if portErr == nil && port == 443 {
			protocol = "https"
		}
	}
	in["protocol"] = protocol
	if u.hasHost {
		in["host"] = u.host
	} else {
		in["host"] = nil
	}
	switch {
	case portErr == nil:
		in["port"] = int64(port)
	case u.hasPort && u.port != "":
		// LuaSocket hands over a non-numeric port as a string; the schema
		// then says "expected an integer".
		in["port"] = u.port
	case protocol == "https":
		in["port"] = int64(443)
	default:
		in["port"] = int64(80)
	}
	if u.path == "" {
		in["path"] = nil
	} else {
		in["path"] = u.path
	}
}

// normalizePath is kong.tools.uri.normalize(path, true): percent-encoded
// unreserved characters are decoded, other escapes upper-cased, dot segments
// removed and repeated slashes merged. Routes' plain paths must already be in
// this form.
func normalizePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			v, _ := strconv.ParseUint(p[i+1:i+3], 16, 8)
			c := byte(v)
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteString("%" + strings.ToUpper(p[i+1:i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(p[i])
	}
	p = b.String()
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return removeDotSegments(p)
}

// removeDotSegments is RFC 3986 section 5.2.4.
func removeDotSegments(in string) string {
	var out []string
	segs := strings.Split(in, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	res := strings.Join(out, "/")
	if strings.HasPrefix(in, "/") && !strings.HasPrefix(res, "/") {
		res = "/" + res
	}
	return res
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isUnreserved(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
