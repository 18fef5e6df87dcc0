package featuretests

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/kong/go-kong/kong"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/store"
)

// newKongClient runs the Admin API over an in-memory store and returns
// Kong's own Go client (go-kong, the library decK is built on) for it.
func newKongClient(t *testing.T) *kong.Client {
	t.Helper()
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httptest.NewServer(admin.New(st, admin.Options{Logger: quiet, Version: "3.9.1"}).Handler())
	t.Cleanup(api.Close)
	c, err := kong.NewClient(kong.String(api.URL), api.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pageAll lists through every page of size 2, as go-kong's ListAll does
// with its own size, and fails on a page that repeats an entity.
func pageAll[T any](t *testing.T, what string, id func(T) string, list func(*kong.ListOpt) ([]T, *kong.ListOpt, error)) []T {
	t.Helper()
	var all []T
	seen := map[string]bool{}
	opt := &kong.ListOpt{Size: 2}
	for page := 0; opt != nil; page++ {
		if page > 100 {
			t.Fatalf("%s: more than 100 pages", what)
		}
		items, next, err := list(opt)
		if err != nil {
			t.Fatalf("list %s: %v", what, err)
		}
		if len(items) > 2 {
			t.Fatalf("list %s: page of %d with size=2", what, len(items))
		}
		for _, it := range items {
			if seen[id(it)] {
				t.Fatalf("list %s: %s on two pages", what, id(it))
			}
			seen[id(it)] = true
		}
		all = append(all, items...)
		opt = next
	}
	return all
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func wantCount(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %d listed, want %d", what, got, want)
	}
}

// go-kong drives every entity family switchboard serves as decK does:
// create (POST without an id, PUT with one), list page by page, update
// (PATCH), delete, and the not-found answer after a delete.
func TestGoKong_EveryFamily(t *testing.T) {
	ctx := context.Background()
	c := newKongClient(t)

	info := must[map[string]any](t, "GET /")(c.Root(ctx))
	if conf, _ := info["configuration"].(map[string]any); conf["database"] != "postgres" {
		t.Errorf("configuration.database = %v: go-kong and decK write entity by entity only for postgres", conf["database"])
	}
	if ok := must[bool](t, "tags exist")(c.Tags.Exists(ctx)); !ok {
		t.Error("go-kong sees no /tags endpoint")
	}

	// Services: three by POST, two by PUT with the id decK generates.
	var svcs []*kong.Service
	for i := range 5 {
		s := &kong.Service{Name: kong.String(fmt.Sprintf("svc-%d", i)), Host: kong.String(fmt.Sprintf("svc%d.test", i)), Tags: kong.StringSlice("gokong")}
		if i >= 3 {
			s.ID = kong.String(fmt.Sprintf("5e7c0000-0000-4000-8000-00000000000%d", i))
		}
		svcs = append(svcs, must[*kong.Service](t, "create service")(c.Services.Create(ctx, s)))
	}
	if *svcs[4].ID != "5e7c0000-0000-4000-8000-000000000004" {
		t.Errorf("PUT with an id created %s", *svcs[4].ID)
	}
	id := func(s *kong.Service) string { return *s.ID }
	wantCount(t, "services", len(pageAll(t, "services", id, func(o *kong.ListOpt) ([]*kong.Service, *kong.ListOpt, error) {
		return c.Services.List(ctx, o)
	})), 5)
	up := must[*kong.Service](t, "update service")(c.Services.Update(ctx, &kong.Service{ID: svcs[1].ID, Retries: kong.Int(9)}))
	if *up.Retries != 9 || *up.Host != "svc1.test" {
		t.Errorf("PATCH retries: retries %d host %s", *up.Retries, *up.Host)
	}
	tagged := pageAll(t, "services tagged", id, func(o *kong.ListOpt) ([]*kong.Service, *kong.ListOpt, error) {
		o.Tags = kong.StringSlice("gokong")
		return c.Services.List(ctx, o)
	})
	wantCount(t, "services tagged gokong", len(tagged), 5)

	// Routes in a service.
	var routes []*kong.Route
	for i := range 5 {
		routes = append(routes, must[*kong.Route](t, "create route")(c.Routes.CreateInService(ctx, svcs[0].ID,
			&kong.Route{Name: kong.String(fmt.Sprintf("route-%d", i)), Paths: kong.StringSlice(fmt.Sprintf("/r%d", i))})))
	}
	rid := func(r *kong.Route) string { return *r.ID }
	wantCount(t, "routes", len(pageAll(t, "routes", rid, func(o *kong.ListOpt) ([]*kong.Route, *kong.ListOpt, error) {
		return c.Routes.List(ctx, o)
	})), 5)
	wantCount(t, "routes of svc-0", len(pageAll(t, "routes of svc-0", rid, func(o *kong.ListOpt) ([]*kong.Route, *kong.ListOpt, error) {
		return c.Routes.ListForService(ctx, svcs[0].ID, o)
	})), 5)
	r := must[*kong.Route](t, "update route")(c.Routes.Update(ctx, &kong.Route{ID: routes[0].ID, StripPath: kong.Bool(false)}))
	if *r.StripPath || *r.Service.ID != *svcs[0].ID {
		t.Errorf("PATCH strip_path: %v, service %v", *r.StripPath, *r.Service.ID)
	}

	// Upstreams and their targets (go-kong's target create is a POST).
	var ups []*kong.Upstream
	for i := range 3 {
		ups = append(ups, must[*kong.Upstream](t, "create upstream")(c.Upstreams.Create(ctx, &kong.Upstream{Name: kong.String(fmt.Sprintf("up-%d.test", i))})))
	}
	uid := func(u *kong.Upstream) string { return *u.ID }
	wantCount(t, "upstreams", len(pageAll(t, "upstreams", uid, func(o *kong.ListOpt) ([]*kong.Upstream, *kong.ListOpt, error) {
		return c.Upstreams.List(ctx, o)
	})), 3)
	u := must[*kong.Upstream](t, "update upstream")(c.Upstreams.Update(ctx, &kong.Upstream{ID: ups[0].ID, Slots: kong.Int(100)}))
	if *u.Slots != 100 {
		t.Errorf("PATCH slots: %d", *u.Slots)
	}
	var targets []*kong.Target
	for i := range 5 {
		targets = append(targets, must[*kong.Target](t, "create target")(c.Targets.Create(ctx, ups[0].ID,
			&kong.Target{Target: kong.String(fmt.Sprintf("127.0.0.%d:80%d", i+1, i)), Weight: kong.Int(10 + i)})))
	}
	tid := func(x *kong.Target) string { return *x.ID }
	listed := pageAll(t, "targets", tid, func(o *kong.ListOpt) ([]*kong.Target, *kong.ListOpt, error) {
		return c.Targets.List(ctx, ups[0].ID, o)
	})
	wantCount(t, "targets", len(listed), 5)
	if err := c.Targets.Delete(ctx, ups[0].ID, targets[0].ID); err != nil {
		t.Fatalf("delete target: %v", err)
	}
	wantCount(t, "targets after a delete", len(must[[]*kong.Target](t, "list all targets")(c.Targets.ListAll(ctx, ups[0].ID))), 4)

	// Consumers and their key-auth credentials.
	var cons []*kong.Consumer
	for i := range 3 {
		cons = append(cons, must[*kong.Consumer](t, "create consumer")(c.Consumers.Create(ctx, &kong.Consumer{Username: kong.String(fmt.Sprintf("user-%d", i))})))
	}
	cid := func(x *kong.Consumer) string { return *x.ID }
	wantCount(t, "consumers", len(pageAll(t, "consumers", cid, func(o *kong.ListOpt) ([]*kong.Consumer, *kong.ListOpt, error) {
		return c.Consumers.List(ctx, o)
	})), 3)
	cu := must[*kong.Consumer](t, "update consumer")(c.Consumers.Update(ctx, &kong.Consumer{ID: cons[0].ID, CustomID: kong.String("c-0")}))
	if *cu.CustomID != "c-0" || *cu.Username != "user-0" {
		t.Errorf("PATCH custom_id: %v %v", *cu.CustomID, *cu.Username)
	}
	var keys []*kong.KeyAuth
	for i := range 3 {
		keys = append(keys, must[*kong.KeyAuth](t, "create key-auth")(c.KeyAuths.Create(ctx, cons[0].ID, &kong.KeyAuth{Key: kong.String(fmt.Sprintf("key-%d", i))})))
	}
	kid := func(x *kong.KeyAuth) string { return *x.ID }
	wantCount(t, "key-auths", len(pageAll(t, "key-auths", kid, func(o *kong.ListOpt) ([]*kong.KeyAuth, *kong.ListOpt, error) {
		return c.KeyAuths.List(ctx, o)
	})), 3)
	wantCount(t, "key-auths of user-0", len(pageAll(t, "key-auths of user-0", kid, func(o *kong.ListOpt) ([]*kong.KeyAuth, *kong.ListOpt, error) {
		return c.KeyAuths.ListForConsumer(ctx, cons[0].ID, o)
	})), 3)
	ku := must[*kong.KeyAuth](t, "update key-auth")(c.KeyAuths.Update(ctx, cons[0].ID, &kong.KeyAuth{ID: keys[0].ID, Key: kong.String("key-0-rotated")}))
	if *ku.Key != "key-0-rotated" {
		t.Errorf("PATCH key: %v", *ku.Key)
	}
	if err := c.KeyAuths.Delete(ctx, cons[0].ID, keys[1].ID); err != nil {
		t.Fatalf("delete key-auth: %v", err)
	}
	if _, err := c.KeyAuths.Get(ctx, cons[0].ID, keys[1].ID); !kong.IsNotFoundErr(err) {
		t.Errorf("deleted key-auth: %v, want not found", err)
	}

	// Plugins: global, on a service, on a route, on a consumer.
	var plugins []*kong.Plugin
	for _, p := range []*kong.Plugin{
		{Name: kong.String("rate-limiting"), Config: kong.Configuration{"minute": 5, "policy": "local"}},
		{Name: kong.String("key-auth"), Service: &kong.Service{ID: svcs[0].ID}},
		{Name: kong.String("rate-limiting"), Route: &kong.Route{ID: routes[1].ID}, Config: kong.Configuration{"second": 3}},
		{Name: kong.String("rate-limiting"), Consumer: &kong.Consumer{ID: cons[1].ID}, Config: kong.Configuration{"hour": 100}},
	} {
		plugins = append(plugins, must[*kong.Plugin](t, "create plugin "+*p.Name)(c.Plugins.Create(ctx, p)))
	}
	pid := func(x *kong.Plugin) string { return *x.ID }
	wantCount(t, "plugins", len(pageAll(t, "plugins", pid, func(o *kong.ListOpt) ([]*kong.Plugin, *kong.ListOpt, error) {
		return c.Plugins.List(ctx, o)
	})), 4)
	pu := must[*kong.Plugin](t, "update plugin")(c.Plugins.Update(ctx, &kong.Plugin{ID: plugins[0].ID, Config: kong.Configuration{"minute": 7}}))
	if fmt.Sprint(pu.Config["minute"]) != "7" || pu.Config["policy"] != "local" {
		t.Errorf("PATCH config.minute: %v", pu.Config)
	}
	wantCount(t, "plugins of svc-0", len(must[[]*kong.Plugin](t, "plugins of a service")(c.Plugins.ListAllForService(ctx, svcs[0].ID))), 1)

	// Certificates, their SNIs, CA certificates.
	var certs []*kong.Certificate
	for i := range 3 {
		pair := newTestCert(t, fmt.Sprintf("c%d.test", i), false)
		certs = append(certs, must[*kong.Certificate](t, "create certificate")(c.Certificates.Create(ctx, &kong.Certificate{Cert: kong.String(pair.cert), Key: kong.String(pair.key)})))
	}
	ctid := func(x *kong.Certificate) string { return *x.ID }
	wantCount(t, "certificates", len(pageAll(t, "certificates", ctid, func(o *kong.ListOpt) ([]*kong.Certificate, *kong.ListOpt, error) {
		return c.Certificates.List(ctx, o)
	})), 3)
	ce := must[*kong.Certificate](t, "update certificate")(c.Certificates.Update(ctx, &kong.Certificate{ID: certs[2].ID, Tags: kong.StringSlice("edge")}))
	if len(ce.Tags) != 1 || *ce.Tags[0] != "edge" {
		t.Errorf("PATCH tags: %v", ce.Tags)
	}
	var snis []*kong.SNI
	for i := range 3 {
		snis = append(snis, must[*kong.SNI](t, "create sni")(c.SNIs.Create(ctx, &kong.SNI{Name: kong.String(fmt.Sprintf("s%d.c0.test", i)), Certificate: &kong.Certificate{ID: certs[0].ID}})))
	}
	sid := func(x *kong.SNI) string { return *x.ID }
	wantCount(t, "snis", len(pageAll(t, "snis", sid, func(o *kong.ListOpt) ([]*kong.SNI, *kong.ListOpt, error) {
		return c.SNIs.List(ctx, o)
	})), 3)
	wantCount(t, "snis of c0", len(pageAll(t, "snis of c0", sid, func(o *kong.ListOpt) ([]*kong.SNI, *kong.ListOpt, error) {
		return c.SNIs.ListForCertificate(ctx, certs[0].ID, o)
	})), 3)
	sn := must[*kong.SNI](t, "update sni")(c.SNIs.Update(ctx, &kong.SNI{ID: snis[0].ID, Certificate: &kong.Certificate{ID: certs[1].ID}}))
	if *sn.Certificate.ID != *certs[1].ID {
		t.Errorf("PATCH certificate: %v", *sn.Certificate.ID)
	}
	var cas []*kong.CACertificate
	for i := range 3 {
		pair := newTestCert(t, fmt.Sprintf("ca%d.test", i), true)
		cas = append(cas, must[*kong.CACertificate](t, "create ca_certificate")(c.CACertificates.Create(ctx, &kong.CACertificate{Cert: kong.String(pair.cert)})))
	}
	caid := func(x *kong.CACertificate) string { return *x.ID }
	wantCount(t, "ca_certificates", len(pageAll(t, "ca_certificates", caid, func(o *kong.ListOpt) ([]*kong.CACertificate, *kong.ListOpt, error) {
		return c.CACertificates.List(ctx, o)
	})), 3)
	ca := must[*kong.CACertificate](t, "update ca_certificate")(c.CACertificates.Update(ctx, &kong.CACertificate{ID: cas[0].ID, Tags: kong.StringSlice("trust")}))
	if len(ca.Tags) != 1 {
		t.Errorf("PATCH tags: %v", ca.Tags)
	}

	// Deletes, children first as decK orders them; then each is gone.
	for _, del := range []struct {
		what string
		del  func() error
		get  func() error
	}{
		{"plugin", func() error { return c.Plugins.Delete(ctx, plugins[2].ID) }, func() error { _, err := c.Plugins.Get(ctx, plugins[2].ID); return err }},
		{"route", func() error { return c.Routes.Delete(ctx, routes[4].ID) }, func() error { _, err := c.Routes.Get(ctx, routes[4].ID); return err }},
		{"service", func() error { return c.Services.Delete(ctx, svcs[4].ID) }, func() error { _, err := c.Services.Get(ctx, svcs[4].ID); return err }},
		{"upstream", func() error { return c.Upstreams.Delete(ctx, ups[2].ID) }, func() error { _, err := c.Upstreams.Get(ctx, ups[2].ID); return err }},
		{"sni", func() error { return c.SNIs.Delete(ctx, snis[2].ID) }, func() error { _, err := c.SNIs.Get(ctx, snis[2].ID); return err }},
		{"certificate", func() error { return c.Certificates.Delete(ctx, certs[2].ID) }, func() error { _, err := c.Certificates.Get(ctx, certs[2].ID); return err }},
		{"ca_certificate", func() error { return c.CACertificates.Delete(ctx, cas[2].ID) }, func() error { _, err := c.CACertificates.Get(ctx, cas[2].ID); return err }},
		{"consumer", func() error { return c.Consumers.Delete(ctx, cons[2].ID) }, func() error { _, err := c.Consumers.Get(ctx, cons[2].ID); return err }},
	} {
		if err := del.del(); err != nil {
			t.Errorf("delete %s: %v", del.what, err)
			continue
		}
		if err := del.get(); !kong.IsNotFoundErr(err) {
			t.Errorf("get deleted %s: %v, want not found", del.what, err)
		}
	}
	wantCount(t, "services left", len(must[[]*kong.Service](t, "list all services")(c.Services.ListAll(ctx))), 4)
	wantCount(t, "plugins left", len(must[[]*kong.Plugin](t, "list all plugins")(c.Plugins.ListAll(ctx))), 3)
}
