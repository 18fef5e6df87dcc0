package featuretests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/kong/go-kong/kong"
)

// deck replays what decK does against the Admin API, through go-kong (the
// client decK is built on) and go-kong's own defaulters, in decK's order
// (kong-admin-api.md §5.1–5.3): GET /, the entity schemas, a paged dump of
// the required lists (any error is fatal) and of the tolerated ones (404,
// or 403/400 where decK allows it, reads as empty), a local diff of the
// file filled with the server's schema defaults against the dump, then
// PUT by id for creates and updates (targets: PUT, on 404 a POST with the
// id) and DELETE by id, children first. The real decK binary is not on the
// module proxy here (docs/decisions.md), so this is its call sequence.
type deck struct {
	t    *testing.T
	c    *kong.Client
	raw  *http.Client
	base string
	log  *callLog
	// pluginSchemas holds GET /schemas/plugins/{name}, which decK reads
	// for the defaults and to align deprecated (shorthand) fields.
	pluginSchemas map[string]kong.Schema
}

// callLog records every request the replay makes: "METHOD /path status".
type callLog struct {
	mu    sync.Mutex
	calls []string
	next  http.RoundTripper
}

func (l *callLog) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := l.next.RoundTrip(r)
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	l.mu.Lock()
	l.calls = append(l.calls, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, status))
	l.mu.Unlock()
	return res, err
}

// since returns the calls after the n-th.
func (l *callLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls[n:]...)
}

func (l *callLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.calls)
}

// deckState is one side of a diff: every entity by family, in go-kong's
// structs (decK's own representation).
type deckState struct {
	Services  []*kong.Service
	Routes    []*kong.Route
	Upstreams []*kong.Upstream
	Targets   []*kong.Target
	Consumers []*kong.Consumer
	KeyAuths  []*kong.KeyAuth
	Plugins   []*kong.Plugin
	Certs     []*kong.Certificate
	SNIs      []*kong.SNI
	CACerts   []*kong.CACertificate
	Tolerated map[string]int // tolerated list → entities it held
}

// deckOp is one write of a sync: "create services example_service".
type deckOp struct{ op, family, key string }

func (o deckOp) String() string { return o.op + " " + o.family + " " + o.key }

const deckPage = 3 // small pages, so every list is paged

// pages lists every page of one family; a required list fails the test on
// any error.
func pages[T any](d *deck, what string, list func(context.Context, *kong.ListOpt) ([]T, *kong.ListOpt, error)) []T {
	d.t.Helper()
	var all []T
	for opt, n := (&kong.ListOpt{Size: deckPage}), 0; opt != nil; n++ {
		if n > 1000 {
			d.t.Fatalf("dump %s: over 1000 pages", what)
		}
		items, next, err := list(context.Background(), opt)
		if err != nil {
			d.t.Fatalf("dump %s (required by decK): %v", what, err)
		}
		all = append(all, items...)
		opt = next
	}
	return all
}

// tolerated lists one family decK reads but accepts a 404 for (and, for
// some, 403 or 400): it records how many entities it held, -1 for "absent".
func tolerated[T any](d *deck, s *deckState, what string, okStatus []int, list func(context.Context, *kong.ListOpt) ([]T, *kong.ListOpt, error)) {
	d.t.Helper()
	items, _, err := list(context.Background(), &kong.ListOpt{Size: deckPage})
	if err != nil {
		var api *kong.APIError
		if ok := asAPIError(err, &api); ok {
			for _, st := range okStatus {
				if api.Code() == st {
					s.Tolerated[what] = -1
					return
				}
			}
		}
		d.t.Fatalf("dump %s: %v (decK tolerates only %v)", what, err, okStatus)
	}
	s.Tolerated[what] = len(items)
}

func asAPIError(err error, out **kong.APIError) bool {
	api, ok := err.(*kong.APIError)
	if ok {
		*out = api
	}
	return ok
}

