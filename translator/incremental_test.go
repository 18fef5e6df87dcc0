package translator

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/switchboard-gw/switchboard/store"
)

// TestIncremental_MatchesTranslate applies random mutation sequences to a
// real store and, after each commit, feeds the Incremental the changes
// (ChangesBetween the two snapshots, or the store's change feed for odd
// seeds) and checks, resource by resource,
// that its configuration equals a full Translate of the snapshot, that the
// Delta applied to the previous configuration gives the new one, and that
// both report the same problems. Bounded: fixed seeds, a fixed number of
// steps.
func TestIncremental_MatchesTranslate(t *testing.T) {
	const sequences, steps = 24, 60
	for seed := range uint64(sequences) {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			g, st := newMutatedWith(t, seed, 0x5b, seed%3 != 0 && seed%2 == 0)
			// Some seeds serve a rate-limit service: its cluster comes from
			// the options alone and must survive every update. Two seeds in
			// three run with the TLS listener (its own route configuration,
			// SNI chains, the default certificate), half of them with few
			// routes that keep it from sharing the plain one.
			opts := Options{}
			if seed%4 == 2 {
				opts.RateLimitAddress = "127.0.0.1:18001"
			}
			if seed%3 != 0 {
				opts.ProxyTLSPort = 8443
			}
			inc := NewIncremental(opts)
			prev := st.Snapshot()
			if _, err := inc.Update(prev, g.dns, Changes{}); err != nil && !isEntityErrors(err) {
				t.Fatal(err)
			}
			view := viewOf(inc.Resources())
			applied := 0
			for step := range steps {
				m, dnsMoved := g.next(prev)
				if m != nil {
					if _, err := st.Apply(m); err != nil {
						continue // refused by the store (a reference, a unique name): nothing changed
					}
				}
				applied++
				snap := st.Snapshot()
				ch, err := ChangesBetween(prev, snap)
				if err != nil {
					t.Fatal(err)
				}
				ch.DNS = dnsMoved
				if g.excludeMoved {
					ch.Exclude, g.excludeMoved = maps.Clone(g.exclude), false
				}
				// The store's own feed must say the same.
				if revs, err := snap.ChangesSince(prev.Revision()); err != nil {
					t.Fatal(err)
				} else if fc := ChangesFromFeed(revs); !sameChanges(fc, ch) {
					t.Fatalf("step %d (%v): change feed %+v, snapshot diff %+v", step, m, fc, ch)
				} else if seed%2 == 1 {
					// Odd seeds drive the Incremental from the feed.
					fc.DNS, fc.Exclude = dnsMoved, ch.Exclude
					ch = fc
				}
				d, err := inc.Update(snap, g.dns, ch)
				if err != nil && !isEntityErrors(err) {
					t.Fatalf("step %d (%v): %v", step, m, err)
				}
				in, err := FromSnapshot(snap, g.dns, opts)
				if err != nil {
					t.Fatal(err)
				}
				in.Exclude = g.exclude
				want, werr := Translate(in)
				got := inc.Resources()
				if !sameResources(want, got) {
					diff := cmp.Diff(want, got, protocmp.Transform())
					t.Fatalf("step %d (%v, changes %+v): incremental differs from Translate (-full +incremental):\n%s", step, m, ch, diff)
				}
				if w, g := errorLines(werr), errorLines(inc.Err()); !slices.Equal(w, g) {
					t.Fatalf("step %d (%v): problems differ:\nfull: %q\nincremental: %q", step, m, w, g)
				}
				view.apply(d)
				if wv := viewOf(want); !sameView(wv, view) {
					diff := cmp.Diff(wv, view, protocmp.Transform())
					t.Fatalf("step %d (%v): the deltas applied so far differ from Translate (-full +deltas):\n%s", step, m, diff)
				}
				prev = snap
			}
			if applied < steps/2 {
				t.Errorf("only %d of %d steps changed the store: the generator is too often refused", applied, steps)
			}
		})
	}
}

