package store

// Table names of the TLS entities.
const (
	tableCertificates   = "certificates"
	tableSNIs           = "snis"
	tableCACertificates = "ca_certificates"
)

// Index names of the TLS entities: each unique key is named like the
// schema's endpoint key or unique field, so the Admin API finds rows by it.
const (
	indexCertificate       = "certificate"
	indexCertDigest        = "cert_digest"
	indexClientCertificate = "client_certificate"
	indexCACertificates    = "ca_certificates"
)

// Certificate is a Kong certificate: a PEM certificate (chain) and its key,
// with an optional alternate pair of the other key type (RSA + ECDSA). The
// SNIs that select it are rows of their own (SNI); the Admin API shows
// them as the certificate's snis.
type Certificate struct {
	ID        string   `json:"id"`
	CreatedAt int64    `json:"created_at"`
	UpdatedAt int64    `json:"updated_at"`
	Cert      string   `json:"cert"`
	Key       string   `json:"key"`
	CertAlt   *string  `json:"cert_alt"`
	KeyAlt    *string  `json:"key_alt"`
	Tags      []string `json:"tags"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// SNI is a server name (exact, or with one leading or trailing "*") that
// selects a certificate on the TLS listener.
type SNI struct {
	ID          string     `json:"id"`
	CreatedAt   int64      `json:"created_at"`
	UpdatedAt   int64      `json:"updated_at"`
	Name        string     `json:"name"`
	Certificate ForeignKey `json:"certificate"`
	Tags        []string   `json:"tags"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// CACertificate is a trusted CA for upstream verification; CertDigest is
// the lowercase hex SHA-256 of its DER (unique).
type CACertificate struct {
	ID         string   `json:"id"`
	CreatedAt  int64    `json:"created_at"`
	UpdatedAt  int64    `json:"updated_at"`
	Cert       string   `json:"cert"`
	CertDigest string   `json:"cert_digest"`
	Tags       []string `json:"tags"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// certificateKind: SNIs go with their certificate (one transaction, unlike
// Kong, which deletes them first and may then fail); services and
// upstreams using it as client certificate restrict its delete.
var certificateKind = &Kind{
	Table:  tableCertificates,
	New:    func() Row { return new(Certificate) },
	Tagged: true,
}

// sniKind: a unique name and a required certificate.
var sniKind = &Kind{
	Table: tableSNIs,
	New:   func() Row { return new(SNI) },
	Validate: func(r Row) error {
		if r.(*SNI).Name == "" {
			return errNoName
		}
		return nil
	},
	Unique: []UniqueKey{{Name: indexName, Fields: []string{"name"}, Values: func(r Row) []any { return []any{r.(*SNI).Name} }}},
	Refs: []Ref{{Field: indexCertificate, Table: tableCertificates, OnDelete: Cascade,
		IDs: func(r Row) []string { return fkIDs(&r.(*SNI).Certificate) }}},
	Tagged: true,
}

// caCertificateKind: the digest is unique (the same CA twice is a 409).
var caCertificateKind = &Kind{
	Table: tableCACertificates,
	New:   func() Row { return new(CACertificate) },
	Unique: []UniqueKey{{Name: indexCertDigest, Fields: []string{"cert_digest"}, Values: func(r Row) []any {
		if d := r.(*CACertificate).CertDigest; d != "" {
			return []any{d}
		}
		return nil
	}}},
	Tagged: true,
}

// The TLS references of services and upstreams (in their Kind literals).
// Restrict: Kong's foreign keys have no ON DELETE, so a certificate or CA
// in use cannot be deleted.
var (
	serviceClientCertRef = Ref{Field: indexClientCertificate, Table: tableCertificates, OnDelete: Restrict,
		IDs: func(r Row) []string { return fkIDs(r.(*Service).ClientCertificate) }}
	serviceCACertsRef = Ref{Field: indexCACertificates, Table: tableCACertificates, OnDelete: Restrict,
		IDs: func(r Row) []string { return r.(*Service).CACertificates }}
	upstreamClientCertRef = Ref{Field: indexClientCertificate, Table: tableCertificates, OnDelete: Restrict,
		IDs: func(r Row) []string { return fkIDs(r.(*Upstream).ClientCertificate) }}
)

// Certificates returns every certificate in id order.
func (s *Snapshot) Certificates() ([]*Certificate, error) {
	return all[Certificate](s.txn, tableCertificates, indexID)
}

// CertificateByID returns the certificate or nil.
func (s *Snapshot) CertificateByID(id string) (*Certificate, error) {
	return first[Certificate](s.txn, tableCertificates, indexID, id)
}

// SNIs returns every SNI in id order.
func (s *Snapshot) SNIs() ([]*SNI, error) { return all[SNI](s.txn, tableSNIs, indexID) }

// SNIByName returns the SNI or nil.
func (s *Snapshot) SNIByName(name string) (*SNI, error) {
	return first[SNI](s.txn, tableSNIs, indexName, mustKey(name))
}

// SNIsOfCertificate returns the certificate's SNIs in id order.
func (s *Snapshot) SNIsOfCertificate(id string) ([]*SNI, error) {
	return all[SNI](s.txn, tableSNIs, indexCertificate, id)
}

// CACertificates returns every CA certificate in id order.
func (s *Snapshot) CACertificates() ([]*CACertificate, error) {
	return all[CACertificate](s.txn, tableCACertificates, indexID)
}

// CACertificateByID returns the CA certificate or nil.
func (s *Snapshot) CACertificateByID(id string) (*CACertificate, error) {
	return first[CACertificate](s.txn, tableCACertificates, indexID, id)
}

// tlsLenient are the TLS tables that services and upstreams referenced
// before they existed: the first releases stored client_certificate and
// ca_certificates ids unchecked (nothing used them). Their legacy log
// entries and dumps without these tables keep such ids as they are, inert
// as before (the translator treats a missing certificate as none, GET
// /services/{s}/client_certificate is 404), so that upgrading changes
// neither the state nor the traffic; any later write of the row through the
// Admin API checks them and names the dangling field.
var tlsLenient = map[string]bool{tableCertificates: true, tableCACertificates: true}

// lenientFor is tlsLenient restricted to the tables a dump does not have
// at all (a dump written before they existed); a dump that has the table
// must be consistent.
func lenientFor(d *Dump) map[string]bool {
	out := map[string]bool{}
	for t := range tlsLenient {
		if _, has := d.Tables[t]; !has {
			out[t] = true
		}
	}
	return out
}
