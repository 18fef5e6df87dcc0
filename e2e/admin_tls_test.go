package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecurity_AdminMutualTLS: the Admin API over TLS with client
// certificates and a token. A client without a certificate from the CA gets
// no answer; one with a certificate and the token works; the snapshot CLI
// saves over https with the CA and the data dir's cluster secret.
func TestSecurity_AdminMutualTLS(t *testing.T) {
	t.Parallel()
	requireStack(t)
	dir := t.TempDir()
	ca := newTestCA(t, "admin-ca")
	srvCert, srvKey := ca.issue(t, "admin.test")
	cliCert, cliKey := ca.issue(t, "operator")
	caFile := writeFile(t, dir, "ca.pem", ca.pem)
	dataDir := filepath.Join(dir, "data")
	adminAddr := freePort(t)
	cp := startProc(t, "switchboard", switchboardBin, append([]string{"serve",
		"--admin-listen", adminAddr, "--xds-listen", freePort(t), "--manager-listen", "off",
		"--data-dir", dataDir, "--dns-hostsfile", writeFile(t, dir, "hosts", nil), "--node-id", "admin-tls",
		"--admin-tls-cert", writeFile(t, dir, "srv.pem", srvCert), "--admin-tls-key", writeFile(t, dir, "srv-key.pem", srvKey),
		"--admin-tls-ca", caFile, "--admin-token", "tls-token"}, dnsResolverArgs(t)...)...)

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	pair, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: roots, ServerName: "admin.test", Certificates: certs}}}
	}
	get := func(c *http.Client, token string) (int, error) {
		req, _ := http.NewRequest("GET", "https://"+adminAddr+"/services", nil)
		if token != "" {
			req.Header.Set("Kong-Admin-Token", token)
		}
		res, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	eventually(t, startBound, "the Admin API answers over mTLS", func() (bool, string) {
		if cp.exited() {
			t.Fatalf("switchboard exited:\n%s", cp.out.tail(30))
		}
		code, err := get(client(pair), "tls-token")
		return code == 200, fmt.Sprintf("%d %v", code, err)
	})
	if _, err := get(client(), "tls-token"); err == nil {
		t.Fatal("a client without a certificate got an answer")
	}
	if code, err := get(client(pair), ""); err != nil || code != 401 {
		t.Fatalf("certificate without the token: %d %v", code, err)
	}
	if res, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + adminAddr + "/services"); err == nil {
		res.Body.Close()
		if res.StatusCode < 400 {
			t.Fatalf("plain HTTP answered %d", res.StatusCode)
		}
	}

	// The snapshot CLI: refused without a client certificate (that is what
	// --admin-tls-ca asks for), working with one and the data dir's secret.
	snapshot := func(extra ...string) ([]byte, error) {
		args := append([]string{"snapshot", "save", filepath.Join(dir, "b.json"),
			"--admin", "https://" + adminAddr, "--data-dir", dataDir, "--tls-ca", caFile}, extra...)
		return exec.Command(switchboardBin, args...).CombinedOutput()
	}
	if out, err := snapshot(); err == nil || !strings.Contains(string(out), "certificate") {
		t.Fatalf("snapshot save without a client certificate: %v %s", err, out)
	}
	if out, err := snapshot("--tls-cert", writeFile(t, dir, "cli.pem", cliCert), "--tls-key", writeFile(t, dir, "cli-key.pem", cliKey)); err != nil {
		t.Fatalf("snapshot save with a client certificate: %v %s", err, out)
	}
}
