package schema

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// HostKind is what Kong's utils.hostname_type decides a string is.
type HostKind int

const (
	HostName HostKind = iota
	HostIPv4
	HostIPv6
)

// Host is Kong's normalize_ip result: the host (IPv4 canonical, IPv6
// expanded without brackets, names as given) and the port, 0 when absent.
type Host struct {
	Kind    HostKind
	Host    string
	Port    int
	HasPort bool
}

var (
	ipv4Re       = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$`)
	ipv4PortRe   = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d+)$`)
	ipv6Re       = regexp.MustCompile(`^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$`)
	hostnameRe   = regexp.MustCompile(`^[0-9A-Za-z\-._]+$`)
	digitsRe     = regexp.MustCompile(`^[0-9.]+$`)
	optDigitsRe  = regexp.MustCompile(`^\d*$`)
	portDigitsRe = regexp.MustCompile(`^\d+$`)
)

// hostnameType mirrors utils.hostname_type: more than one colon is IPv6,
// digits and dots (after dropping one colon) IPv4, anything else a name.
func hostnameType(s string) HostKind {
	colons := strings.Count(s, ":")
	if colons > 1 {
		return HostIPv6
	}
	if digitsRe.MatchString(strings.Replace(s, ":", "", 1)) {
		return HostIPv4
	}
	return HostName
}

// ParseHost is Kong's utils.normalize_ip; the error strings are Kong's,
// since they surface in validation messages.
func ParseHost(s string) (Host, string) {
	switch hostnameType(s) {
	case HostIPv4:
		return normalizeIPv4(s)
	case HostIPv6:
		return normalizeIPv6(s)
	default:
		return checkHostname(s)
	}
}

func normalizeIPv4(s string) (Host, string) {
	var m []string
	if strings.Contains(s, ":") {
		m = ipv4PortRe.FindStringSubmatch(s)
	} else {
		m = ipv4Re.FindStringSubmatch(s)
	}
	if m == nil {
		return Host{}, "invalid ipv4 address: " + s
	}
	var octets [4]int
	for i := range 4 {
		octets[i], _ = strconv.Atoi(m[i+1])
		if octets[i] > 255 {
			return Host{}, "invalid ipv4 address: " + s
		}
	}
	p := Host{Kind: HostIPv4, Host: fmt.Sprintf("%d.%d.%d.%d", octets[0], octets[1], octets[2], octets[3])}
	if len(m) == 6 {
		port, err := strconv.Atoi(m[5])
		if err != nil || port > 65535 {
			return Host{}, "invalid port number"
		}
		p.Port, p.HasPort = port, true
	}
	return p, ""
}

func normalizeIPv6(s string) (Host, string) {
	check, portPart := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return Host{}, "invalid ipv6 address: " + s
		}
		check, portPart = s[1:end], s[end+1:]
	}
	p := Host{Kind: HostIPv6}
	if portPart != "" {
		digits, ok := strings.CutPrefix(portPart, ":")
		if !ok || !optDigitsRe.MatchString(digits) {
			return Host{}, "invalid ipv6 address"
		}
		port, err := strconv.Atoi(digits)
		if err != nil || port > 65535 {
			return Host{}, "invalid port number"
		}
		p.Port, p.HasPort = port, true
	}
	if strings.HasPrefix(check, ":") {
		check = "0" + check
	}
	if strings.HasSuffix(check, ":") {
		check += "0"
	}
	if strings.Contains(check, "::") {
		count := strings.Count(check, ":")
		if count > 8 {
			return Host{}, "invalid ipv6 address: " + s
		}
		check = strings.Replace(check, "::", ":"+strings.Repeat("0:", 8-count), 1)
	}
	m := ipv6Re.FindStringSubmatch(check)
	if m == nil {
		return Host{}, "invalid ipv6 address: " + s
	}
	parts := make([]string, 8)
	for i := range 8 {
		parts[i] = strings.ToLower(strings.Repeat("0", 4-len(m[i+1])) + m[i+1])
	}
	p.Host = strings.Join(parts, ":")
	return p, ""
}

