package store

// tableDefaultCertificate holds the cluster's default TLS certificate: the
// one the proxy's TLS listener serves when no SNI selects another (Kong's
// ssl_cert). It is an internal table (no Kong schema, so no Admin API and
// no declarative export), in the raft log so that every node, and every
// Envoy, serves the same pair.
const tableDefaultCertificate = "default_certificate"

// DefaultCertificateID is the id of the one row of the table.
const DefaultCertificateID = "default"

// DefaultCertificate is the generated default pair: Cert/Key are RSA,
// CertAlt/KeyAlt ECDSA, as Kong generates both (prefix_handler.lua) and
// serves ECDSA to clients that support it.
type DefaultCertificate struct {
	ID      string `json:"id"`
	Cert    string `json:"cert"`
	Key     string `json:"key"`
	CertAlt string `json:"cert_alt"`
	KeyAlt  string `json:"key_alt"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

var defaultCertificateKind = &Kind{
	Table: tableDefaultCertificate,
	New:   func() Row { return new(DefaultCertificate) },
	Validate: func(r Row) error {
		if c := r.(*DefaultCertificate); c.ID == "" || c.Cert == "" || c.Key == "" {
			return errDefaultCertificate
		}
		return nil
	},
}

// DefaultCertificateTable is the table's name, for writers (cmd).
const DefaultCertificateTable = tableDefaultCertificate

// DefaultCertificate returns the stored default pair, or nil before the
// cluster's first start has written it.
func (s *Snapshot) DefaultCertificate() (*DefaultCertificate, error) {
	return first[DefaultCertificate](s.txn, tableDefaultCertificate, indexID, DefaultCertificateID)
}
