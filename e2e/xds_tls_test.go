package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// testCA is a throw-away certificate authority for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf for 127.0.0.1 usable as server and client; it returns
// the PEM certificate and key.
func (ca *testCA) issue(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{name},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// adsFirstResponse opens an ADS stream with creds and waits for the first
// clusters response; the error says why none came.
func adsFirstResponse(addr string, creds credentials.TransportCredentials) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{
		Node: &corev3.Node{Id: "bare-client"}, TypeUrl: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
	}); err != nil {
		return err
	}
	resp, err := stream.Recv()
	if err != nil {
		return err
	}
	if resp.GetVersionInfo() == "" {
		return fmt.Errorf("empty response")
	}
	return nil
}

// TestSecurity_XDSMutualTLS: with --xds-tls-* the local Envoy gets its
// config over mTLS, and a gRPC client without a certificate from the CA
// gets nothing.
func TestSecurity_XDSMutualTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, "xds-ca")
	srvCert, srvKey := ca.issue(t, "switchboard.test")
	caFile := writeFile(t, dir, "ca.pem", ca.pem)
	a := startBackend(t, "a")
	s := startStack(t, stackOptions{
		hosts: map[string]string{"a.test": a.ip},
		extraArgs: []string{
			"--xds-tls-cert", writeFile(t, dir, "srv.pem", srvCert), "--xds-tls-key", writeFile(t, dir, "srv-key.pem", srvKey),
			"--xds-tls-ca", caFile,
		},
	})
	s.mustAPI("POST", "/services", form("name", "svc", "url", fmt.Sprintf("http://a.test:%d", a.port)), 201)
	s.mustAPI("POST", "/services/svc/routes", form("paths[]", "/tls"), 201)
	s.converge("route over mTLS xDS", func() (bool, string) {
		r := s.get("/tls/x", "")
		return r.backend == "a", r.String()
	})

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	rogue := newTestCA(t, "rogue-ca")
	rogueCert, rogueKey := rogue.issue(t, "rogue")
	roguePair, _ := tls.X509KeyPair(rogueCert, rogueKey)
	refused := map[string]credentials.TransportCredentials{
		"plaintext":           insecure.NewCredentials(),
		"TLS, no client cert": credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: "switchboard.test"}),
		// GetClientCertificate: Go would not even offer a certificate the
		// server's CA list does not name.
		"cert from another CA": credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: "switchboard.test",
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &roguePair, nil }}),
		"server not verified ok": credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}), //nolint:gosec // a client that skips checks still needs a certificate
	}
	for name, creds := range refused {
		if err := adsFirstResponse(s.xdsAddr, creds); err == nil {
			t.Fatalf("%s: got configuration", name)
		} else {
			t.Logf("%s: refused: %v", name, err)
		}
	}
	// Control: a client certificate from the CA does get configuration, so
	// the refusals above are the certificate checks and nothing else.
	goodCert, goodKey := ca.issue(t, "edge-envoy")
	goodPair, _ := tls.X509KeyPair(goodCert, goodKey)
	if err := adsFirstResponse(s.xdsAddr, credentials.NewTLS(&tls.Config{
		RootCAs: roots, ServerName: "switchboard.test", Certificates: []tls.Certificate{goodPair},
	})); err != nil {
		t.Fatalf("client with a certificate from the CA: %v", err)
	}
}
