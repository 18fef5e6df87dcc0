package translator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"

	"github.com/switchboard-gw/switchboard/store"
)

func strPtr(s string) *string { return &s }

// keyAuthInput is one service with routes /auth (a key-auth instance with
// config) and /open (none), on an upstream hashing on the consumer.
func keyAuthInput(t testing.TB, config string) *Input {
	t.Helper()
	svc := defaultService()
	svc.ID, svc.Name, svc.Host = "s1", strPtr("s"), "hashed"
	auth, open := defaultRoute(), defaultRoute()
	auth.ID, auth.Paths, auth.Service = "r-auth", []string{"/auth"}, &store.ForeignKey{ID: "s1"}
	open.ID, open.Paths, open.Service = "r-open", []string{"/open"}, &store.ForeignKey{ID: "s1"}
	up := defaultUpstream()
	up.ID, up.Name, up.Algorithm, up.HashOn, up.HashFallback = "u1", "hashed", "consistent-hashing", "consumer", "ip"
	now := time.Now().Unix()
	return &Input{
		Revision: 1, DNS: map[string]DNSAnswer{},
		Services: []*store.Service{svc}, Routes: []*store.Route{auth, open}, Upstreams: []*store.Upstream{up},
		Plugins: []*store.Plugin{{ID: "p1", Name: pluginKeyAuth, Enabled: true, Route: &store.ForeignKey{ID: "r-auth"}, Config: []byte(config)}},
		Consumers: []*store.Consumer{
			{ID: "c1", Username: strPtr("bob")},
			{ID: "c2", Username: strPtr("no-body"), CustomID: strPtr("x|y")},
		},
		KeyAuthCredentials: []*store.KeyAuthCredential{
			{ID: "k1", Consumer: store.ForeignKey{ID: "c1"}, Key: "bob-key"},
			{ID: "k2", Consumer: store.ForeignKey{ID: "c1"}, Key: "later", ExpiresAt: now + 3600},
			{ID: "k3", Consumer: store.ForeignKey{ID: "c1"}, Key: "gone", ExpiresAt: now - 1},
		},
	}
}

func routeByPrefix(t *testing.T, res *Resources, prefix string) *routev3.Route {
	t.Helper()
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if r.GetMatch().GetPrefix() == prefix {
					return r
				}
			}
		}
	}
	t.Fatalf("no route %s", prefix)
	return nil
}

func keyAuthPerRoute(t *testing.T, r *routev3.Route) *luav3.LuaPerRoute {
	t.Helper()
	a := r.GetTypedPerFilterConfig()[keyAuthFilterName]
	if a == nil {
		return nil
	}
	fc := &routev3.FilterConfig{}
	lpr := &luav3.LuaPerRoute{}
	if err := a.UnmarshalTo(fc); err != nil {
		t.Fatal(err)
	}
	if err := fc.GetConfig().UnmarshalTo(lpr); err != nil {
		t.Fatal(err)
	}
	return lpr
}

