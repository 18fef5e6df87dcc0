package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// throwawayCert is a fresh self-signed ECDSA certificate and its key, PEM
// encoded, for names (the first is the subject's CN); ca makes it a CA.
func throwawayCert(t *testing.T, ca bool, names ...string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0], Organization: []string{"switchboard e2e"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(90 * 24 * time.Hour),
		DNSNames:     names,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// TestManager_Certificates drives the TLS pages: a certificate (PEM pasted
// into the cert/key textareas, an SNI by the snis shorthand) and a second
// SNI chosen in the certificate picker are what the Admin API then holds
// and what the lists show; a bad PEM shows Kong's message under cert; a CA
// certificate and a consumer's key-auth credential are made and deleted.
func TestManager_Certificates(t *testing.T) {
	t.Parallel()
	chromiumBin(t)
	managerAddr := freePort(t)
	s := startStack(t, stackOptions{extraArgs: []string{"--manager-listen", managerAddr}})
	br := startBrowser(t, "http://"+managerAddr)
	certPEM, keyPEM := throwawayCert(t, false, "ui.tls.test", "www.ui.tls.test")

	// A certificate with one SNI from the shorthand.
	br.open("/certificates/create")
	br.set("f-cert", certPEM)
	br.set("f-key", keyPEM)
	br.set("f-snis", "ui.tls.test")
	br.screenshot("manager-certificate-form")
	br.click("#form-submit")
	certPath := br.waitPath("the certificate's page", func(p string) bool {
		return strings.HasPrefix(p, "/certificates/") && !strings.HasSuffix(p, "/create")
	})
	certID := strings.TrimPrefix(certPath, "/certificates/")
	if got := s.mustAPI("GET", "/certificates/ui.tls.test", nil, 200)["id"]; got != certID {
		t.Fatalf("GET /certificates/ui.tls.test id = %v, want the UI's %s", got, certID)
	}
	if got := br.text(`[data-cert="Subject"] dd`); !strings.Contains(got, "CN=ui.tls.test") {
		t.Errorf("certificate summary subject = %q", got)
	}
	br.screenshot("manager-certificate")

	// A second SNI, its certificate picked from the list.
	br.open("/snis/create")
	br.set("f-name", "www.ui.tls.test")
	br.run("the certificate picker", chromedp.WaitReady(fmt.Sprintf(`#f-certificate option[value=%q]`, certID), chromedp.ByQuery))
	br.set("f-certificate", certID)
	br.screenshot("manager-sni-form")
	br.click("#form-submit")
	br.waitPath("the SNI's page", func(p string) bool { return strings.HasPrefix(p, "/snis/") && !strings.HasSuffix(p, "/create") })
	sni := s.mustAPI("GET", "/snis/www.ui.tls.test", nil, 200)
	if ref, _ := sni["certificate"].(map[string]any); ref["id"] != certID {
		t.Fatalf("SNI certificate = %v, want %s", sni["certificate"], certID)
	}

	// Both are listed: the certificate's SNIs column and its SNIs tab.
	br.open("/certificates")
	row := fmt.Sprintf(`tr[data-id=%q]`, certID)
	eventually(t, uiBound, "both SNIs in the certificates list", func() (bool, string) {
		got := br.eval(fmt.Sprintf(`document.querySelector('%s td[data-col="snis"]')?.textContent`, row))
		return strings.Contains(got, "ui.tls.test") && strings.Contains(got, "www.ui.tls.test"), got
	})
	if got := br.text(row + ` td[data-col="subject"]`); !strings.Contains(got, "CN=ui.tls.test") {
		t.Errorf("Subject column = %q", got)
	}
	br.screenshot("manager-certificates")
	br.open(certPath + "/snis")
	br.run("the SNIs tab", chromedp.WaitVisible(`tr[data-name="www.ui.tls.test"]`, chromedp.ByQuery))
	br.open("/snis")
	br.run("the SNIs list", chromedp.WaitVisible(`tr[data-name="www.ui.tls.test"]`, chromedp.ByQuery))
	br.screenshot("manager-snis")

	// A bad PEM: Kong's message for cert, under the cert field.
	bad := form("cert", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "key", keyPEM)
	r := s.api("POST", "/certificates", bad)
	fields, _ := r.json()["fields"].(map[string]any)
	want, _ := fields["cert"].(string)
	if r.status != 400 || want == "" {
		t.Fatalf("POST a bad cert: %d %s, want 400 naming cert", r.status, r.body)
	}
	br.open("/certificates/create")
	br.set("f-cert", bad.Get("cert"))
	br.set("f-key", keyPEM)
	br.click("#form-submit")
	if got := br.text(`.field-error[data-field="cert"]`); got != want {
		t.Errorf("error under cert = %q, want Kong's %q", got, want)
	}
	br.screenshot("manager-certificate-error")

	// A CA certificate, then deleted from its list.
	caPEM, _ := throwawayCert(t, true, "UI Test Root CA")
	br.open("/ca-certificates/create")
	br.set("f-cert", caPEM)
	br.click("#form-submit")
	caPath := br.waitPath("the CA certificate's page", func(p string) bool {
		return strings.HasPrefix(p, "/ca-certificates/") && !strings.HasSuffix(p, "/create")
	})
	caID := strings.TrimPrefix(caPath, "/ca-certificates/")
	if ca := s.mustAPI("GET", "/ca_certificates/"+caID, nil, 200); ca["cert_digest"] == nil {
		t.Errorf("CA certificate without cert_digest: %v", ca)
	}
	br.screenshot("manager-ca-certificate")
	br.open("/ca-certificates")
	caRow := fmt.Sprintf(`tr[data-id=%q]`, caID)
	if got := br.text(caRow + ` td[data-col="subject"]`); !strings.Contains(got, "CN=UI Test Root CA") {
		t.Errorf("CA Subject column = %q", got)
	}
	br.screenshot("manager-ca-certificates")
	br.click(caRow + ` .btn-danger-ghost`)
	br.click("#confirm-delete")
	s.eventuallyStatus(t, "/ca_certificates/"+caID, 404)

	// Credentials → Key Auth on a consumer: create one, see it, delete it.
	c := s.mustAPI("POST", "/consumers", form("username", "tls-bob"), 201)
	br.open(fmt.Sprintf("/consumers/%s/credentials", c["id"]))
	br.click("#new-key-auth")
	br.set("f-key", "bob-secret-key")
	br.click("#form-submit")
	br.run("the key-auth row", chromedp.WaitVisible(`tr[data-key="bob-secret-key"]`, chromedp.ByQuery))
	keys, _ := s.mustAPI("GET", "/consumers/tls-bob/key-auth", nil, 200)["data"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["key"] != "bob-secret-key" {
		t.Fatalf("key-auth of tls-bob = %v, want the UI's one", keys)
	}
	br.screenshot("manager-key-auth")
	br.click(`tr[data-key="bob-secret-key"] .btn-danger-ghost`)
	br.click("#confirm-delete")
	eventually(t, uiBound, "the credential gone", func() (bool, string) {
		keys, _ := s.mustAPI("GET", "/consumers/tls-bob/key-auth", nil, 200)["data"].([]any)
		return len(keys) == 0, fmt.Sprint(keys)
	})

	// The certificate deleted from its page takes its SNIs with it (Kong's cascade).
	br.open(certPath)
	br.click(`.head-actions .btn-danger-ghost`)
	br.click("#confirm-delete")
	br.waitPath("back to the certificates list", func(p string) bool { return p == "/certificates" })
	s.eventuallyStatus(t, "/certificates/"+certID, 404)
	s.mustAPI("GET", "/snis/www.ui.tls.test", nil, 404)
	br.checkClean()
}

// eventuallyStatus waits until GET path answers want.
func (s *stack) eventuallyStatus(t *testing.T, path string, want int) {
	t.Helper()
	eventually(t, uiBound, "GET "+path+" → "+fmt.Sprint(want), func() (bool, string) {
		r := s.api("GET", path, nil)
		return r.status == want, fmt.Sprint(r.status)
	})
}
