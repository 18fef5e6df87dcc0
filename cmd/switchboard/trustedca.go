package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// systemCABundles are where distributions keep the PEM bundle of their
// trusted roots, most common first (Debian/Ubuntu/Alpine, RHEL/Fedora,
// openSUSE, Alpine/BSD).
var systemCABundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/ca-bundle.pem",
	"/etc/ssl/cert.pem",
}

// resolveTrustedCA turns --upstream-trusted-ca into the file Envoy reads.
// Envoy needs a CA file, not its system_root_certs, to check an upstream's
// name, so "system" means the host's bundle file. The path is read by
// Envoy: a remote Envoy needs the same file at the same path.
//
// Without any bundle the control plane writes one holding a CA whose key
// is thrown away, so that verification fails closed (Kong's behaviour when
// nothing is trusted) rather than trusting whatever Envoy would.
func resolveTrustedCA(flagValue, dataDir string, log *slog.Logger) (string, error) {
	if flagValue != "system" {
		b, err := os.ReadFile(flagValue)
		if err != nil {
			return "", fmt.Errorf("--upstream-trusted-ca: %w", err)
		}
		if !hasPEMCertificate(b) {
			return "", fmt.Errorf("--upstream-trusted-ca: %s holds no PEM certificate", flagValue)
		}
		return filepath.Abs(flagValue)
	}
	for _, p := range systemCABundles {
		if b, err := os.ReadFile(p); err == nil && hasPEMCertificate(b) {
			return p, nil
		}
	}
	p := filepath.Join(dataDir, "untrusted-ca.pem")
	if err := writeUntrustedCA(p); err != nil {
		return "", fmt.Errorf("no system CA bundle, and writing a fail-closed one: %w", err)
	}
	log.Warn("no system CA bundle found: services with tls_verify=true and no ca_certificates, and probes with https_verify_certificate, fail", "tried", systemCABundles)
	return p, nil
}

func hasPEMCertificate(b []byte) bool {
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			return false
		}
		if block.Type == "CERTIFICATE" {
			return true
		}
	}
}

// writeUntrustedCA writes a self-signed CA nothing is signed by.
func writeUntrustedCA(path string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "switchboard: no trusted CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(100 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