// newMutated is a mutator on random stream (seed, stream) and a store
// holding its population.
func newMutated(t *testing.T, seed, stream uint64) (*mutator, *store.Store) {
	t.Helper()
	return newMutatedWith(t, seed, stream, false)
}

// newMutatedWith is newMutated with mutator.neutral set as given.
func newMutatedWith(t *testing.T, seed, stream uint64, neutral bool) (*mutator, *store.Store) {
	t.Helper()
	g := &mutator{rng: rand.New(rand.NewPCG(seed, stream)), dns: map[string]DNSAnswer{}, exclude: map[string]string{}, neutral: neutral}
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(g.population()); err != nil {
		t.Fatal(err)
	}
	return g, st
}

// TestIncremental_OneRouteChange checks the dependency index on the
// benchmark's mixed shape (at a tenth of its size): one route change
// re-translates one route and moves the route configuration only.
func TestIncremental_OneRouteChange(t *testing.T) {
	st, inc, in := benchStore(t, sizedInput(1000, 100, 990, 100))
	prev := st.Snapshot()
	r := *in.Routes[123]
	r.Paths = []string{"/moved"}
	if _, err := st.Apply(&store.Mutation{Op: store.OpUpsertRoute, Route: &r}); err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	ch, err := ChangesBetween(prev, snap)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Changes{Routes: []string{r.ID}}, ch); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
	d, err := inc.Update(snap, nil, ch)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Routes) != 1 || len(d.Clusters)+len(d.Endpoints)+len(d.Listeners)+len(d.RemovedClusters)+len(d.RemovedEndpoints) != 0 {
		t.Errorf("delta = %d routes, %d clusters, %d endpoints, %d listeners, removed %v %v; want the route configuration only",
			len(d.Routes), len(d.Clusters), len(d.Endpoints), len(d.Listeners), d.RemovedClusters, d.RemovedEndpoints)
	}
}

// benchStore loads in into a store and an Incremental.
func benchStore(t testing.TB, in *Input) (*store.Store, *Incremental, *Input) {
	t.Helper()
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(inputBatch(in)); err != nil {
		t.Fatal(err)
	}
	inc := NewIncremental(Options{})
	if _, err := inc.Update(st.Snapshot(), nil, Changes{All: true}); err != nil {
		t.Fatal(err)
	}
	return st, inc, in
}

// sameChanges compares two Changes as sets (the feed may also name a row
// written with identical content, which the diff cannot see; both then
// re-translate it, so only a missing id is a failure).
func sameChanges(feed, diff Changes) bool {
	covers := func(a, b []string) bool {
		for _, id := range b {
			if !slices.Contains(a, id) {
				return false
			}
		}
		return true
	}
	return feed.All || (covers(feed.Services, diff.Services) && covers(feed.Routes, diff.Routes) &&
		covers(feed.Upstreams, diff.Upstreams) && covers(feed.EndpointUpstreams, diff.EndpointUpstreams) &&
		covers(feed.Certificates, diff.Certificates) && covers(feed.SNIs, diff.SNIs) && covers(feed.CACertificates, diff.CACertificates))
}

func isEntityErrors(err error) bool {
	// Quarantined entities are entity errors too.
	for _, line := range errorLines(err) {
		if !strings.HasPrefix(line, "route ") && !strings.HasPrefix(line, "service ") && !strings.HasPrefix(line, "upstream ") &&
			!strings.HasPrefix(line, "certificate ") {
			return false
		}
	}
	return true
}

// errorLines flattens a joined error into sorted messages.
func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		out = append(out, e.Error())
	}
	walk(err)
	slices.Sort(out)
	return out
}

func sameResources(a, b *Resources) bool {
	return sameView(viewOf(a), viewOf(b)) && len(a.Clusters) == len(b.Clusters) && cmp.Equal(a.ClusterUpstream, b.ClusterUpstream)
}

