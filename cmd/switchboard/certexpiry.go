package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// certExpiry exports when each stored certificate expires, read from the
// store at scrape time (kong-compatible entities carry no expiry field:
// decK would diff it). One series per certificate PEM: a certificate's
// cert and cert_alt, and each CA certificate.
type certExpiry struct {
	snap func() *store.Snapshot
	desc *prometheus.Desc
}

func newCertExpiry(st *store.Store) *certExpiry {
	return &certExpiry{
		snap: st.Snapshot,
		desc: prometheus.NewDesc("switchboard_certificate_expiry_timestamp_seconds",
			"Not After of each stored certificate (Unix seconds), by entity table, id and field (cert, cert_alt).",
			[]string{"entity", "id", "field"}, nil),
	}
}

func (c *certExpiry) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *certExpiry) Collect(ch chan<- prometheus.Metric) {
	snap := c.snap()
	emit := func(entity, id, field, pemText string) {
		cert, err := schema.ParseCertificatePEM(pemText)
		if err != nil {
			return // legacy or hand-made rows the schema would refuse
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(cert.NotAfter.Unix()), entity, id, field)
	}
	if certs, err := snap.Certificates(); err == nil {
		for _, ct := range certs {
			emit("certificates", ct.ID, "cert", ct.Cert)
			if ct.CertAlt != nil {
				emit("certificates", ct.ID, "cert_alt", *ct.CertAlt)
			}
		}
	}
	if cas, err := snap.CACertificates(); err == nil {
		for _, ca := range cas {
			emit("ca_certificates", ca.ID, "cert", ca.Cert)
		}
	}
}
