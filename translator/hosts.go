package translator

import (
	"net"
	"strconv"
	"strings"
)

// catchAllDomain is the virtual host of routes without hosts.
const catchAllDomain = "*"

// routeDomain turns one Kong route host into the Envoy virtual-host domain
// it lives in. Kong matches "host:port" as "Host is host and the connection
// came in on port"; our HCM strips any port from Host before routing
// (strip_any_host_port), so a host whose port is the listener's is the bare
// host, and one with another port can never match on this listener (ok is
// false). Envoy compares domains case-insensitively; we lowercase so that
// "API.example.com" and "api.example.com" share one virtual host.
func routeDomain(host string, listenerPort uint32) (domain string, ok bool) {
	h := strings.ToLower(strings.TrimSpace(host))
	if h == "" {
		return "", false
	}
	name, portStr, hasPort := splitHostPort(h)
	if hasPort {
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil || uint32(port) != listenerPort {
			return "", false
		}
	}
	return name, name != ""
}

// splitHostPort splits "host:port" and "[v6]:port"; a bare host or IPv6
// literal has no port.
func splitHostPort(s string) (host, port string, hasPort bool) {
	if strings.HasPrefix(s, "[") {
		if h, p, err := net.SplitHostPort(s); err == nil {
			return "[" + h + "]", p, true
		}
		return s, "", false
	}
	if strings.Count(s, ":") == 1 {
		i := strings.IndexByte(s, ':')
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// domainKind tells how Envoy (and Kong) match a domain.
type domainKind int

const (
	domainExact  domainKind = iota // api.example.com
	domainSuffix                   // *.example.com (Kong: leftmost label)
	domainPrefix                   // example.*     (Kong: rightmost label)
	domainAny                      // *
)

func kindOf(d string) domainKind {
	switch {
	case d == catchAllDomain:
		return domainAny
	case strings.HasPrefix(d, "*"):
		return domainSuffix
	case strings.HasSuffix(d, "*"):
		return domainPrefix
	}
	return domainExact
}

// coveringPatterns lists the domains whose Kong routes also match every
// request Envoy sends to the virtual host d, d itself first: Envoy picks one
// virtual host per request (exact, then longest suffix wildcard, then longest
// prefix wildcard, then "*"), while Kong weighs all routes at once. So the
// virtual host "api.example.com" must also hold the routes of
// "*.example.com", "*.com" and "api.*". The catch-all "*" pattern, which
// Kong's validation does not produce, covers everything. Candidates are
// returned whether or not any route uses them; the caller looks them up.
func coveringPatterns(d string) []string {
	out := []string{d}
	switch kindOf(d) {
	case domainExact:
		for i := 0; i < len(d); i++ {
			if d[i] != '.' {
				continue
			}
			if i > 0 {
				out = append(out, "*"+d[i:])
			}
			if i+1 < len(d) {
				out = append(out, d[:i+1]+"*")
			}
		}
	case domainSuffix:
		// "*.a.example.com" is covered by "*.example.com" and "*.com".
		for i := 2; i < len(d); i++ {
			if d[i] == '.' {
				out = append(out, "*"+d[i:])
			}
		}
	case domainPrefix:
		// "api.v1.*" is covered by "api.*".
		for i := 0; i < len(d)-2; i++ {
			if d[i] == '.' {
				out = append(out, d[:i+1]+"*")
			}
		}
	case domainAny:
		return out
	}
	return append(out, catchAllDomain)
}
