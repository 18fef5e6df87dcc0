package admin

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// hostPolicy defends a loopback Admin API against DNS rebinding: a web
// page on evil.test whose name is made to resolve to 127.0.0.1 is
// same-origin with "the Admin API at evil.test:8001", so its reads carry no
// Origin and its scripts could read the answers. Such requests carry the
// page's name in Host; real local clients send an IP literal or localhost.
// Only enforced when Options.LoopbackOnly says the listener is loopback
// (elsewhere names are how clients reach it).
type hostPolicy struct {
	enforce bool
	extra   map[string]bool
}

func newHostPolicy(enforce bool, hosts []string) hostPolicy {
	p := hostPolicy{enforce: enforce, extra: map[string]bool{}}
	for _, h := range hosts {
		p.extra[strings.ToLower(strings.TrimSpace(h))] = true
	}
	return p
}

func (p hostPolicy) allowed(hostport string) bool {
	if !p.enforce || hostport == "" { // no Host: HTTP/1.0, never a browser
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	return p.extra[host]
}

func errHostNotAllowed(host string) *apiError {
	return errStatus(http.StatusForbidden, fmt.Sprintf(
		"Host '%s' refused: the Admin API listens on loopback and answers IP addresses, localhost and --admin-hosts only (DNS rebinding protection)",
		host))
}
