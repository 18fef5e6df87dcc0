package translator

import (
	"cmp"
	"fmt"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// Secret naming scheme (SDS; the names are shared with BOARD.md)
//
//	cert/<certificate id>       a certificate's cert and key
//	cert-alt/<certificate id>   its cert_alt and key_alt (the other key type)
//	ca/<service id>             the upstream validation context of a service
//
// Listeners and clusters name secrets, never inline them: rotating a
// certificate then changes one Secret and no Listener or Cluster, so Envoy
// drains no connection and re-creates no cluster (kong-tls.md §6.3–6.4).
// Certificate ids are UUIDs, so no name of one kind can be another's.
const (
	certSecretPrefix    = "cert/"
	certAltSecretPrefix = "cert-alt/"
	caSecretPrefix      = "ca/"
)

// CertSecretName is the SDS name of certificate id's cert/key pair.
func CertSecretName(id string) string { return certSecretPrefix + id }

// CertAltSecretName is the SDS name of certificate id's alternate pair.
func CertAltSecretName(id string) string { return certAltSecretPrefix + id }

// CASecretName is the SDS name of service id's upstream validation context.
func CASecretName(serviceID string) string { return caSecretPrefix + serviceID }

// tlsReader reads the TLS entities; *store.Snapshot satisfies it. A Reader
// without it (a test fake) translates without certificates.
type tlsReader interface {
	Certificates() ([]*store.Certificate, error)
	CertificateByID(id string) (*store.Certificate, error)
	SNIs() ([]*store.SNI, error)
	CACertificates() ([]*store.CACertificate, error)
	CACertificateByID(id string) (*store.CACertificate, error)
	DefaultCertificate() (*store.DefaultCertificate, error)
}

// readTLSEntities fills in's certificates, SNIs and CA certificates from r
// when it can read them.
func readTLSEntities(r any, in *Input) error {
	tr, ok := r.(tlsReader)
	if !ok {
		return nil
	}
	var err error
	if in.Certificates, err = tr.Certificates(); err != nil {
		return fmt.Errorf("translator: read certificates: %w", err)
	}
	if in.SNIs, err = tr.SNIs(); err != nil {
		return fmt.Errorf("translator: read snis: %w", err)
	}
	if in.CACertificates, err = tr.CACertificates(); err != nil {
		return fmt.Errorf("translator: read ca certificates: %w", err)
	}
	if in.DefaultCertificate, err = tr.DefaultCertificate(); err != nil {
		return fmt.Errorf("translator: read the default certificate: %w", err)
	}
	return nil
}

// certificateSecrets are the secrets of one certificate: its pair, and its
// alternate pair when it has one. The Admin API has checked the PEMs; the
// secrets only carry them to Envoy.
func certificateSecrets(c *store.Certificate) ([]*tlsv3.Secret, error) {
	out := []*tlsv3.Secret{tlsCertificateSecret(CertSecretName(c.ID), c.Cert, c.Key)}
	if c.CertAlt != nil && c.KeyAlt != nil {
		out = append(out, tlsCertificateSecret(CertAltSecretName(c.ID), *c.CertAlt, *c.KeyAlt))
	}
	for _, s := range out {
		// The error names the field, never its value: keys stay out of
		// logs.
		if err := s.ValidateAll(); err != nil {
			return nil, &EntityError{Entity: "certificate", ID: c.ID, Err: fmt.Errorf("invalid secret %s: %w", s.GetName(), err)}
		}
	}
	return out, nil
}

// tlsCertificateSecret is a server (or client) certificate and its key.
func tlsCertificateSecret(name, cert, key string) *tlsv3.Secret {
	return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: inlineString(cert),
		PrivateKey:       inlineString(key),
	}}}
}

func inlineString(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}

// secretSet is every secret of a translation by owner: "certificate/<id>"
// (its pair and alternate pair) or another owner key a builder chooses
// (the CA context of a service). An owner's secrets are replaced together,
// so that an Incremental finds the names a deleted owner leaves behind.
type secretSet map[string][]*tlsv3.Secret

// certificateOwner is the secretSet key of a certificate's secrets.
func certificateOwner(id string) string { return "certificate/" + id }

// defaultCertificateOwner owns the default certificate's secrets,
// cert/default and cert-alt/default ("default" is no UUID, so no
// certificate's).
const defaultCertificateOwner = "default-certificate"

// defaultCertificateID names the default pair's secrets.
const defaultCertificateID = "default"

// defaultSecrets are the secrets of the TLS listener's default
// certificate: the flag pair (Options.TLSCert) when set, else the cluster's
// stored RSA + ECDSA pair, else none (the listener waits for it).
func defaultSecrets(opts Options, dc *store.DefaultCertificate) []*tlsv3.Secret {
	if opts.ProxyTLSPort == 0 {
		return nil
	}
	if opts.TLSCert != "" {
		return []*tlsv3.Secret{tlsCertificateSecret(CertSecretName(defaultCertificateID), opts.TLSCert, opts.TLSKey)}
	}
	if dc == nil {
		return nil
	}
	out := []*tlsv3.Secret{tlsCertificateSecret(CertSecretName(defaultCertificateID), dc.Cert, dc.Key)}
	if dc.CertAlt != "" && dc.KeyAlt != "" {
		out = append(out, tlsCertificateSecret(CertAltSecretName(defaultCertificateID), dc.CertAlt, dc.KeyAlt))
	}
	return out
}

// secretsOf builds the secrets of every certificate of in, and the
// default certificate's.
func secretsOf(in *Input) (secretSet, []error) {
	set := secretSet{}
	if ds := defaultSecrets(in.Options.withDefaults(), in.DefaultCertificate); len(ds) > 0 {
		set[defaultCertificateOwner] = ds
	}
	var errs []error
	for _, c := range sortedBy(in.Certificates, func(c *store.Certificate) string { return c.ID }) {
		ss, err := certificateSecrets(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set[certificateOwner(c.ID)] = ss
	}
	return set, errs
}

// sorted flattens the set by secret name.
func (s secretSet) sorted() []*tlsv3.Secret {
	var out []*tlsv3.Secret
	for _, ss := range s {
		out = append(out, ss...)
	}
	slices.SortFunc(out, func(a, b *tlsv3.Secret) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return out
}