func checkHostname(s string) (Host, string) {
	name := s
	p := Host{Kind: HostName}
	if i := strings.LastIndex(s, ":"); i >= 0 && portDigitsRe.MatchString(s[i+1:]) {
		port, err := strconv.Atoi(s[i+1:])
		if err != nil || port > 65535 {
			return Host{}, "invalid port number"
		}
		name, p.Port, p.HasPort = s[:i], port, true
	}
	if !hostnameRe.MatchString(name) {
		return Host{}, "invalid hostname: " + s
	}
	segments := strings.Split(name, ".")
	for i, seg := range segments {
		// No label may end in a dash, and only the last may be empty (a
		// trailing dot makes a fully qualified name).
		if strings.HasSuffix(seg, "-") || (seg == "" && i != len(segments)-1) {
			return Host{}, "invalid hostname: " + s
		}
	}
	p.Host = name
	return p, ""
}

// Format is Kong's utils.format_host: IPv6 in brackets, then the port (or
// defaultPort when the address has none).
func (p Host) Format(defaultPort int) string {
	host := p.Host
	if p.Kind == HostIPv6 {
		host = "[" + host + "]"
	}
	port := defaultPort
	if p.HasPort {
		port = p.Port
	}
	return host + ":" + strconv.Itoa(port)
}

// validateHost is typedefs.host: a name or IP without a port.
func validateHost(s string) string {
	p, err := ParseHost(s)
	if err != "" && err != "invalid port number" {
		return "invalid value: " + s
	}
	if err == "invalid port number" || p.HasPort {
		return "must not have a port"
	}
	return ""
}

// validateHostWithOptionalPort is typedefs.host_with_optional_port.
func validateHostWithOptionalPort(s string) string {
	_, err := ParseHost(s)
	return err
}

// validateSNI is typedefs.sni: a name, never an IP, without a port.
func validateSNI(s string) string {
	p, err := ParseHost(s)
	if err != "" && err != "invalid port number" {
		return "invalid value: " + s
	}
	if err == "" && p.Kind != HostName {
		return "must not be an IP"
	}
	if err == "invalid port number" || p.HasPort {
		return "must not have a port"
	}
	return ""
}

// validateUpstreamName is upstreams' name rule: a hostname without port.
func validateUpstreamName(s string) string {
	p, err := ParseHost(s)
	switch {
	case err != "":
		return fmt.Sprintf("Invalid name ('%s'); must be a valid hostname", s)
	case p.Kind != HostName:
		return fmt.Sprintf("Invalid name ('%s'); no ip addresses allowed", s)
	case p.HasPort:
		return fmt.Sprintf("Invalid name ('%s'); no port allowed", s)
	}
	return ""
}

var (
	headerNameRe = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)
	cookieNameRe = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)
	utf8NameRe   = regexp.MustCompile(`^[\w.\-~\x{80}-\x{10FFFF}]+$`)
)

func validateHeaderName(s string) string {
	if headerNameRe.MatchString(s) {
		return ""
	}
	return fmt.Sprintf("bad header name '%s', allowed characters are A-Z, a-z, 0-9, '_', and '-'", s)
}

func validateCookieName(s string) string {
	if cookieNameRe.MatchString(s) {
		return ""
	}
	return fmt.Sprintf("bad cookie name '%s', allowed characters are A-Z, a-z, 0-9, '_', and '-'", s)
}

// validateUTF8Name is typedefs.utf8_name (services' and routes' name).
func validateUTF8Name(s string) string {
	if msg := validateUTF8(s); msg != "" {
		return msg
	}
	if !utf8NameRe.MatchString(s) {
		return fmt.Sprintf("invalid value '%s': the only accepted ascii characters are alphanumerics or ., -, _, and ~", s)
	}
	return ""
}

func validateUTF8(s string) string {
	for i, r := range s {
		if r == '\uFFFD' && !strings.HasPrefix(s[i:], "\uFFFD") {
			return fmt.Sprintf("invalid utf-8 character sequence detected at position %d", i+1)
		}
	}
	return ""
}

// validateTag is typedefs.tag: printable ASCII except ',' and '/' (space
// allowed), or UTF-8.
func validateTag(s string) string {
	if msg := validateUTF8(s); msg != "" {
		return msg
	}
	if !ValidTagChars(s) {
		return fmt.Sprintf("invalid tag '%s': expected printable ascii (except `,` and `/`) or valid utf-8 sequences", s)
	}
	return ""
}

// ValidTagChars is the character rule of typedefs.tag (also ?tags= filters).
func ValidTagChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == ' ' || (c >= 0x21 && c <= 0x7e && c != ',' && c != '/') || (c >= 0x80 && c <= 0xf4)
		if !ok {
			return false
		}
	}
	return true
}
