package main

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-gw/switchboard/admin"
)

func TestLoadAdminTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte("# operators\nrw-1\nro-1 read-only\n\nrw-2 read-write\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := loadAdminTokens("flag-token", path)
	if err != nil {
		t.Fatal(err)
	}
	want := []admin.Token{{Secret: "flag-token"}, {Secret: "rw-1"}, {Secret: "ro-1", ReadOnly: true}, {Secret: "rw-2"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("token %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"a b c\n", "a admin\n", "# only a comment\n"} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadAdminTokens("", path); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := loadAdminTokens("", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestLoadClusterSecret(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadClusterSecret("", "", dir, false); err == nil {
		t.Fatal("the CLI invented a secret")
	}
	s1, err := loadClusterSecret("", "", dir, true)
	if err != nil || len(s1) != 64 {
		t.Fatalf("created %q, %v", s1, err)
	}
	fi, err := os.Stat(filepath.Join(dir, clusterSecretFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
	if s2, _ := loadClusterSecret("", "", dir, true); s2 != s1 {
		t.Fatal("the secret changed across starts")
	}
	if s, _ := loadClusterSecret("given", "", dir, true); s != "given" {
		t.Fatal("--cluster-secret ignored")
	}
	if _, err := loadClusterSecret("", filepath.Join(dir, "missing"), dir, true); err == nil {
		t.Fatal("a missing --cluster-secret-file was replaced by a new secret")
	}
}

func TestExposureWarnings(t *testing.T) {
	base := serveConfig{AdminListen: "127.0.0.1:8001", XDSListen: "127.0.0.1:18000"}
	if w := exposureWarnings(&base, false); len(w) != 0 {
		t.Fatalf("loopback warned: %v", w)
	}
	exposed := base
	exposed.AdminListen, exposed.XDSListen = "0.0.0.0:8001", "10.0.0.1:18000"
	w := exposureWarnings(&exposed, false)
	if len(w) != 2 || !strings.Contains(w[0], "Admin API") || !strings.Contains(w[1], "xDS") {
		t.Fatalf("exposed: %v", w)
	}
	exposed.XDSTLSCA = "ca.pem"
	if w := exposureWarnings(&exposed, true); len(w) != 0 {
		t.Fatalf("authenticated listeners warned: %v", w)
	}
	for addr, want := range map[string]bool{"localhost:1": true, "[::1]:1": true, "127.0.0.2:1": true, ":8001": false, "0.0.0.0:1": false, "host.test:1": false} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v", addr, got)
		}
	}
}

func TestServeFlags_Security(t *testing.T) {
	for _, args := range [][]string{
		{"--admin-tls-cert", "c.pem"},
		{"--xds-tls-key", "k.pem"},
		{"--admin-gui-url", "gui.test"},
		{"--dns-resolver", "127.0.0.1"},
	} {
		if _, _, err := parseServeFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	c, _, err := parseServeFlags([]string{"--admin-gui-url", "http://a.test:8002, https://b.test", "--dns-resolver", "127.0.0.1:53,[::1]:5353"})
	if err != nil {
		t.Fatal(err)
	}
	if got := splitList(c.DNSResolver); len(got) != 2 {
		t.Fatalf("dns resolvers %v", got)
	}
}

func TestEnvoyBootstrap_TLSFlags(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"envoy-bootstrap", "--xds-tls-ca", "/etc/sb/ca.pem", "--tls-cert", "/etc/sb/e.pem", "--tls-key", "/etc/sb/e.key"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "UpstreamTlsContext") || !strings.Contains(out.String(), "/etc/sb/e.key") {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"envoy-bootstrap", "--tls-cert", "/etc/sb/e.pem"}, &out, &errb); code == 0 {
		t.Fatal("a client certificate without a CA was accepted")
	}
}

func TestLocalIdentity_KeptAndTrusted(t *testing.T) {
	dir := t.TempDir()
	a, err := loadOrCreateLocalIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadOrCreateLocalIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !a.leaf.Equal(b.leaf) {
		t.Fatal("the local identity changed across starts: an adopted Envoy would be locked out")
	}
	if fi, _ := os.Stat(a.keyFile); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", fi.Mode())
	}
	// The server accepts the identity as a client certificate.
	pool := x509.NewCertPool()
	pool.AddCert(a.leaf)
	if _, err := a.leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
}

func TestWithScheme(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.1:8001": "https://10.0.0.1:8001", "http://a:1": "http://a:1", "https://a:1": "https://a:1"} {
		if got := withScheme(in); got != want {
			t.Errorf("%q → %q", in, got)
		}
	}
}