func sameView(a, b resourceView) bool {
	for kind, ms := range a {
		if len(ms) != len(b[kind]) {
			return false
		}
		for name, m := range ms {
			if o, ok := b[kind][name]; !ok || !proto.Equal(m, o) {
				return false
			}
		}
	}
	return true
}

// resourceView is what a client holding every Delta so far has, by type
// and name.
type resourceView map[string]map[string]proto.Message

func viewOf(res *Resources) resourceView {
	v := resourceView{"listeners": {}, "routes": {}, "clusters": {}, "endpoints": {}, "secrets": {}}
	for _, s := range res.Secrets {
		v["secrets"][s.GetName()] = s
	}
	for _, l := range res.Listeners {
		v["listeners"][l.GetName()] = l
	}
	for _, r := range res.Routes {
		v["routes"][r.GetName()] = r
	}
	for _, c := range res.Clusters {
		v["clusters"][c.GetName()] = c
	}
	for _, e := range res.Endpoints {
		v["endpoints"][e.GetClusterName()] = e
	}
	return v
}

func (v resourceView) apply(d *Delta) {
	for _, l := range d.Listeners {
		v["listeners"][l.GetName()] = l
	}
	for _, r := range d.Routes {
		v["routes"][r.GetName()] = r
	}
	for _, c := range d.Clusters {
		v["clusters"][c.GetName()] = c
	}
	for _, e := range d.Endpoints {
		v["endpoints"][e.GetClusterName()] = e
	}
	for _, n := range d.RemovedClusters {
		delete(v["clusters"], n)
	}
	for _, n := range d.RemovedEndpoints {
		delete(v["endpoints"], n)
	}
	for _, s := range d.Secrets {
		v["secrets"][s.GetName()] = s
	}
	for _, n := range d.RemovedSecrets {
		delete(v["secrets"], n)
	}
}

// mutator draws store mutations over small id and name pools, so that
// entities collide, reference each other, rename into each other's names
// and get deleted while referenced.
type mutator struct {
	rng *rand.Rand
	dns map[string]DNSAnswer
	// exclude is the quarantine set (Input.Exclude); excludeMoved says the
	// last step changed it.
	exclude      map[string]string
	excludeMoved bool
	// neutral makes nine routes in ten listener-neutral, so that the TLS
	// listener often starts and stops sharing the plain table.
	neutral bool
}

func (g *mutator) pick(n int) int { return g.rng.IntN(n) }

func pickOf[T any](g *mutator, xs ...T) T { return xs[g.pick(len(xs))] }

var (
	upstreamNames = []string{"up-a", "up-b", "up-c", "plain.test"}
	serviceHosts  = []string{"up-a", "up-b", "up-c", "10.0.0.1", "10.0.0.2", "plain.test", "[::1]"}
	dnsNames      = []string{"plain.test", "named.test"}
	targetAddrs   = []string{"10.0.1.1:80", "10.0.1.2:8080", "named.test:80", "[::2]:80", "plain.test"}
)

