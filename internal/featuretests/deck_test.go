package featuretests

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/kong/go-kong/kong"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/store"
)

func newDeck(t *testing.T) (*deck, *store.Store) {
	t.Helper()
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httptest.NewServer(admin.New(st, admin.Options{Logger: quiet}).Handler())
	t.Cleanup(api.Close)
	log := &callLog{next: api.Client().Transport}
	raw := &http.Client{Transport: log}
	c, err := kong.NewClient(kong.String(api.URL), raw)
	if err != nil {
		t.Fatal(err)
	}
	return &deck{t: t, c: c, raw: raw, base: api.URL, log: log}, st
}

// gettingStarted is a kong.yaml as decK reads it: Kong's Get Started
// entities (a service with a route and key-auth, rate limiting and proxy
// caching, an upstream with two targets, a consumer with a key) and a
// certificate with two SNIs beside a CA certificate. Children name their
// parents, as in the file.
func gettingStarted(cert, ca testCert) func() *deckState {
	return func() *deckState {
		svc := &kong.Service{Name: kong.String("example_service"), Host: kong.String("httpbin.konghq.com"), Protocol: kong.String("http"), Port: kong.Int(80)}
		other := &kong.Service{Name: kong.String("other_service"), Host: kong.String("other.test"), Tags: kong.StringSlice("team-a")}
		return &deckState{
			Services: []*kong.Service{svc, other},
			Routes: []*kong.Route{
				{Name: kong.String("example_route"), Paths: kong.StringSlice("/mock"), Service: &kong.Service{Name: svc.Name}},
				{Name: kong.String("other_route"), Hosts: kong.StringSlice("other.test"), Service: &kong.Service{Name: other.Name}},
			},
			Upstreams: []*kong.Upstream{{Name: kong.String("example_upstream")}},
			Targets: []*kong.Target{
				{Target: kong.String("127.0.0.1:8080"), Upstream: &kong.Upstream{Name: kong.String("example_upstream")}},
				{Target: kong.String("127.0.0.2:8080"), Weight: kong.Int(50), Upstream: &kong.Upstream{Name: kong.String("example_upstream")}},
			},
			Consumers: []*kong.Consumer{{Username: kong.String("luka")}},
			KeyAuths:  []*kong.KeyAuth{{Key: kong.String("top-secret-key"), Consumer: &kong.Consumer{Username: kong.String("luka")}}},
			Plugins: []*kong.Plugin{
				{Name: kong.String("rate-limiting"), Config: kong.Configuration{"minute": 5, "policy": "local"}},
				{Name: kong.String("proxy-cache"), Config: kong.Configuration{"strategy": "memory", "content_type": []any{"application/json"}}},
				{Name: kong.String("key-auth"), Service: &kong.Service{Name: svc.Name}},
			},
			Certs: []*kong.Certificate{{Cert: kong.String(cert.cert), Key: kong.String(cert.key)}},
			SNIs: []*kong.SNI{
				{Name: kong.String("a.example.test"), Certificate: &kong.Certificate{Cert: kong.String(cert.cert)}},
				{Name: kong.String("b.example.test"), Certificate: &kong.Certificate{Cert: kong.String(cert.cert)}},
			},
			CACerts: []*kong.CACertificate{{Cert: kong.String(ca.cert)}},
		}
	}
}

func opStrings(ops []deckOp) []string {
	var out []string
	for _, o := range ops {
		out = append(out, o.String())
	}
	slices.Sort(out)
	return out
}

