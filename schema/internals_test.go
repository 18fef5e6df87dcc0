package schema

import (
	"testing"
)

func TestSchema_NormalizeTarget(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"konghq.test", "konghq.test:8000", true},
		{"konghq.test:123", "konghq.test:123", true},
		{"001.002.003.004", "1.2.3.4:8000", true},
		{"1.2.3.4:80", "1.2.3.4:80", true},
		{"::1", "[0000:0000:0000:0000:0000:0000:0000:0001]:8000", true},
		{"[::1]:81", "[0000:0000:0000:0000:0000:0000:0000:0001]:81", true},
		{"[2001:DB8::1]", "[2001:0db8:0000:0000:0000:0000:0000:0001]:8000", true},
		{"example_upstream:80", "example_upstream:80", true},
		{"some invalid host name", "", false},
		{"1.2.3.256", "", false},
		{"a.test:65536", "", false},
		{"a-.test", "", false},
		{"a..test", "", false},
		{"[::1", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeTarget(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizeTarget(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSchema_HostValidators(t *testing.T) {
	tests := []struct {
		fn   func(string) string
		in   string
		want string
	}{
		{validateHost, "example.com", ""},
		{validateHost, "example.com:80", "must not have a port"},
		{validateHost, "ex ample", "invalid value: ex ample"},
		{validateSNI, "127.0.0.1", "must not be an IP"},
		{validateSNI, "example.com:1234", "must not have a port"},
		{validateSNI, "/example", "invalid value: /example"},
		{validateUpstreamName, "valid.host.name", ""},
		{validateUpstreamName, "123.123.123.123", "Invalid name ('123.123.123.123'); no ip addresses allowed"},
		{validateUpstreamName, "name:80", "Invalid name ('name:80'); no port allowed"},
		{validateUpstreamName, `\\bad\\name`, `Invalid name ('\\bad\\name'); must be a valid hostname`},
		{validateUTF8Name, "円", ""},
		{validateUTF8Name, "a/b", "invalid value 'a/b': the only accepted ascii characters are alphanumerics or ., -, _, and ~"},
		{validateTag, "with space", ""},
		{validateTag, "a/b", "invalid tag 'a/b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"},
		{validateIPOrCIDR, "10.0.0.0/8", ""},
		{validateIPOrCIDR, "nope", "invalid ip or cidr range: 'nope'"},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("validator(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSchema_SugarURL(t *testing.T) {
	tests := []struct {
		in                   string
		protocol, host, path any
		port                 any
	}{
		{"https://httpbin.konghq.com", "https", "httpbin.konghq.com", nil, int64(443)},
		{"http://service.test/", "http", "service.test", "/", int64(80)},
		{"http://u:p@h.test:81/a/b?q=1#f", "http", "h.test", "/a/b", int64(81)},
		{"grpc://g.test", "grpc", "g.test", nil, int64(80)},
		{"invalid url", "http", nil, "invalid url", int64(80)},
		{"http://[::1]:8080/x", "http", "::1", "/x", int64(8080)},
		{"http://h.test:abc/", "http", "h.test", "/", "abc"},
	}
	for _, tt := range tests {
		in := map[string]any{"url": tt.in}
		expandServiceURL(in)
		if in["protocol"] != tt.protocol || in["host"] != tt.host || in["path"] != tt.path || in["port"] != tt.port {
			t.Errorf("url %q → protocol %v host %v path %v port %v", tt.in, in["protocol"], in["host"], in["path"], in["port"])
		}
		if _, left := in["url"]; left {
			t.Errorf("url %q left in the input", tt.in)
		}
	}
}

func TestSchema_NormalizePath(t *testing.T) {
	tests := map[string]string{
		"/a/b":        "/a/b",
		"/a/../b":     "/b",
		"/a/./b/":     "/a/b/",
		"/%7euser":    "/~user",
		"/%2fx":       "/%2Fx",
		"/a/b/..":     "/a/",
		"/..":         "/",
		"/mock":       "/mock",
		"/a%20b/%41":  "/a%20b/A",
		"/a/./../c/.": "/c/",
	}
	for in, want := range tests {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}
