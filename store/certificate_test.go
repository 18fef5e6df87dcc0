package store

import (
	"encoding/json"
	"errors"
	"testing"
)

// Legacy data may hold TLS ids with no such table: kept (inert) when the
// dump has no TLS tables, refused when it has them.
func TestStore_TLSRefsOfLegacyDumps(t *testing.T) {
	legacy := `{"revision":3,"services":[{"entity":{"id":"s1","host":"h.test","port":443,"protocol":"https",` +
		`"client_certificate":{"id":"c-missing"},"ca_certificates":["ca-missing"]},"modify_index":1}]}`
	var d Dump
	if err := json.Unmarshal([]byte(legacy), &d); err != nil {
		t.Fatal(err)
	}
	s := newTestStore(t)
	if err := s.Restore(0, &d); err != nil {
		t.Fatalf("legacy dump: %v", err)
	}
	if sv, _ := s.Snapshot().ServiceByID("s1"); sv == nil || sv.ClientCertificate == nil || len(sv.CACertificates) != 1 {
		t.Fatalf("legacy ids not kept: %+v", sv)
	}
	withTables := `{"revision":3,"certificates":[],"ca_certificates":[],` + legacy[len(`{"revision":3,`):]
	if err := json.Unmarshal([]byte(withTables), &d); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(0, &d); !errors.As(err, new(*ForeignKeyError)) {
		t.Fatalf("dump with TLS tables and a dangling id: %v", err)
	}
	// A generic write is always checked.
	if _, err := s.Apply(tlsSvcM("s2", "c-missing")); !errors.As(err, new(*ForeignKeyError)) {
		t.Fatalf("generic write with a dangling certificate: %v", err)
	}
}

func TestStore_ReferencedErrorNamesRows(t *testing.T) {
	s := newTestStore(t)
	for _, m := range []*Mutation{caM("ca1", "d1"), tlsSvcM("s1", "", "ca1")} {
		mustApply(t, s, m)
	}
	var re *ReferencedError
	if _, err := s.Apply(Delete(tableCACertificates, "ca1")); !errors.As(err, &re) || re.ID != "ca1" || re.ReferrerID != "s1" {
		t.Fatalf("got %v (%+v)", err, re)
	}
}
