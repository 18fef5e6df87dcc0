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
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Upstream TLS backends: Go HTTPS servers on their own loopback address
// that say, in response headers, what TLS brought them: the SNI, the
// client certificate's CN, the Host. Certificates are made per test.

const (
	sniHeader      = "X-Seen-SNI"
	clientCNHeader = "X-Seen-Client-CN"
	hostHeader     = "X-Seen-Host"
	// closePath, at the end of a request path, makes the backend close the
	// connection after answering.
	closePath = "/close"
)

// leaf is a certificate and key signed by a testCA.
type leaf struct {
	certPEM, keyPEM string
	tls             tls.Certificate
}

// issueLeaf signs a server and client certificate for cn with the given
// DNS names (no IP SANs unless asked).
func (ca *testCA) issueLeaf(t *testing.T, cn string, dnsNames []string, ips ...string) leaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: dnsNames,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	l := leaf{
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})),
	}
	if l.tls, err = tls.X509KeyPair([]byte(l.certPEM), []byte(l.keyPEM)); err != nil {
		t.Fatal(err)
	}
	return l
}

// tlsBackend is one HTTPS server.
type tlsBackend struct {
	name  string
	ip    string
	port  int
	conns atomic.Int64 // TLS connections accepted
	hits  atomic.Int64
}

func (b *tlsBackend) target() string { return net.JoinHostPort(b.ip, strconv.Itoa(b.port)) }

// startTLSBackend serves cert on a fresh loopback address; with clientCAs
// set it requires a client certificate they signed.
func startTLSBackend(t *testing.T, name string, cert leaf, clientCAs *x509.CertPool) *tlsBackend {
	t.Helper()
	b := &tlsBackend{name: name, ip: newLoopbackIP(t)}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert.tls}, MinVersion: tls.VersionTLS12}
	if clientCAs != nil {
		cfg.ClientCAs, cfg.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	l, err := net.Listen("tcp", net.JoinHostPort(b.ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	b.port = l.Addr().(*net.TCPAddr).Port
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		// Handshake failures (a refused client certificate) are expected.
		ErrorLog: log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				b.conns.Add(1)
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b.hits.Add(1)
			h := w.Header()
			h.Set(backendHeader, name)
			h.Set(hostHeader, r.Host)
			if r.TLS != nil {
				h.Set(sniHeader, r.TLS.ServerName)
				if len(r.TLS.PeerCertificates) > 0 {
					h.Set(clientCNHeader, r.TLS.PeerCertificates[0].Subject.CommonName)
				}
			}
			if strings.HasSuffix(r.URL.Path, closePath) {
				// Ends this upstream connection after the answer, so that
				// the next request makes a new handshake.
				h.Set("Connection", "close")
			}
			_, _ = w.Write([]byte(`{"ok":true}`))
		}),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tls.NewListener(l, cfg)) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("tls backend %s: %v", name, err)
		}
	})
	return b
}

// certPool holds cas.
func certPool(cas ...*testCA) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.cert)
	}
	return p
}