// dump is `deck gateway dump`: GET / (twice, as decK reads the version
// again for consumer groups), then every list.
func (d *deck) dump() *deckState {
	d.t.Helper()
	ctx := context.Background()
	for range 2 {
		root, err := d.c.Root(ctx)
		if err != nil {
			d.t.Fatalf("GET /: %v", err)
		}
		v, err := kong.ParseSemanticVersion(kong.VersionFromInfo(root))
		if err != nil || v.Major() != 3 {
			d.t.Fatalf("version %v (%v): decK needs a 3.x to accept _format_version 3.0", root["version"], err)
		}
	}
	s := &deckState{Tolerated: map[string]int{}}
	s.Services = pages(d, "/services", d.c.Services.List)
	s.Routes = pages(d, "/routes", d.c.Routes.List)
	s.Plugins = pages(d, "/plugins", d.c.Plugins.List)
	s.Certs = pages(d, "/certificates", d.c.Certificates.List)
	s.SNIs = pages(d, "/snis", d.c.SNIs.List)
	s.Upstreams = pages(d, "/upstreams", d.c.Upstreams.List)
	for _, u := range s.Upstreams {
		s.Targets = append(s.Targets, pages(d, "/upstreams/"+*u.ID+"/targets", func(ctx context.Context, o *kong.ListOpt) ([]*kong.Target, *kong.ListOpt, error) {
			return d.c.Targets.List(ctx, u.ID, o)
		})...)
	}
	s.Consumers = pages(d, "/consumers", d.c.Consumers.List)
	// Served here, so read as decK does when they answer.
	s.CACerts = pages(d, "/ca_certificates", d.c.CACertificates.List)
	s.KeyAuths = pages(d, "/key-auths", d.c.KeyAuths.List)
	notFound := []int{http.StatusNotFound}
	tolerated(d, s, "/hmac-auths", notFound, d.c.HMACAuths.List)
	tolerated(d, s, "/jwts", notFound, d.c.JWTAuths.List)
	tolerated(d, s, "/basic-auths", notFound, d.c.BasicAuths.List)
	tolerated(d, s, "/oauth2", notFound, d.c.Oauth2Credentials.List)
	tolerated(d, s, "/acls", notFound, d.c.ACLs.List)
	tolerated(d, s, "/mtls-auths", []int{http.StatusNotFound, http.StatusForbidden}, d.c.MTLSAuths.List)
	tolerated(d, s, "/vaults", notFound, d.c.Vaults.List)
	tolerated(d, s, "/keys", notFound, d.c.Keys.List)
	tolerated(d, s, "/key-sets", notFound, d.c.KeySets.List)
	tolerated(d, s, "/partials", notFound, d.c.Partials.List)
	tolerated(d, s, "/consumer_groups", []int{http.StatusNotFound, http.StatusForbidden}, d.c.ConsumerGroups.List)
	tolerated(d, s, "/filter-chains", []int{http.StatusNotFound, http.StatusBadRequest}, d.c.FilterChains.List)
	return s
}

// fillDefaults is decK's defaulter: the entity schemas' defaults (GET
// /schemas/{entity}, /schemas/plugins/{name}) merged into the file, so
// that only what the file changes differs from the dump.
func (d *deck) fillDefaults(want *deckState) {
	d.t.Helper()
	ctx := context.Background()
	schemas := map[string]kong.Schema{}
	for _, e := range []string{"services", "routes", "upstreams", "targets"} {
		sc, err := d.c.Schemas.Get(ctx, e)
		if err != nil {
			d.t.Fatalf("GET /schemas/%s: %v", e, err)
		}
		schemas[e] = sc
	}
	if _, err := d.c.Schemas.Get(ctx, "consumer_group_plugins"); err != nil && !kong.IsNotFoundErr(err) {
		d.t.Fatalf("GET /schemas/consumer_group_plugins: %v (decK tolerates 404)", err)
	}
	fill := func(e any, table string) {
		if err := kong.FillEntityDefaults(e, schemas[table]); err != nil {
			d.t.Fatalf("defaults for %s: %v", table, err)
		}
	}
	for _, e := range want.Services {
		fill(e, "services")
	}
	for _, e := range want.Routes {
		fill(e, "routes")
	}
	for _, e := range want.Upstreams {
		fill(e, "upstreams")
	}
	for _, e := range want.Targets {
		fill(e, "targets")
	}
	for _, p := range want.Plugins {
		sc, err := d.c.Plugins.GetFullSchema(ctx, p.Name)
		if err != nil {
			d.t.Fatalf("GET /schemas/plugins/%s: %v", *p.Name, err)
		}
		if d.pluginSchemas == nil {
			d.pluginSchemas = map[string]kong.Schema{}
		}
		d.pluginSchemas[*p.Name] = sc
		if err := kong.FillPluginsDefaults(p, sc); err != nil {
			d.t.Fatalf("plugin defaults %s: %v", *p.Name, err)
		}
	}
}

