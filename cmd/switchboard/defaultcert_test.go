package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/poll"
	"github.com/switchboard-gw/switchboard/store"
)

// The default pair is Kong's: RSA and ECDSA, CN=localhost with Kong's
// subject, 20 years, no CA, server and client auth; written once.
func TestDefaultCertificate_KongPairWrittenOnce(t *testing.T) {
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := createDefaultCertificate(st); err != nil {
		t.Fatal(err)
	}
	first, err := st.Snapshot().DefaultCertificate()
	if err != nil || first == nil {
		t.Fatalf("stored %v, %v", first, err)
	}
	if err := createDefaultCertificate(st); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.Snapshot().DefaultCertificate(); again != first {
		t.Error("a second start replaced the cluster's default pair")
	}
	for _, p := range []struct {
		cert, key string
		alg       x509.PublicKeyAlgorithm
	}{{first.Cert, first.Key, x509.RSA}, {first.CertAlt, first.KeyAlt, x509.ECDSA}} {
		if _, err := tls.X509KeyPair([]byte(p.cert), []byte(p.key)); err != nil {
			t.Fatalf("%v pair: %v", p.alg, err)
		}
		block, _ := pem.Decode([]byte(p.cert))
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		s := c.Subject
		if c.PublicKeyAlgorithm != p.alg || s.CommonName != "localhost" || s.Organization[0] != "Kong" ||
			s.OrganizationalUnit[0] != "IT Department" || s.Locality[0] != "San Francisco" || s.Province[0] != "California" || s.Country[0] != "US" {
			t.Errorf("%v certificate: %v %v", p.alg, c.PublicKeyAlgorithm, s)
		}
		if c.IsCA || !c.BasicConstraintsValid || c.NotAfter.Before(time.Now().AddDate(19, 11, 0)) || len(c.ExtKeyUsage) != 2 {
			t.Errorf("%v certificate: CA %v, constraints %v, not after %v, EKU %v", p.alg, c.IsCA, c.BasicConstraintsValid, c.NotAfter, c.ExtKeyUsage)
		}
	}
}

func TestProxyListen_KongSyntax(t *testing.T) {
	got := proxyListen(&serveConfig{ProxyListen: "0.0.0.0:8000", ProxyTLSListen: "0.0.0.0:8443"})
	if len(got) != 2 || got[1] != "0.0.0.0:8443 http2 ssl" {
		t.Errorf("proxy_listen = %q", got)
	}
	if got := proxyListen(&serveConfig{ProxyListen: "0.0.0.0:8000"}); len(got) != 1 {
		t.Errorf("without a TLS listener: %q", got)
	}
}

// The pair comes back after a restore from a dump that lacks it (an older
// release's): the TLS listener would otherwise disappear until a restart.
func TestEnsureDefaultCertificate_AfterRestore(t *testing.T) {
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	empty, err := st.Snapshot().Dump() // before the pair exists
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ensureDefaultCertificate(ctx, st, slog.New(slog.DiscardHandler)); close(done) }()
	defer func() { cancel(); <-done }()
	stored := func() bool { dc, _ := st.Snapshot().DefaultCertificate(); return dc != nil }
	poll.True(t, 30*time.Second, "the default certificate stored", stored)
	if err := st.Restore(st.Revision()+1, empty); err != nil {
		t.Fatal(err)
	}
	poll.True(t, 30*time.Second, "the default certificate stored again after the restore", stored)
}
