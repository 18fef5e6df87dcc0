package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-gw/switchboard/envoy"
)

// localXDSName is the server name the local Envoy sends: the xDS server
// answers it with the local identity instead of --xds-tls-cert, so the
// local Envoy needs no certificate from the operator's CA.
const localXDSName = "switchboard-local-xds"

// localIdentity is the self-signed certificate switchboard and its local
// Envoy share when xDS runs TLS: the server presents it to SNI
// localXDSName, the Envoy trusts it and presents it back as its client
// certificate, and the server accepts it beside --xds-tls-ca's. It lives in
// DATA_DIR/envoy (key 0600) and is kept across restarts, because an Envoy
// re-adopted after a crash still holds the files it started with.
type localIdentity struct {
	certFile, keyFile string
	cert              tls.Certificate
	leaf              *x509.Certificate
}

func loadOrCreateLocalIdentity(dir string) (*localIdentity, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("local xDS identity: %w", err)
	}
	id := &localIdentity{certFile: filepath.Join(dir, "xds-local.crt"), keyFile: filepath.Join(dir, "xds-local.key")}
	if cert, err := tls.LoadX509KeyPair(id.certFile, id.keyFile); err == nil {
		if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil && time.Until(leaf.NotAfter) > 24*time.Hour {
			id.cert, id.leaf = cert, leaf
			return id, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("local xDS identity: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("local xDS identity: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: localXDSName},
		DNSNames:     []string{localXDSName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		// Its own trust anchor on both sides.
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("local xDS identity: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("local xDS identity: %w", err)
	}
	if err := os.WriteFile(id.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, fmt.Errorf("local xDS identity: %w", err)
	}
	if err := os.WriteFile(id.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, fmt.Errorf("local xDS identity: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(id.certFile, id.keyFile)
	if err != nil {
		return nil, fmt.Errorf("local xDS identity: %w", err)
	}
	id.cert = cert
	id.leaf, _ = x509.ParseCertificate(der)
	return id, nil
}

// serve adds the identity to the xDS server's TLS config: its certificate
// for SNI localXDSName, and its trust for client certificates.
func (id *localIdentity) serve(cfg *tls.Config) *tls.Config {
	cfg = cfg.Clone()
	operator := cfg.Certificates
	cfg.Certificates = nil
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName == localXDSName {
			return &id.cert, nil
		}
		return &operator[0], nil
	}
	if cfg.ClientCAs != nil {
		cfg.ClientCAs = cfg.ClientCAs.Clone()
		cfg.ClientCAs.AddCert(id.leaf)
	}
	return cfg
}

// envoyTLS is the local Envoy's side.
func (id *localIdentity) envoyTLS() *envoy.XDSTLS {
	return &envoy.XDSTLS{CAFile: id.certFile, CertFile: id.certFile, KeyFile: id.keyFile, SNI: localXDSName}
}