// same compares two entities as decK does: timestamps ignored, the
// certificate's snis list (decK diffs SNIs as their own entities) and the
// CA certificate's cert_digest (the server derives it from cert).
func same(a, b any) (bool, string) {
	ja, jb := comparable(a), comparable(b)
	return ja == jb, fmt.Sprintf("file+defaults %s\n           server %s", ja, jb)
}

func comparable(e any) string {
	v := reflect.ValueOf(e).Elem()
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	for _, f := range []string{"CreatedAt", "UpdatedAt", "SNIs", "CertDigest"} {
		if fv := c.FieldByName(f); fv.IsValid() {
			fv.Set(reflect.Zero(fv.Type()))
		}
	}
	b, _ := json.Marshal(c.Interface())
	return string(b)
}

// plan is the diff: the file's entities, matched to the dump by their key,
// become creates (new id) or updates (the dump's id, when they differ);
// the dump's entities the file lacks become deletes.
func (d *deck) plan(want, have *deckState) []deckOp {
	var ops []deckOp
	match := func(family string, wantKeys, haveKeys []string, wantIDs []**string, haveIDs []*string, diff func(i, j int) (bool, string)) {
		used := map[int]bool{}
		for i, k := range wantKeys {
			j := indexOf(haveKeys, k)
			if j < 0 {
				if *wantIDs[i] == nil {
					*wantIDs[i] = kong.String(uuid.NewString())
				}
				ops = append(ops, deckOp{"create", family, k})
				continue
			}
			used[j] = true
			*wantIDs[i] = haveIDs[j]
			if eq, why := diff(i, j); !eq {
				d.t.Logf("update %s %s:\n  %s", family, k, why)
				ops = append(ops, deckOp{"update", family, k})
			}
		}
		for j, k := range haveKeys {
			if !used[j] {
				ops = append(ops, deckOp{"delete", family, k})
			}
		}
	}
	// Parents first, so that children carry their parents' settled ids.
	match("services", keysOf(want.Services, func(e *kong.Service) string { return *e.Name }), keysOf(have.Services, func(e *kong.Service) string { return *e.Name }),
		idPtrs(want.Services, func(e *kong.Service) **string { return &e.ID }), ids(have.Services, func(e *kong.Service) *string { return e.ID }),
		func(i, j int) (bool, string) { return same(want.Services[i], have.Services[j]) })
	match("upstreams", keysOf(want.Upstreams, func(e *kong.Upstream) string { return *e.Name }), keysOf(have.Upstreams, func(e *kong.Upstream) string { return *e.Name }),
		idPtrs(want.Upstreams, func(e *kong.Upstream) **string { return &e.ID }), ids(have.Upstreams, func(e *kong.Upstream) *string { return e.ID }),
		func(i, j int) (bool, string) { return same(want.Upstreams[i], have.Upstreams[j]) })
	match("consumers", keysOf(want.Consumers, func(e *kong.Consumer) string { return *e.Username }), keysOf(have.Consumers, func(e *kong.Consumer) string { return *e.Username }),
		idPtrs(want.Consumers, func(e *kong.Consumer) **string { return &e.ID }), ids(have.Consumers, func(e *kong.Consumer) *string { return e.ID }),
		func(i, j int) (bool, string) { return same(want.Consumers[i], have.Consumers[j]) })
	match("certificates", keysOf(want.Certs, func(e *kong.Certificate) string { return *e.Cert }), keysOf(have.Certs, func(e *kong.Certificate) string { return *e.Cert }),
		idPtrs(want.Certs, func(e *kong.Certificate) **string { return &e.ID }), ids(have.Certs, func(e *kong.Certificate) *string { return e.ID }),
		func(i, j int) (bool, string) { return same(want.Certs[i], have.Certs[j]) })
	match("ca_certificates", keysOf(want.CACerts, func(e *kong.CACertificate) string { return *e.Cert }), keysOf(have.CACerts, func(e *kong.CACertificate) string { return *e.Cert }),
		idPtrs(want.CACerts, func(e *kong.CACertificate) **string { return &e.ID }), ids(have.CACerts, func(e *kong.CACertificate) *string { return e.ID }),
		func(i, j int) (bool, string) { return same(want.CACerts[i], have.CACerts[j]) })
	resolveParents(want)
	match("routes", keysOf(want.Routes, func(e *kong.Route) string { return *e.Name }), keysOf(have.Routes, func(e *kong.Route) string { return *e.Name }),
		idPtrs(want.Routes, func(e *kong.Route) **string { return &e.ID }), ids(have.Routes, func(e *kong.Route) *string { return e.ID }),
		func(i, j int) (bool, string) { return same(want.Routes[i], have.Routes[j]) })
	targetKey := func(e *kong.Target) string { return *e.Upstream.ID + "/" + *e.Target }
	match("targets", keysOf(want.Targets, targetKey), keysOf(have.Targets, targetKey),
		idPtrs(want.Targets, func(e *kong.Target) **string { return &e.ID }), ids(have.Targets, func(e *kong.Target) *string { return e.ID }),
		func(i, j int) (bool, string) { return same(want.Targets[i], have.Targets[j]) })
	match("key-auths", keysOf(want.KeyAuths, func(e *kong.KeyAuth) string { return *e.Key }), keysOf(have.KeyAuths, func(e *kong.KeyAuth) string { return *e.Key }),
		idPtrs(want.KeyAuths, func(e *kong.KeyAuth) **string { return &e.ID }), ids(have.KeyAuths, func(e *kong.KeyAuth) *string { return e.ID }),
		func(i, j int) (bool, string) { return same(want.KeyAuths[i], have.KeyAuths[j]) })
	match("snis", keysOf(want.SNIs, func(e *kong.SNI) string { return *e.Name }), keysOf(have.SNIs, func(e *kong.SNI) string { return *e.Name }),
		idPtrs(want.SNIs, func(e *kong.SNI) **string { return &e.ID }), ids(have.SNIs, func(e *kong.SNI) *string { return e.ID }),
		func(i, j int) (bool, string) { return same(want.SNIs[i], have.SNIs[j]) })
	match("plugins", keysOf(want.Plugins, pluginKey), keysOf(have.Plugins, pluginKey),
		idPtrs(want.Plugins, func(e *kong.Plugin) **string { return &e.ID }), ids(have.Plugins, func(e *kong.Plugin) *string { return e.ID }),
		func(i, j int) (bool, string) {
			// decK first drops the deprecated fields one side sets and
			// the other does not (kong.ClearUnmatchingDeprecations).
			w, h := want.Plugins[i].DeepCopy(), have.Plugins[j].DeepCopy()
			if err := kong.ClearUnmatchingDeprecations(w, h, d.pluginSchemas[*w.Name]); err != nil {
				d.t.Fatalf("align deprecated fields of %s: %v", *w.Name, err)
			}
			return same(w, h)
		})
	return ops
}