// population is the starting state: every id of the pools, so that
// mutations mostly replace and reference existing entities.
func (g *mutator) population() *store.Mutation {
	b := &store.Mutation{Op: store.OpBatch}
	// Certificates and CAs first, so that TLS references of the services
	// and upstreams below mostly exist.
	for i := range 3 {
		m := g.certificate()
		for m.Table != "certificates" {
			m = g.certificate()
		}
		m.Row.(*store.Certificate).ID = fmt.Sprintf("c%d", i)
		b.Batch = append(b.Batch, *m)
	}
	for i := range 2 {
		m := g.caCertificate()
		m.Row.(*store.CACertificate).ID = fmt.Sprintf("ca%d", i)
		m.Row.(*store.CACertificate).CertDigest = fmt.Sprintf("digest-ca%d", i)
		b.Batch = append(b.Batch, *m)
	}
	for i := range 4 {
		u := g.upstream()
		u.ID, u.Name = fmt.Sprintf("u%d", i), upstreamNames[i]
		b.Batch = append(b.Batch, store.Mutation{Op: store.OpUpsertUpstream, Upstream: u})
	}
	for i := range 8 {
		tg := g.target()
		tg.ID, tg.Upstream.ID, tg.Target = fmt.Sprintf("t%d", i), fmt.Sprintf("u%d", i/2), targetAddrs[i%len(targetAddrs)]
		b.Batch = append(b.Batch, store.Mutation{Op: store.OpUpsertTarget, Target: tg})
	}
	for i := range 5 {
		s := g.service()
		s.ID = fmt.Sprintf("s%d", i)
		name := "svc-" + s.ID
		s.Name = &name
		b.Batch = append(b.Batch, store.Mutation{Op: store.OpUpsertService, Service: s})
	}
	b.Batch = append(b.Batch,
		*store.Upsert("default_certificate", &store.DefaultCertificate{ID: store.DefaultCertificateID, Cert: "RSA", Key: "RSA-KEY", CertAlt: "EC", KeyAlt: "EC-KEY"}),
		*store.Upsert("certificates", &store.Certificate{ID: "c0", Cert: "CERT-0", Key: "KEY-0"}),
		*store.Upsert("snis", &store.SNI{ID: "n0", Name: "a.test", Certificate: store.ForeignKey{ID: "c0"}}))
	for i := range 10 {
		r := g.route(nil)
		r.ID = fmt.Sprintf("r%d", i)
		r.Service = &store.ForeignKey{ID: fmt.Sprintf("s%d", g.pick(5))}
		b.Batch = append(b.Batch, store.Mutation{Op: store.OpUpsertRoute, Route: r})
	}
	return b
}

// next returns a mutation, or nil with the hostnames whose DNS answers it
// moved instead.
func (g *mutator) next(snap *store.Snapshot) (*store.Mutation, []string) {
	switch g.pick(27) {
	case 0, 1, 2:
		return &store.Mutation{Op: store.OpUpsertService, Service: g.service()}, nil
	case 3, 4, 5, 6, 7:
		return &store.Mutation{Op: store.OpUpsertRoute, Route: g.route(snap)}, nil
	case 8, 9:
		return &store.Mutation{Op: store.OpUpsertUpstream, Upstream: g.upstream()}, nil
	case 10, 11, 12:
		return &store.Mutation{Op: store.OpUpsertTarget, Target: g.target()}, nil
	case 13:
		th := &store.TargetHealth{TargetID: fmt.Sprintf("t%d", g.pick(8)), Healthy: g.pick(2) == 0}
		if g.pick(2) == 0 {
			th.Address = pickOf(g, "10.0.1.1:80", "10.9.9.9:80", "10.0.1.2:8080")
		}
		return &store.Mutation{Op: store.OpSetTargetHealth, TargetHealth: th}, nil
	case 14:
		return &store.Mutation{Op: store.OpDeleteRoute, ID: fmt.Sprintf("r%d", g.pick(10))}, nil
	case 15:
		return &store.Mutation{Op: store.OpDeleteService, ID: fmt.Sprintf("s%d", g.pick(5))}, nil
	case 16:
		return &store.Mutation{Op: store.OpDeleteUpstream, ID: fmt.Sprintf("u%d", g.pick(4))}, nil
	case 17:
		return &store.Mutation{Op: store.OpDeleteTarget, ID: fmt.Sprintf("t%d", g.pick(8))}, nil
	case 18:
		return &store.Mutation{Op: store.OpBatch, Batch: []store.Mutation{
			{Op: store.OpUpsertService, Service: g.service()},
			{Op: store.OpUpsertRoute, Route: g.route(snap)},
			{Op: store.OpUpsertTarget, Target: g.target()},
		}}, nil
	case 20:
		if g.pick(5) == 0 {
			return store.Upsert("default_certificate", &store.DefaultCertificate{
				ID: store.DefaultCertificateID, Cert: "RSA-" + pickOf(g, "1", "2"), Key: "RSA-KEY", CertAlt: "EC", KeyAlt: "EC-KEY",
			}), nil
		}
		return g.certificate(), nil
	case 21:
		return &store.Mutation{Op: store.OpDelete, Table: "certificates", ID: fmt.Sprintf("c%d", g.pick(3))}, nil
	case 24, 25:
		return g.caCertificate(), nil
	case 26:
		return &store.Mutation{Op: store.OpDelete, Table: "ca_certificates", ID: fmt.Sprintf("ca%d", g.pick(2))}, nil
	case 19:
		// Quarantine (or release) one entity of any kind.
		id := pickOf(g, fmt.Sprintf("r%d", g.pick(10)), fmt.Sprintf("s%d", g.pick(5)), fmt.Sprintf("u%d", g.pick(4)), fmt.Sprintf("t%d", g.pick(8)))
		if _, ok := g.exclude[id]; ok {
			delete(g.exclude, id)
		} else {
			g.exclude[id] = "NACKed by node-1"
		}
		g.excludeMoved = true
		return nil, nil
	}
	name := pickOf(g, dnsNames...)
	switch g.pick(3) {
	case 0:
		delete(g.dns, name)
	case 1:
		g.dns[name] = DNSAnswer{RecordType: "A", Err: "dns server error"}
	default:
		a := DNSAnswer{RecordType: "A"}
		for i := range 1 + g.pick(3) {
			a.Addresses = append(a.Addresses, Address{IP: fmt.Sprintf("10.2.%d.%d", g.pick(3), i+1)})
		}
		g.dns[name] = a
	}
	return nil, []string{name}
}

