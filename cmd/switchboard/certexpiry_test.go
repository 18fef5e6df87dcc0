package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-gw/switchboard/store"
)

func TestCertExpiry_ExportsNotAfter(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := time.Unix(1900000000, 0)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x.test"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: notAfter, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*store.Mutation{
		store.Upsert("certificates", &store.Certificate{ID: "c1", Cert: certPEM, Key: "k"}),
		store.Upsert("certificates", &store.Certificate{ID: "c2", Cert: "not a pem", Key: "k"}),
		store.Upsert("ca_certificates", &store.CACertificate{ID: "ca1", Cert: certPEM, CertDigest: "d"}),
	} {
		if _, err := st.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCertExpiry(st))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"switchboard_certificate_expiry_timestamp_seconds{entity=ca_certificates,field=cert,id=ca1}": 1.9e9,
		"switchboard_certificate_expiry_timestamp_seconds{entity=certificates,field=cert,id=c1}":     1.9e9,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