// pluginKey is a plugin's identity: its name and scope.
func pluginKey(p *kong.Plugin) string {
	ref := func(id *string) string {
		if id == nil {
			return "-"
		}
		return *id
	}
	k := *p.Name
	if p.Service != nil {
		k += " service=" + ref(p.Service.ID)
	}
	if p.Route != nil {
		k += " route=" + ref(p.Route.ID)
	}
	if p.Consumer != nil {
		k += " consumer=" + ref(p.Consumer.ID)
	}
	return k
}

func keysOf[T any](list []T, key func(T) string) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = key(e)
	}
	return out
}

func idPtrs[T any](list []T, p func(T) **string) []**string {
	out := make([]**string, len(list))
	for i, e := range list {
		out[i] = p(e)
	}
	return out
}

func ids[T any](list []T, id func(T) *string) []*string {
	out := make([]*string, len(list))
	for i, e := range list {
		out[i] = id(e)
	}
	return out
}

func indexOf(list []string, k string) int {
	for i, v := range list {
		if v == k {
			return i
		}
	}
	return -1
}

// resolveParents points the file's children (written with their parent's
// name, as in a kong.yaml) at the parents' settled ids.
func resolveParents(want *deckState) {
	byName := func(name string, find func(i int) (string, *string), n int) *string {
		for i := range n {
			if k, id := find(i); k == name {
				return id
			}
		}
		return nil
	}
	svc := func(name string) *string {
		return byName(name, func(i int) (string, *string) { return *want.Services[i].Name, want.Services[i].ID }, len(want.Services))
	}
	for _, r := range want.Routes {
		if r.Service != nil && r.Service.Name != nil {
			r.Service = &kong.Service{ID: svc(*r.Service.Name)}
		}
	}
	for _, t := range want.Targets {
		if t.Upstream != nil && t.Upstream.Name != nil {
			t.Upstream = &kong.Upstream{ID: byName(*t.Upstream.Name, func(i int) (string, *string) { return *want.Upstreams[i].Name, want.Upstreams[i].ID }, len(want.Upstreams))}
		}
	}
	for _, k := range want.KeyAuths {
		if k.Consumer != nil && k.Consumer.Username != nil {
			k.Consumer = &kong.Consumer{ID: byName(*k.Consumer.Username, func(i int) (string, *string) { return *want.Consumers[i].Username, want.Consumers[i].ID }, len(want.Consumers))}
		}
	}
	for _, s := range want.SNIs {
		if s.Certificate != nil && s.Certificate.ID == nil {
			for _, c := range want.Certs {
				if c.Cert != nil && s.Certificate.Cert != nil && *c.Cert == *s.Certificate.Cert {
					s.Certificate = &kong.Certificate{ID: c.ID}
				}
			}
		}
	}
	for _, p := range want.Plugins {
		if p.Service != nil && p.Service.Name != nil {
			p.Service = &kong.Service{ID: svc(*p.Service.Name)}
		}
	}
}