// caCertificate writes (rotates) one of two CA certificates; the digest is
// the store's unique key, so it follows the content.
func (g *mutator) caCertificate() *store.Mutation {
	id := fmt.Sprintf("ca%d", g.pick(2))
	pem := pickOf(g, "CA-PEM-1", "CA-PEM-2", "CA-PEM-3")
	return store.Upsert("ca_certificates", &store.CACertificate{ID: id, Cert: pem, CertDigest: id + "-" + pem})
}

// certificate writes one of three certificates, with or without an
// alternate pair, or one of its SNIs. The translator never parses the
// PEMs (the Admin API has), so placeholders do.
func (g *mutator) certificate() *store.Mutation {
	id := fmt.Sprintf("c%d", g.pick(3))
	if g.pick(3) == 0 {
		return store.Upsert("snis", &store.SNI{
			ID: fmt.Sprintf("n%d", g.pick(4)), Name: pickOf(g, "a.test", "*.test", "api.*", "*"),
			Certificate: store.ForeignKey{ID: id},
		})
	}
	c := &store.Certificate{ID: id, Cert: pickOf(g, "CERT-1", "CERT-2"), Key: pickOf(g, "KEY-1", "KEY-2")}
	if g.pick(2) == 0 {
		alt, altKey := pickOf(g, "ALT-1", "ALT-2"), "ALT-KEY"
		c.CertAlt, c.KeyAlt = &alt, &altKey
	}
	return store.Upsert("certificates", c)
}

func (g *mutator) service() *store.Service {
	s := defaultService()
	s.ID = fmt.Sprintf("s%d", g.pick(5))
	name := "svc-" + s.ID
	s.Name = &name
	s.Host = pickOf(g, serviceHosts...)
	s.Port = int64(pickOf(g, 80, 8080, 443))
	s.Protocol = pickOf(g, "http", "http", "https", "grpc", "tcp")
	s.ConnectTimeout = int64(pickOf(g, 60000, 1000))
	s.ReadTimeout = int64(pickOf(g, 60000, 2500))
	s.Retries = int64(pickOf(g, 5, 0, 3))
	s.Enabled = g.pick(6) != 0
	if s.Protocol == "https" && g.pick(2) == 0 {
		v := true
		s.TLSVerify = &v
	}
	// TLS references (refused by the store unless https; the store also
	// refuses ids that do not exist, which the pools make rare).
	if s.Protocol == "https" || g.pick(8) == 0 {
		if g.pick(3) == 0 {
			s.ClientCertificate = &store.ForeignKey{ID: fmt.Sprintf("c%d", g.pick(3))}
		}
		if g.pick(3) == 0 {
			s.CACertificates = pickOf(g, []string{"ca0"}, []string{"ca1", "ca0"}, []string{"ca1"})
		}
	}
	return s
}