func writes(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

// decK's dump, diff, sync and reset, in decK's call sequence, against an
// empty node, then the file, a change to it, and nothing: every required
// list answers, a second sync finds no change (the schemas' defaults equal
// what the endpoints store), a target is written PUT-404-POST, and a reset
// leaves nothing.
func TestDeck_DumpDiffSyncReset(t *testing.T) {
	d, st := newDeck(t)
	cert, ca := newTestCert(t, "a.example.test", false), newTestCert(t, "ca.example.test", true)
	file := gettingStarted(cert, ca)

	empty := d.dump()
	for path, n := range empty.Tolerated {
		if n != -1 && n != 0 {
			t.Errorf("%s: %d entities on an empty node", path, n)
		}
	}
	if got := opStrings(d.diff(file)); len(got) != 16 {
		t.Errorf("diff against an empty node: %d ops, want 16 creates:\n%s", len(got), strings.Join(got, "\n"))
	}

	mark := d.log.len()
	ops := d.sync(file)
	if len(ops) != 16 {
		t.Errorf("first sync: %d ops, want 16:\n%s", len(ops), strings.Join(opStrings(ops), "\n"))
	}
	calls := d.log.since(mark)
	for _, c := range calls {
		if strings.HasSuffix(c, " 500") || strings.Contains(c, " 40") && !isTolerated(c) {
			t.Errorf("sync call %s", c)
		}
	}
	putThenPost := 0
	for i, c := range calls {
		if strings.HasPrefix(c, "PUT /upstreams/") && strings.Contains(c, "/targets/") && strings.HasSuffix(c, " 404") &&
			i+1 < len(calls) && strings.HasPrefix(calls[i+1], "POST /upstreams/") && strings.HasSuffix(calls[i+1], " 201") {
			putThenPost++
		}
	}
	if putThenPost != 2 {
		t.Errorf("targets written PUT 404 then POST: %d, want 2:\n%s", putThenPost, strings.Join(calls, "\n"))
	}

	// The second sync: the same file finds nothing to do, writes nothing,
	// and the store's revision does not move.
	rev := st.Revision()
	mark = d.log.len()
	if ops := d.sync(file); len(ops) != 0 {
		t.Errorf("second sync: %d changes, want none:\n%s", len(ops), strings.Join(opStrings(ops), "\n"))
	}
	if w := writes(d.log.since(mark)); len(w) != 0 {
		t.Errorf("second sync wrote:\n%s", strings.Join(w, "\n"))
	}
	if st.Revision() != rev {
		t.Errorf("second sync moved the revision %d -> %d", rev, st.Revision())
	}

	// A change: one route's paths, one target fewer, one SNI fewer.
	changed := func() *deckState {
		s := file()
		s.Routes[0].Paths = kong.StringSlice("/mock", "/mock2")
		s.Targets = s.Targets[:1]
		s.SNIs = s.SNIs[:1]
		return s
	}
	want := []string{"delete snis b.example.test", "delete targets ", "update routes example_route"}
	got := opStrings(d.diff(changed))
	if len(got) != 3 || got[0] != want[0] || !strings.HasPrefix(got[1], want[1]) || got[2] != want[2] {
		t.Errorf("diff of the change:\n%s\nwant %v", strings.Join(got, "\n"), want)
	}
	d.sync(changed)
	if ops := d.sync(changed); len(ops) != 0 {
		t.Errorf("sync after the change: %d changes, want none:\n%s", len(ops), strings.Join(opStrings(ops), "\n"))
	}

	// Reset: everything goes, children first, without a 4xx.
	mark = d.log.len()
	if ops := d.reset(); len(ops) != 14 {
		t.Errorf("reset: %d deletes, want 14:\n%s", len(ops), strings.Join(opStrings(ops), "\n"))
	}
	for _, c := range writes(d.log.since(mark)) {
		if !strings.HasPrefix(c, "DELETE ") || !strings.HasSuffix(c, " 204") {
			t.Errorf("reset call %s", c)
		}
	}
	after := d.dump()
	if n := len(after.Services) + len(after.Routes) + len(after.Upstreams) + len(after.Targets) + len(after.Consumers) +
		len(after.KeyAuths) + len(after.Plugins) + len(after.Certs) + len(after.SNIs) + len(after.CACerts); n != 0 {
		t.Errorf("after reset: %d entities left", n)
	}
}

// isTolerated: a 404 decK expects (a tolerated list, the target PUT that
// falls back to POST, the consumer-group-plugins schema).
func isTolerated(call string) bool {
	if !strings.HasSuffix(call, " 404") {
		return false
	}
	for _, p := range []string{"/hmac-auths", "/jwts", "/basic-auths", "/oauth2", "/acls", "/mtls-auths", "/vaults", "/keys", "/key-sets",
		"/partials", "/consumer_groups", "/filter-chains", "/schemas/consumer_group_plugins"} {
		if strings.Contains(call, " "+p+" ") {
			return true
		}
	}
	return strings.HasPrefix(call, "PUT /upstreams/") && strings.Contains(call, "/targets/")
}