// apply is the write half of `deck gateway sync`: creates and updates by
// PUT with the id, parents first; deletes by id, children first.
func (d *deck) apply(want, have *deckState, ops []deckOp) {
	d.t.Helper()
	ctx := context.Background()
	has := map[string]bool{}
	for _, o := range ops {
		has[o.family+" "+o.key] = o.op != "delete"
	}
	wr := func(family, key string, f func() error) {
		if !has[family+" "+key] {
			return
		}
		if err := f(); err != nil {
			d.t.Fatalf("sync %s %s: %v", family, key, err)
		}
	}
	for _, e := range want.Services {
		wr("services", *e.Name, func() error { _, err := d.c.Services.Create(ctx, e); return err })
	}
	for _, e := range want.Upstreams {
		wr("upstreams", *e.Name, func() error { _, err := d.c.Upstreams.Create(ctx, e); return err })
	}
	for _, e := range want.Consumers {
		wr("consumers", *e.Username, func() error { _, err := d.c.Consumers.Create(ctx, e); return err })
	}
	for _, e := range want.Certs {
		wr("certificates", *e.Cert, func() error { _, err := d.c.Certificates.Create(ctx, e); return err })
	}
	for _, e := range want.CACerts {
		wr("ca_certificates", *e.Cert, func() error { _, err := d.c.CACertificates.Create(ctx, e); return err })
	}
	for _, e := range want.Routes {
		wr("routes", *e.Name, func() error { _, err := d.c.Routes.Create(ctx, e); return err })
	}
	for _, e := range want.Targets {
		wr("targets", *e.Upstream.ID+"/"+*e.Target, func() error { return d.putTarget(e) })
	}
	for _, e := range want.KeyAuths {
		wr("key-auths", *e.Key, func() error { _, err := d.c.KeyAuths.Create(ctx, e.Consumer.ID, e); return err })
	}
	for _, e := range want.SNIs {
		wr("snis", *e.Name, func() error { _, err := d.c.SNIs.Create(ctx, e); return err })
	}
	for _, e := range want.Plugins {
		wr("plugins", pluginKey(e), func() error { _, err := d.c.Plugins.Create(ctx, e); return err })
	}
	del := func(family, key string, f func() error) {
		for _, o := range ops {
			if o.op == "delete" && o.family == family && o.key == key {
				if err := f(); err != nil {
					d.t.Fatalf("delete %s %s: %v", family, key, err)
				}
			}
		}
	}
	for _, e := range have.Plugins {
		del("plugins", pluginKey(e), func() error { return d.c.Plugins.Delete(ctx, e.ID) })
	}
	for _, e := range have.SNIs {
		del("snis", *e.Name, func() error { return d.c.SNIs.Delete(ctx, e.ID) })
	}
	for _, e := range have.KeyAuths {
		del("key-auths", *e.Key, func() error { return d.c.KeyAuths.Delete(ctx, e.Consumer.ID, e.ID) })
	}
	for _, e := range have.Targets {
		del("targets", *e.Upstream.ID+"/"+*e.Target, func() error { return d.c.Targets.Delete(ctx, e.Upstream.ID, e.ID) })
	}
	for _, e := range have.Routes {
		del("routes", *e.Name, func() error { return d.c.Routes.Delete(ctx, e.ID) })
	}
	for _, e := range have.Services {
		del("services", *e.Name, func() error { return d.c.Services.Delete(ctx, e.ID) })
	}
	for _, e := range have.Upstreams {
		del("upstreams", *e.Name, func() error { return d.c.Upstreams.Delete(ctx, e.ID) })
	}
	for _, e := range have.Consumers {
		del("consumers", *e.Username, func() error { return d.c.Consumers.Delete(ctx, e.ID) })
	}
	for _, e := range have.Certs {
		del("certificates", *e.Cert, func() error { return d.c.Certificates.Delete(ctx, e.ID) })
	}
	for _, e := range have.CACerts {
		del("ca_certificates", *e.Cert, func() error { return d.c.CACertificates.Delete(ctx, e.ID) })
	}
}

