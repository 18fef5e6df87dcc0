package schema

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
)

// PEM handling of typedefs.certificate and typedefs.key. Kong's messages
// are "invalid certificate: <parser error>" and "invalid key: <parser
// error>"; the parser error is Go's here, not OpenSSL's (Kong's tests match
// the prefix only).

var errNoPEM = errors.New("no PEM block found")

// vaultRef is a Kong vault reference ({vault://…}), which switchboard
// does not resolve (docs/decisions.md, TLS entities).
func vaultRef(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "{vault://") }

// ParseCertificatePEM parses the first CERTIFICATE block of s (a chain
// holds the leaf first).
func ParseCertificatePEM(s string) (*x509.Certificate, error) {
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errNoPEM
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// ParsePrivateKeyPEM parses the first private key block of s: PKCS#1 RSA,
// SEC 1 EC or PKCS#8. Unlike Kong, a public key is refused: Envoy cannot
// serve with one, and the config would be rejected.
func ParsePrivateKeyPEM(s string) (crypto.Signer, error) {
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errNoPEM
		}
		//nolint:staticcheck // legacy encrypted PEM is detected only to name it
		if x509.IsEncryptedPEMBlock(b) || b.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("encrypted keys are not supported (no passphrase)")
		}
		switch b.Type {
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(b.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			signer, ok := k.(crypto.Signer)
			if !ok {
				return nil, errors.New("unsupported key type")
			}
			return signer, nil
		case "PUBLIC KEY":
			return nil, errors.New("a public key, not a private key")
		}
	}
}

func validateCertificate(s string) string {
	if vaultRef(s) {
		return "invalid certificate: vault references are not supported"
	}
	if _, err := ParseCertificatePEM(s); err != nil {
		return "invalid certificate: " + err.Error()
	}
	return ""
}

// validateServedCertificate is validateCertificate for a certificate Envoy
// serves or presents (certificates.cert and cert_alt): Envoy 1.40 refuses
// to load an RSA key under 2048 bits or an ECDSA key on a curve other than
// P-256, P-384 or P-521 ("Failed to load certificate chain"), so such a
// pair would be accepted here and fail every listener or cluster naming it.
// CA certificates are only trusted, never loaded as a chain: they keep
// validateCertificate.
func validateServedCertificate(s string) string {
	if msg := validateCertificate(s); msg != "" {
		return msg
	}
	c, err := ParseCertificatePEM(s)
	if err != nil {
		return "invalid certificate: " + err.Error()
	}
	switch pub := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return "invalid certificate: RSA keys shorter than 2048 bits are not supported"
		}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() && pub.Curve != elliptic.P384() && pub.Curve != elliptic.P521() {
			return "invalid certificate: ECDSA keys must use the P-256, P-384 or P-521 curve"
		}
	}
	return ""
}

func validateKey(s string) string {
	if vaultRef(s) {
		return "invalid key: vault references are not supported"
	}
	if _, err := ParsePrivateKeyPEM(s); err != nil {
		return "invalid key: " + err.Error()
	}
	return ""
}

// keyType names a public key's algorithm ("" when unknown).
func keyType(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case ed25519.PublicKey:
		return "ED25519"
	}
	return ""
}

// pairMatches reports whether the certificate's public key is the key's.
// Unparsable input reports true: its field already failed.
func pairMatches(certPEM, keyPEM any) bool {
	cs, ok1 := certPEM.(string)
	ks, ok2 := keyPEM.(string)
	if !ok1 || !ok2 {
		return true
	}
	c, err1 := ParseCertificatePEM(cs)
	k, err2 := ParsePrivateKeyPEM(ks)
	if err1 != nil || err2 != nil {
		return true
	}
	pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(k.Public())
}

// sameKeyType reports whether two certificates have the same key type.
func sameKeyType(a, b any) bool {
	as, ok1 := a.(string)
	bs, ok2 := b.(string)
	if !ok1 || !ok2 {
		return false
	}
	ca, err1 := ParseCertificatePEM(as)
	cb, err2 := ParseCertificatePEM(bs)
	return err1 == nil && err2 == nil && keyType(ca.PublicKey) == keyType(cb.PublicKey)
}
