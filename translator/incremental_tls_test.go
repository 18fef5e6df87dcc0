package translator

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/switchboard-gw/switchboard/store"
)

// TestIncremental_TLSRotationMovesSecretsOnly: rotating a client
// certificate moves its cert/<id> secret alone, rotating a CA the
// ca/<service id> secret of each service listing it, and editing a
// service's ca_certificates its own secret and nothing of the cluster.
func TestIncremental_TLSRotationMovesSecretsOnly(t *testing.T) {
	in := tlsFixture()
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	batch := &store.Mutation{Op: store.OpBatch}
	for _, c := range in.Certificates {
		c.Cert, c.Key = "CERT-"+c.ID, "KEY"
		batch.Batch = append(batch.Batch, *store.Upsert("certificates", c))
	}
	for _, ca := range in.CACertificates {
		ca.CertDigest = "digest-" + ca.ID
		batch.Batch = append(batch.Batch, *store.Upsert("ca_certificates", ca))
	}
	for _, s := range in.Services {
		// The store refuses the dangling ids the fixture keeps for Translate.
		if s.ClientCertificate != nil && s.ClientCertificate.ID == "cert-gone" {
			s.ClientCertificate = nil
		}
		s.CACertificates = without(s.CACertificates, "ca-gone")
	}
	batch.Batch = append(batch.Batch, inputBatch(in).Batch...)
	if _, err := st.Apply(batch); err != nil {
		t.Fatal(err)
	}
	inc := NewIncremental(in.Options)
	prev := st.Snapshot()
	if _, err := inc.Update(prev, in.DNS, Changes{All: true}); err != nil {
		t.Fatal(err)
	}

	// routesToo: a service write re-translates its routes, and the Delta
	// carries the route configuration whenever routes were re-translated.
	step := func(name string, m *store.Mutation, routesToo bool, wantSecrets ...string) {
		t.Helper()
		if _, err := st.Apply(m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		snap := st.Snapshot()
		revs, err := snap.ChangesSince(prev.Revision())
		if err != nil {
			t.Fatal(err)
		}
		d, err := inc.Update(snap, in.DNS, ChangesFromFeed(revs))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		prev = snap
		var got []string
		for _, s := range d.Secrets {
			got = append(got, s.GetName())
		}
		routes := len(d.Routes)
		if routesToo {
			routes = 0
		}
		if len(d.Clusters)+len(d.Endpoints)+len(d.Listeners)+routes+len(d.RemovedClusters)+len(d.RemovedSecrets) != 0 ||
			!slices.Equal(got, wantSecrets) {
			t.Errorf("%s: delta = %d clusters, %d endpoints, %d listeners, %d routes, removed %v %v, secrets %v; want secrets %v only",
				name, len(d.Clusters), len(d.Endpoints), len(d.Listeners), len(d.Routes), d.RemovedClusters, d.RemovedSecrets, got, wantSecrets)
		}
	}
	step("client certificate rotated", store.Upsert("certificates", &store.Certificate{ID: "cert-svc", Cert: "CERT-2", Key: "KEY-2"}),
		false, "cert/cert-svc")
	step("CA rotated", store.Upsert("ca_certificates", &store.CACertificate{ID: "ca-1", Cert: "PEM-2", CertDigest: "digest-2"}),
		false, "ca/s-verify")
	svc := *in.Services[1]
	svc.CACertificates = []string{"ca-1"}
	step("service CA list edited", &store.Mutation{Op: store.OpUpsertService, Service: &svc}, true, "ca/s-verify")
}

func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}

// TestIncremental_LegacyCertificateAppears: a service and an upstream kept
// from a legacy state name client certificates that do not exist (none is
// presented); when the certificates are created, their clusters change as
// Translate says.
func TestIncremental_LegacyCertificateAppears(t *testing.T) {
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	up := defaultUpstream()
	up.ID, up.Name, up.ClientCertificate = "u1", "legacy-up", &store.ForeignKey{ID: "c-up"}
	svc := defaultService()
	svc.ID, svc.Host, svc.Protocol, svc.Port = "s1", "legacy-up", "https", 443
	svc.ClientCertificate = &store.ForeignKey{ID: "c-svc"}
	r := defaultRoute()
	r.ID, r.Paths, r.Service = "r1", []string{"/"}, &store.ForeignKey{ID: "s1"}
	// Per-entity (legacy) ops keep dangling TLS ids (store.tlsLenient).
	if _, err := st.Apply(&store.Mutation{Op: store.OpBatch, Batch: []store.Mutation{
		{Op: store.OpUpsertUpstream, Upstream: up}, {Op: store.OpUpsertService, Service: svc}, {Op: store.OpUpsertRoute, Route: r},
	}}); err != nil {
		t.Fatal(err)
	}
	inc := NewIncremental(Options{})
	prev := st.Snapshot()
	if _, err := inc.Update(prev, nil, Changes{All: true}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"c-up", "c-svc"} {
		if _, err := st.Apply(store.Upsert("certificates", &store.Certificate{ID: id, Cert: "CERT", Key: "KEY"})); err != nil {
			t.Fatal(err)
		}
		snap := st.Snapshot()
		revs, err := snap.ChangesSince(prev.Revision())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inc.Update(snap, nil, ChangesFromFeed(revs)); err != nil {
			t.Fatal(err)
		}
		prev = snap
		in, err := FromSnapshot(snap, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := Translate(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := inc.Resources(); !sameResources(want, got) {
			t.Fatalf("after creating %s: incremental differs from Translate (-full +incremental):\n%s", id,
				cmp.Diff(want, got, protocmp.Transform()))
		}
	}
}
