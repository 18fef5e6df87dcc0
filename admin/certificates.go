package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// What Kong writes by hand for the TLS entities (kong/api/routes/
// certificates.lua, kong/db/dao/{certificates,snis,ca_certificates}.lua):
// certificates are found by SNI name, carry their snis as a shorthand in
// and out, and PUT replaces the SNI set; /snis/{s}/certificate is
// disabled; a CA certificate's digest is computed.

var errSNINotFound = errStatus(http.StatusNotFound, "SNI not found")

var certificateOptions = entityOptions{
	byKey:      certificateBySNI,
	view:       certificateView,
	companions: certificateSNIs,
	overrides: func(s *Server) {
		s.handleFunc("/certificates/{certificates}", http.MethodPut, s.putCertificate)
	},
}

var sniOptions = entityOptions{
	overrides: func(s *Server) {
		// endpoints.disable: the certificate is /certificates/{sni name}.
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost} {
			s.handleFunc("/snis/{snis}/certificate", m, func(w http.ResponseWriter, r *http.Request) {
				s.writeError(w, r, errNotFound)
			})
		}
	},
}

var caCertificateOptions = entityOptions{after: digestCACertificate}

// certificateBySNI is prepare_params: a key that is not a UUID names an
// SNI, and the request goes on with that SNI's certificate.
func certificateBySNI(snap *store.Snapshot, _ store.Row, key string) (store.Row, error) {
	sni, err := snap.SNIByName(key)
	if err != nil {
		return nil, err
	}
	if sni == nil {
		return nil, errSNINotFound
	}
	c, err := snap.CertificateByID(sni.Certificate.ID)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errSNINotFound
	}
	return c, nil
}

// certificateView is the certificate with its SNI names, sorted ([] when
// none), as every read of Kong's shows it.
func certificateView(snap *store.Snapshot, row store.Row) (any, error) {
	m, err := entityToMap(row)
	if err != nil {
		return nil, err
	}
	snis, err := snap.SNIsOfCertificate(row.(*store.Certificate).ID)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(snis))
	for _, n := range snis {
		names = append(names, n.Name)
	}
	slices.Sort(names)
	m["snis"] = names
	return m, nil
}

// certificateSNIs turns the snis shorthand into SNI writes in the
// certificate's transaction: absent leaves the SNIs alone, null or a list
// makes the certificate's set exactly that. Duplicates and names of
// another certificate are schema violations, checked before anything is
// written (kong/db/dao/certificates.lua).
func certificateSNIs(snap *store.Snapshot, row store.Row, input map[string]any) ([]store.Mutation, error) {
	v, given := input["snis"]
	if !given {
		return nil, nil
	}
	cert := row.(*store.Certificate)
	var names []string
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				names = append(names, s)
			}
		}
	case string:
		names = []string{t}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return nil, snisViolation(n + " is duplicated")
		}
		seen[n] = true
		other, err := snap.SNIByName(n)
		if err != nil {
			return nil, err
		}
		if other != nil && other.Certificate.ID != cert.ID {
			return nil, snisViolation(fmt.Sprintf("%s already associated with existing certificate '%s'", n, other.Certificate.ID))
		}
	}
	have, err := snap.SNIsOfCertificate(cert.ID)
	if err != nil {
		return nil, err
	}
	var out []store.Mutation
	for _, h := range have {
		if seen[h.Name] {
			delete(seen, h.Name)
			continue
		}
		out = append(out, store.Mutation{Op: store.OpDelete, Table: "snis", ID: h.ID})
	}
	slices.Sort(names)
	for _, n := range names {
		if !seen[n] {
			continue
		}
		out = append(out, store.Mutation{Op: store.OpUpsert, Table: "snis", Create: true, Row: &store.SNI{
			ID: uuid.NewString(), CreatedAt: cert.UpdatedAt, UpdatedAt: cert.UpdatedAt,
			Name: n, Certificate: store.ForeignKey{ID: cert.ID},
		}})
	}
	return out, nil
}

func snisViolation(msg string) error {
	return schemaViolation(schema.FieldErrors{"snis": msg})
}

// putCertificate is PUT /certificates/{id or sni name}: a replacement, so
// snis absent means none (Kong's upsert); addressed by an SNI name the
// certificate is that SNI's (a new one when unknown) and a given snis list
// gains the URL's name.
func (s *Server) putCertificate(w http.ResponseWriter, r *http.Request) {
	e := s.entities["certificates"]
	key := pathVar(r, "certificates")
	snap := s.store.Snapshot()
	var existing store.Row
	id := key
	if schema.IsUUID(key) {
		row, err := snap.Get("certificates", key)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		existing = row
	} else {
		row, err := certificateBySNI(snap, nil, key)
		switch {
		case err == errSNINotFound:
			id = uuid.NewString()
		case err != nil:
			s.writeError(w, r, err)
			return
		default:
			existing, id = row, row.(*store.Certificate).ID
		}
	}
	input, err := decodeInput(r, e.schema, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	input["id"] = id
	switch v := input["snis"].(type) {
	case nil:
		input["snis"] = nil
	case []any:
		if !schema.IsUUID(key) && !slices.Contains(v, any(key)) {
			input["snis"] = append(v, key)
		}
	case string:
		if !schema.IsUUID(key) && v != key {
			input["snis"] = []any{v, key}
		}
	}
	row, sent, err := e.newRow(s, snap, input, existing)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if e.write(s, w, r, snap, e.upsert(row, false), row, sent) {
		e.writeRow(s, w, r, http.StatusOK, row)
	}
}

// digestCACertificate sets cert_digest: the hex SHA-256 of the DER,
// whatever the input said.
func digestCACertificate(_ *Server, _ *store.Snapshot, row store.Row, _ any) error {
	ca := row.(*store.CACertificate)
	c, err := schema.ParseCertificatePEM(ca.Cert)
	if err != nil {
		return fmt.Errorf("admin: validated CA certificate does not parse: %w", err)
	}
	sum := sha256.Sum256(c.Raw)
	ca.CertDigest = hex.EncodeToString(sum[:])
	return nil
}