// putTarget is decK's target write: PUT by id, and on a 404 (no such
// target yet) the POST with the id in the body.
func (d *deck) putTarget(t *kong.Target) error {
	body, _ := json.Marshal(t)
	path := "/upstreams/" + *t.Upstream.ID + "/targets/" + *t.ID
	req, _ := http.NewRequest(http.MethodPut, d.base+path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	res, err := d.raw.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusNotFound:
		_, err := d.c.Targets.Create(context.Background(), t.Upstream.ID, t)
		return err
	}
	return fmt.Errorf("PUT %s: %d", path, res.StatusCode)
}

// sync is `deck gateway sync`: dump, defaults, diff, writes. It returns
// the operations it made.
func (d *deck) sync(file func() *deckState) []deckOp {
	d.t.Helper()
	have := d.dump()
	want := file()
	d.fillDefaults(want)
	ops := d.plan(want, have)
	d.apply(want, have, ops)
	return ops
}

// diff is `deck gateway diff`: the same reads and plan, no write.
func (d *deck) diff(file func() *deckState) []deckOp {
	d.t.Helper()
	have := d.dump()
	want := file()
	d.fillDefaults(want)
	return d.plan(want, have)
}

// reset is `deck gateway reset`: dump, then delete everything.
func (d *deck) reset() []deckOp {
	d.t.Helper()
	return d.sync(func() *deckState { return &deckState{} })
}
