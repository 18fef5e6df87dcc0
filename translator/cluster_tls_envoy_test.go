package translator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestClusterTLS_EnvoyAccepts runs tlsFixture's clusters and secrets
// through `envoy --mode validate`: Envoy refuses combinations ValidateAll
// cannot see (a name check without a trusted CA, a secret that does not
// parse). The certificates are throw-away ones made here.
func TestClusterTLS_EnvoyAccepts(t *testing.T) {
	bin := envoyBinary(t)
	dir := t.TempDir()
	in := tlsFixture()
	caPEM, _ := selfSigned(t, "fixture-ca", true)
	bundle := filepath.Join(dir, "bundle.pem")
	if err := os.WriteFile(bundle, []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	in.Options.TrustedCAFile = bundle
	for _, c := range in.Certificates {
		c.Cert, c.Key = selfSigned(t, c.ID, false)
	}
	for _, ca := range in.CACertificates {
		ca.Cert, _ = selfSigned(t, ca.ID, true)
	}
	res, err := Translate(in)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "bootstrap.json")
	if err := os.WriteFile(file, staticBootstrap(t, res), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--mode", "validate", "-c", file, "--log-level", "warn", "--use-dynamic-base-id").CombinedOutput()
	if err != nil {
		t.Fatalf("envoy --mode validate: %v\n%s", err, out)
	}
}

// selfSigned returns a PEM certificate and key for cn.
func selfSigned(t *testing.T, cn string, ca bool) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{"fixture.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: ca, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}