func TestKeyAuth_RouteContext(t *testing.T) {
	res, err := Translate(keyAuthInput(t, `{"key_names":["apikey","x_key"],"hide_credentials":true,"anonymous":"no-body",
		"key_in_header":true,"key_in_query":false,"key_in_body":true,"run_on_preflight":false,"realm":"test-realm"}`))
	if err != nil {
		t.Fatal(err)
	}
	lpr := keyAuthPerRoute(t, routeByPrefix(t, res, "/auth"))
	if lpr == nil || lpr.GetName() != keyAuthScript {
		t.Fatalf("/auth: %v", lpr)
	}
	f := lpr.GetFilterContext().GetFields()
	for name, want := range map[string]string{
		"www_authenticate": `Key realm="test-realm"`,
		"anonymous":        "c2|no-body|x%7Cy",
		"key:bob-key":      "c1|bob||k1|0",
	} {
		if got := f[name].GetStringValue(); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := f["key:later"].GetStringValue(); !strings.HasPrefix(got, "c1|bob||k2|") || strings.HasSuffix(got, "|0") {
		t.Errorf("a ttl key carries its expiry: %q", got)
	}
	// An expired key stays, with its past expiry, for the Lua stage to
	// refuse: the translation never reads the clock (nodes must agree).
	if got := f["key:gone"].GetStringValue(); !strings.HasPrefix(got, "c1|bob||") || strings.HasSuffix(got, "|0") {
		t.Errorf("an expired key carries its expiry: %q", got)
	}
	for name, want := range map[string]bool{"hide_credentials": true, "key_in_header": true, "key_in_query": false, "key_in_body": true, "run_on_preflight": false} {
		if got := f[name].GetBoolValue(); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if l := f["key_names"].GetListValue().GetValues(); len(l) != 2 || l[1].GetStringValue() != "x_key" {
		t.Errorf("key_names = %v", l)
	}
	if keyAuthPerRoute(t, routeByPrefix(t, res, "/open")) != nil {
		t.Error("/open has no key-auth instance but gets the filter")
	}
}

func TestKeyAuth_AnonymousByIDOrMissing(t *testing.T) {
	for anon, want := range map[string]string{"c1": "anonymous", "ghost": "anonymous_missing"} {
		res, err := Translate(keyAuthInput(t, `{"key_names":["apikey"],"anonymous":"`+anon+`","key_in_header":true,"run_on_preflight":true}`))
		if err != nil {
			t.Fatal(err)
		}
		f := keyAuthPerRoute(t, routeByPrefix(t, res, "/auth")).GetFilterContext().GetFields()
		if _, ok := f[want]; !ok {
			t.Errorf("anonymous %q: no %s field", anon, want)
		}
		if want == "anonymous" && f["anonymous"].GetStringValue() != "c1|bob|" {
			t.Errorf("anonymous by id: %q", f["anonymous"].GetStringValue())
		}
		if f["www_authenticate"].GetStringValue() != "Key" {
			t.Errorf("no realm: %q", f["www_authenticate"].GetStringValue())
		}
	}
}

// D8: the consumer hash exists only where key-auth applies, reads filter
// state (never a header), and is set up by the consumer hash stage.
func TestKeyAuth_HashOnConsumer(t *testing.T) {
	res, err := Translate(keyAuthInput(t, `{"key_names":["apikey"],"key_in_header":true,"run_on_preflight":true}`))
	if err != nil {
		t.Fatal(err)
	}
	auth := routeByPrefix(t, res, "/auth")
	hp := auth.GetRoute().GetHashPolicy()
	if len(hp) != 2 || hp[0].GetFilterState().GetKey() != consumerHashKey || !hp[0].GetTerminal() || !hp[1].GetConnectionProperties().GetSourceIp() {
		t.Errorf("/auth hash policy: %v", hp)
	}
	if auth.GetTypedPerFilterConfig()[consumerHashFilter] == nil {
		t.Error("/auth: the consumer hash stage is not enabled")
	}
	open := routeByPrefix(t, res, "/open")
	hp = open.GetRoute().GetHashPolicy()
	if len(hp) != 1 || !hp[0].GetConnectionProperties().GetSourceIp() {
		t.Errorf("/open (no auth): hash policy %v, want the fallback alone", hp)
	}
	if open.GetTypedPerFilterConfig()[consumerHashFilter] != nil {
		t.Error("/open: the consumer hash stage is enabled")
	}
}

// BenchmarkTranslate_KeyAuthGlobal: a global key-auth instance over 2000
// routes with 500 credentials; every route carries every key, and the
// per-route config is built once per instance.
func BenchmarkTranslate_KeyAuthGlobal(b *testing.B) {
	in := keyAuthInput(b, `{"key_names":["apikey"],"key_in_header":true,"run_on_preflight":true}`)
	in.Plugins[0].Route = nil
	base := in.Routes[0]
	for i := 0; i < 2000; i++ {
		r := *base
		r.ID, r.Paths = fmt.Sprintf("r%d", i), []string{fmt.Sprintf("/r%d", i)}
		in.Routes = append(in.Routes, &r)
	}
	for i := 0; i < 500; i++ {
		in.KeyAuthCredentials = append(in.KeyAuthCredentials, &store.KeyAuthCredential{
			ID: fmt.Sprintf("k%d", i), Consumer: store.ForeignKey{ID: "c1"}, Key: fmt.Sprintf("key-%d", i),
		})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Translate(in); err != nil {
			b.Fatal(err)
		}
	}
}
