package schema

import (
	"net"
	"strconv"
	"strings"
)

// Kong's defaults that other layers need as numbers.
const (
	// DefaultTargetPort is the port Kong gives a target, or a health
	// override's address, written without one (the targets DAO's
	// format_target).
	DefaultTargetPort = 8000
	// DefaultTimeoutMS is a service's default connect, write and read
	// timeout.
	DefaultTimeoutMS = 60000
)

// NormalizeTarget is the targets DAO's format_target: default port 8000,
// canonical IPv4, expanded and bracketed IPv6. ok is false for anything
// that is not a hostname or IP address.
func NormalizeTarget(s string) (string, bool) {
	p, err := ParseHost(s)
	if err != "" {
		return "", false
	}
	return p.Format(DefaultTargetPort), true
}

// SplitTarget parses a stored target or override address: "host:port",
// "[v6]:port", or a bare host, which gets DefaultTargetPort. host comes
// back without brackets. It is the one parser every layer uses; stored
// targets are already normalised, so this is a cheap split, not Kong's
// validation (ParseHost).
func SplitTarget(target string) (host string, port uint16, ok bool) {
	h, p, err := net.SplitHostPort(target)
	if err != nil {
		// No port: a name, an IPv4, or a bare or bracketed IPv6 literal.
		return strings.Trim(target, "[]"), DefaultTargetPort, target != ""
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || h == "" {
		return "", 0, false
	}
	return h, uint16(n), true
}
