package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"time"

	"github.com/switchboard-gw/switchboard/store"
)

// The TLS listener's default certificate (kong-tls.md D2): Kong writes two
// self-signed pairs into each node's prefix at start-up; switchboard
// generates them once per cluster and stores them in the raft log, so that
// every node, and every Envoy, serves the same default. The first node to
// write wins (a create, refused when the row exists); the others read it.

// defaultCertRetry bounds the wait between attempts while the cluster has
// no leader to take the write.
const defaultCertRetry = 2 * time.Second

// ensureDefaultCertificate keeps the cluster's default pair stored until
// ctx ends: it writes the pair when it is missing, retrying while no
// leader takes the write, and after every commit checks again, since a
// restore from a dump without the table (an older release's) removes it
// and the TLS listener would go with it. It never logs a key.
func ensureDefaultCertificate(ctx context.Context, st *store.Store, log *slog.Logger) {
	var rev uint64
	for ctx.Err() == nil {
		if err := createDefaultCertificate(st); err != nil {
			log.Warn("default TLS certificate not stored yet, retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(defaultCertRetry):
			}
			continue
		}
		next, err := st.WaitForRevision(ctx, rev)
		if err != nil {
			return
		}
		rev = next
	}
}

func createDefaultCertificate(st *store.Store) error {
	if dc, err := st.Snapshot().DefaultCertificate(); err != nil || dc != nil {
		return err
	}
	dc, err := generateDefaultPair(time.Now())
	if err != nil {
		return err
	}
	_, err = st.Apply(&store.Mutation{Op: store.OpUpsert, Table: store.DefaultCertificateTable, Row: dc, Create: true})
	var pk *store.PrimaryKeyError
	if errors.As(err, &pk) {
		return nil // another node stored it first
	}
	return err
}

// generateDefaultPair makes Kong's default certificates: RSA 2048 and
// ECDSA P-256, subject "C=US, ST=California, L=San Francisco, O=Kong,
// OU=IT Department, CN=localhost", valid 20 years, CA:FALSE, for server
// and client authentication (kong/cmd/utils/prefix_handler.lua).
func generateDefaultPair(now time.Time) (*store.DefaultCertificate, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("default certificate: %w", err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("default certificate: %w", err)
	}
	dc := &store.DefaultCertificate{ID: store.DefaultCertificateID}
	if dc.Cert, dc.Key, err = selfSigned(rsaKey, now); err != nil {
		return nil, err
	}
	if dc.CertAlt, dc.KeyAlt, err = selfSigned(ecKey, now); err != nil {
		return nil, err
	}
	return dc, nil
}

func selfSigned(key crypto.Signer, now time.Time) (certPEM, keyPEM string, err error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Country: []string{"US"}, Province: []string{"California"}, Locality: []string{"San Francisco"},
			Organization: []string{"Kong"}, OrganizationalUnit: []string{"IT Department"}, CommonName: "localhost",
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return "", "", fmt.Errorf("default certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("default certificate: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})), nil
}

// loadProxyTLSPair reads --proxy-tls-cert/--proxy-tls-key and checks that
// they form a pair, so that a bad file stops start-up instead of failing
// every handshake in Envoy.
func loadProxyTLSPair(certFile, keyFile string) (cert, key string, err error) {
	if certFile == "" {
		return "", "", nil
	}
	c, err := os.ReadFile(certFile)
	if err != nil {
		return "", "", fmt.Errorf("--proxy-tls-cert: %w", err)
	}
	k, err := os.ReadFile(keyFile)
	if err != nil {
		return "", "", fmt.Errorf("--proxy-tls-key: %w", err)
	}
	if _, err := tls.X509KeyPair(c, k); err != nil {
		return "", "", fmt.Errorf("--proxy-tls-cert/--proxy-tls-key: %w", err)
	}
	return string(c), string(k), nil
}
