package admin

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

// weakCertPEM is a certificate for pub, signed by a throw-away P-256 key
// (Go signs with P-256/384/521 only, but a P-224 subject key parses).
func weakCertPEM(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "weak.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"weak.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// Envoy 1.40 refuses to load an RSA chain under 2048 bits and an ECDSA one
// off P-256/384/521 (checked with `envoy --mode validate`): the Admin API
// refuses them instead of storing a certificate no listener can serve.
func TestCertificates_KeysEnvoyCannotLoad(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t)
	p := pairs(t)
	for _, tc := range []struct {
		name, field, cert, want string
	}{
		{"rsa1024", "cert", weakCertPEM(t, &rsa1024.PublicKey), "invalid certificate: RSA keys shorter than 2048 bits are not supported"},
		{"p224", "cert", weakCertPEM(t, &p224.PublicKey), "invalid certificate: ECDSA keys must use the P-256, P-384 or P-521 curve"},
		{"p224 alt", "cert_alt", weakCertPEM(t, &p224.PublicKey), "invalid certificate: ECDSA keys must use the P-256, P-384 or P-521 curve"},
	} {
		body := certBody(p.rsa1, "cert_alt", p.ec1.cert, "key_alt", p.ec1.key)
		body[tc.field] = tc.cert
		r := ts.do(http.MethodPost, "/certificates", body, encJSON).mustStatus(t, http.StatusBadRequest)
		if got, _ := r.obj()["fields"].(map[string]any)[tc.field].(string); got != tc.want {
			t.Errorf("%s: %s", tc.name, r.raw)
		}
		if !strings.HasPrefix(r.str("name"), "schema violation") {
			t.Errorf("%s: %s", tc.name, r.raw)
		}
	}
	// CA certificates are trusted, never served: no such rule there.
	ca := weakCertPEM(t, &rsa1024.PublicKey)
	r := ts.do(http.MethodPost, "/ca_certificates", obj("cert", ca), encJSON)
	if r.status == http.StatusBadRequest && strings.Contains(string(r.raw), "2048") {
		t.Errorf("ca_certificates: %s", r.raw)
	}
}
