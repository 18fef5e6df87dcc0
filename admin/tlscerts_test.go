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
	"testing"
	"time"
)

// Throw-away certificates for the TLS entity tests.

type testPair struct{ cert, key string }

type certOpts struct {
	ecdsa   bool
	ca      bool
	expired bool
}

func newTestPair(t *testing.T, cn string, o certOpts) testPair {
	t.Helper()
	var signer crypto.Signer
	var err error
	if o.ecdsa {
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	notAfter := time.Now().Add(24 * time.Hour)
	if o.expired {
		notAfter = time.Now().Add(-time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter, DNSNames: []string{cn},
		BasicConstraintsValid: true, IsCA: o.ca,
	}
	if o.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		t.Fatal(err)
	}
	return testPair{
		cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		key:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})),
	}
}

// testPairs are made once: RSA key generation is slow under -race.
type testPairSet struct{ rsa1, rsa2, ec1, ec2, ca1, ca2, caExpired, leaf testPair }

var sharedPairs *testPairSet

func pairs(t *testing.T) *testPairSet {
	t.Helper()
	if sharedPairs == nil {
		sharedPairs = &testPairSet{
			rsa1: newTestPair(t, "ssl-example.com", certOpts{}), rsa2: newTestPair(t, "other.test", certOpts{}),
			ec1: newTestPair(t, "ssl-example.com", certOpts{ecdsa: true}), ec2: newTestPair(t, "other.test", certOpts{ecdsa: true}),
			ca1: newTestPair(t, "ca-one", certOpts{ca: true, ecdsa: true}), ca2: newTestPair(t, "ca-two", certOpts{ca: true, ecdsa: true}),
			caExpired: newTestPair(t, "ca-old", certOpts{ca: true, ecdsa: true, expired: true}),
			leaf:      newTestPair(t, "leaf.test", certOpts{ecdsa: true}),
		}
	}
	return sharedPairs
}