func (g *mutator) route(snap *store.Snapshot) *store.Route {
	r := defaultRoute()
	r.ID = fmt.Sprintf("r%d", g.pick(10))
	r.CreatedAt = int64(g.pick(4))
	r.Hosts = pickOf(g, nil, []string{"a.test"}, []string{"*.test"}, []string{"a.test", "b.test"}, []string{"a.test:9000"}, []string{"A.test", "api.*"})
	r.Paths = pickOf(g, nil, []string{"/a"}, []string{"/a", "/b"}, []string{`~/r\d+`}, []string{"/a/x"})
	r.Methods = pickOf(g, nil, []string{"GET"}, []string{"GET", "POST"})
	r.Headers = pickOf[map[string][]string](g, nil, map[string][]string{"x-v": {"1"}}, map[string][]string{"x-v": {"~*[unclosed"}})
	r.StripPath = g.pick(2) == 0
	r.PreserveHost = g.pick(4) == 0
	r.RegexPriority = int64(g.pick(3))
	if g.pick(6) == 0 {
		r.Protocols = pickOf(g, []string{"https"}, []string{"tcp"}, []string{"grpc"}, []string{"http"})
	}
	if g.pick(4) == 0 {
		r.SNIs = pickOf(g, []string{"a.test"}, []string{"*.test", "api.*"})
	}
	// Mostly an existing service, so that the store accepts the route.
	if g.pick(8) != 0 && snap != nil {
		if ss, _ := snap.Services(); len(ss) > 0 {
			r.Service = &store.ForeignKey{ID: ss[g.pick(len(ss))].ID}
		}
	}
	if g.neutral && g.pick(10) != 0 && !listenerNeutral(r) {
		r.SNIs, r.Protocols = nil, nil
		r.Hosts = slices.DeleteFunc(slices.Clone(r.Hosts), func(h string) bool { return strings.Contains(h, ":") })
	}
	return r
}

func (g *mutator) upstream() *store.Upstream {
	u := defaultUpstream()
	u.ID = fmt.Sprintf("u%d", g.pick(4))
	u.Name = pickOf(g, upstreamNames...)
	if g.pick(3) == 0 {
		u.Algorithm, u.HashOn = "consistent-hashing", "header"
		h := "x-user"
		u.HashOnHeader = &h
	}
	if g.pick(3) == 0 {
		h := "internal.test"
		u.HostHeader = &h
	}
	if g.pick(3) == 0 {
		u.Healthchecks.Active.Healthy.Interval = 5
		u.Healthchecks.Active.Unhealthy.Interval = 5
		u.Healthchecks.Active.Unhealthy.HTTPFailures = 2
		if g.pick(2) == 0 {
			u.Healthchecks.Active.Type = "https"
			sni := "probe.test"
			u.Healthchecks.Active.HTTPSSNI = pickOf(g, nil, &sni)
			u.Healthchecks.Active.HTTPSVerifyCertificate = g.pick(2) == 0
		}
	}
	if g.pick(3) == 0 {
		u.ClientCertificate = &store.ForeignKey{ID: fmt.Sprintf("c%d", g.pick(3))}
	}
	return u
}

func (g *mutator) target() *store.Target {
	return &store.Target{
		ID:       fmt.Sprintf("t%d", g.pick(8)),
		Upstream: store.ForeignKey{ID: fmt.Sprintf("u%d", g.pick(4))},
		Target:   pickOf(g, targetAddrs...),
		Weight:   int64(pickOf(g, 100, 10, 0)),
	}
}
