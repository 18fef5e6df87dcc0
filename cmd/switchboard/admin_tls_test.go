package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// The Admin API over mTLS: the server config serverTLS builds refuses a
// client without a certificate from --admin-tls-ca, and the peer client a
// member uses (its own admin certificate, trusting the CA) gets through.
func TestAdminTLS_ClientCertificateRequired(t *testing.T) {
	id, err := loadOrCreateLocalIdentity(t.TempDir()) // a self-signed cert that is its own CA
	if err != nil {
		t.Fatal(err)
	}
	cfg := &serveConfig{AdminTLSCert: id.certFile, AdminTLSKey: id.keyFile, AdminTLSCA: id.certFile}
	tc, err := serverTLS("admin-tls", cfg.AdminTLSCert, cfg.AdminTLSKey, cfg.AdminTLSCA)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})}
	go func() { _ = srv.Serve(tls.NewListener(lis, tc)) }()
	t.Cleanup(func() { _ = srv.Close() })
	url := "https://" + localXDSName + "/"
	dial := func(c *http.Client) *http.Client {
		tr := c.Transport.(*http.Transport)
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", lis.Addr().String())
		}
		return c
	}

	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(id.certFile)
	pool.AppendCertsFromPEM(pem)
	bare := dial(&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}})
	if res, err := bare.Get(url); err == nil {
		res.Body.Close()
		t.Fatal("a client without a certificate got an answer")
	}
	peer, err := peerClient(cfg, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res, err := dial(peer).Get(url)
	if err != nil {
		t.Fatalf("member with its admin certificate: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
}
