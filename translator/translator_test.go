package translator

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"sigs.k8s.io/yaml"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

var update = flag.Bool("update", false, "rewrite testdata/out from the current output (make testdata)")

// outputKinds are the golden files written per case, in this order. The
// listener file is written only for cases that set options: every other
// case has the default listener, which TestTranslate checks directly.
// The secrets file likewise only for cases with TLS entities.
var outputKinds = []string{"listeners", "routes", "clusters", "endpoints", "secrets"}

// TestTranslate runs every testdata/in/<case>.yaml through FromSnapshot-free
// Translate and compares the result with testdata/out/<case>.<kind>.yaml.
// Every emitted resource must pass ValidateAll, the set must make a
// consistent go-control-plane snapshot, Endpoints must rebuild each CLA
// exactly, and the output must not depend on input order.
func TestTranslate(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	defaultListeners, err := Translate(&Input{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, path := range inputs {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		in, wantErr := loadFixture(t, path)
		listenerGolden := in.Options != (Options{})
		secretsGolden := len(in.Certificates) > 0 || in.DefaultCertificate != nil || in.Options.TLSCert != "" ||
			slices.ContainsFunc(in.Services, func(s *store.Service) bool { return variantOf(s).tlsVerify }) // ca/<service id>
		for _, kind := range outputKinds {
			if (kind != "listeners" || listenerGolden) && (kind != "secrets" || secretsGolden) {
				want[outFile(name, kind)] = true
			}
		}
		t.Run(name, func(t *testing.T) {
			res, err := Translate(in)
			switch {
			case wantErr == "" && err != nil:
				t.Fatalf("Translate: %v", err)
			case wantErr != "" && err == nil:
				t.Fatalf("Translate: no error, want one containing %q", wantErr)
			case wantErr != "" && !strings.Contains(err.Error(), wantErr):
				t.Fatalf("Translate error %q does not contain %q", err, wantErr)
			}
			checkResources(t, in, res)
			checkOrderIndependent(t, in, res)

			for i, msgs := range [][]proto.Message{
				messages(res.Listeners), messages(res.Routes), messages(res.Clusters), messages(res.Endpoints), messages(res.Secrets),
			} {
				if outputKinds[i] == "secrets" && !secretsGolden {
					if len(msgs) > 0 {
						t.Errorf("%d secrets without TLS entities", len(msgs))
					}
					continue
				}
				if outputKinds[i] == "listeners" && !listenerGolden {
					if diff := cmp.Diff(defaultListeners.Listeners, res.Listeners, protocmp.Transform()); diff != "" {
						t.Errorf("listener differs from the default one; a case that changes it sets options (-default +got):\n%s", diff)
					}
					continue
				}
				file := outFile(name, outputKinds[i])
				got := toYAML(t, msgs)
				if *update {
					if err := os.WriteFile(file, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				golden, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run make testdata)", err)
				}
				if diff := cmp.Diff(string(golden), string(got)); diff != "" {
					t.Errorf("%s differs (-golden +got):\n%s", file, diff)
				}
			}
		})
	}
	if *update {
		removeStale(t, want)
	}
}

func outFile(name, kind string) string {
	return filepath.Join("testdata", "out", name+"."+kind+".yaml")
}

// removeStale deletes golden files whose input is gone.
func removeStale(t *testing.T, want map[string]bool) {
	outs, err := filepath.Glob(filepath.Join("testdata", "out", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range outs {
		if !want[f] {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkResources asserts what the xds package relies on: valid protos, a
// consistent snapshot, and Endpoints agreeing with Translate.
func checkResources(t *testing.T, in *Input, res *Resources) {
	t.Helper()
	want := 1
	if in.Options.ProxyTLSPort != 0 && (in.DefaultCertificate != nil || in.Options.TLSCert != "") {
		want = 2 // the TLS listener, with its own route configuration
	}
	wantRoutes := want
	if in.Options.ProxyTLSPort != 0 {
		wantRoutes++ // the TLS cache loop's, whether or not the listener is built
	}
	if len(res.Listeners) != want || len(res.Routes) != wantRoutes {
		t.Errorf("got %d listeners and %d route configurations, want %d and %d", len(res.Listeners), len(res.Routes), want, wantRoutes)
	}
	checkSharing(t, in, res)
	for _, m := range slices.Concat(messages(res.Listeners), messages(res.Routes), messages(res.Clusters), messages(res.Endpoints), messages(res.Secrets)) {
		if err := m.(interface{ ValidateAll() error }).ValidateAll(); err != nil {
			t.Errorf("%T %v: %v", m, m.(interface{ GetName() string }), err)
		}
	}
	// As xds.consistent: route configurations no listener names may exist.
	snap, err := cachev3.NewSnapshot("1", map[resourcev3.Type][]types.Resource{
		resourcev3.ListenerType: resources(res.Listeners),
		resourcev3.RouteType:    resources(referencedRoutes(res)),
		resourcev3.ClusterType:  resources(res.Clusters),
		resourcev3.EndpointType: resources(res.Endpoints),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Consistent(); err != nil {
		t.Errorf("snapshot not consistent: %v", err)
	}
	if missing := missingSecrets(res); len(missing) > 0 {
		t.Errorf("listeners name secrets that are not emitted: %v", missing)
	}
	for i, c := range res.Clusters {
		if _, ok := ParseClusterName(c.GetName()); !ok {
			t.Errorf("cluster name %q does not parse", c.GetName())
		}
		cla, ok := Endpoints(in, c.GetName())
		if !ok {
			t.Errorf("Endpoints(%q): not found", c.GetName())
			continue
		}
		if diff := cmp.Diff(res.Endpoints[i], cla, protocmp.Transform()); diff != "" {
			t.Errorf("Endpoints(%q) differs from Translate (-translate +endpoints):\n%s", c.GetName(), diff)
		}
	}
}

// checkOrderIndependent translates the input with every slice reversed and
// expects the same resources.
func checkOrderIndependent(t *testing.T, in *Input, res *Resources) {
	t.Helper()
	rev := *in
	rev.Services = reversed(in.Services)
	rev.Routes = reversed(in.Routes)
	rev.Upstreams = reversed(in.Upstreams)
	rev.Targets = reversed(in.Targets)
	rev.TargetHealth = reversed(in.TargetHealth)
	rev.Certificates = reversed(in.Certificates)
	rev.SNIs = reversed(in.SNIs)
	got, _ := Translate(&rev)
	if diff := cmp.Diff(res, got, protocmp.Transform()); diff != "" {
		t.Errorf("output depends on input order (-given +reversed):\n%s", diff)
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func messages[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

func resources[T types.Resource](in []T) []types.Resource {
	out := make([]types.Resource, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

// toYAML renders resources as a YAML list through protojson, so the golden
// files use Envoy's field names and Any types spelled out.
func toYAML(t *testing.T, msgs []proto.Message) []byte {
	t.Helper()
	items := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		items[i] = b
	}
	j, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// fixture is the input file format: store entities as the admin API stores
// them (Kong field names; omitted fields take Kong's defaults), DNS answers,
// listener options, and for error cases the expected error substring.
type fixture struct {
	Options      fixtureOptions             `json:"options"`
	Services     []json.RawMessage          `json:"services"`
	Routes       []json.RawMessage          `json:"routes"`
	Upstreams    []json.RawMessage          `json:"upstreams"`
	Targets      []json.RawMessage          `json:"targets"`
	TargetHealth []json.RawMessage          `json:"target_health"`
	DNS          map[string]fixtureDNSEntry `json:"dns"`
	Error        string                     `json:"error"`
	// The TLS entities; PEMs may be placeholders (the translator does not
	// parse them; TestTranslate_EnvoyAccepts swaps in real ones).
	Certificates       []json.RawMessage `json:"certificates"`
	CACertificates     []json.RawMessage `json:"ca_certificates"`
	SNIs               []json.RawMessage `json:"snis"`
	DefaultCertificate json.RawMessage   `json:"default_certificate"`
	// Plugins are enabled unless they say otherwise.
	Plugins []json.RawMessage `json:"plugins"`
}

type fixtureOptions struct {
	ProxyAddress    string `json:"proxy_address"`
	ProxyPort       uint32 `json:"proxy_port"`
	ProxyTLSAddress string `json:"proxy_tls_address"`
	ProxyTLSPort    uint32 `json:"proxy_tls_port"`
	TLSCert         string `json:"tls_cert"`
	TLSKey          string `json:"tls_key"`
}

type fixtureDNSEntry struct {
	RecordType string `json:"record_type"`
	Addresses  []struct {
		IP     string `json:"ip"`
		Port   uint32 `json:"port"`
		Weight uint32 `json:"weight"`
		Name   string `json:"name"`
	} `json:"addresses"`
	Err string `json:"err"`
}

// loadFixture reads a case, rejecting unknown fields at every level.
func loadFixture(t *testing.T, path string) (*Input, string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	strictJSON(t, j, &f)
	in := &Input{
		Revision: 1,
		Options: Options{ProxyAddress: f.Options.ProxyAddress, ProxyPort: f.Options.ProxyPort,
			ProxyTLSAddress: f.Options.ProxyTLSAddress, ProxyTLSPort: f.Options.ProxyTLSPort,
			TLSCert: f.Options.TLSCert, TLSKey: f.Options.TLSKey},
		DNS: map[string]DNSAnswer{},
	}
	for _, r := range f.Services {
		in.Services = append(in.Services, decodeWithDefaults(t, r, defaultService()))
	}
	for _, r := range f.Routes {
		in.Routes = append(in.Routes, decodeWithDefaults(t, r, defaultRoute()))
	}
	for _, r := range f.Plugins {
		in.Plugins = append(in.Plugins, decodeWithDefaults(t, r, &store.Plugin{Enabled: true}))
	}
	for _, r := range f.Upstreams {
		in.Upstreams = append(in.Upstreams, decodeWithDefaults(t, r, defaultUpstream()))
	}
	for _, r := range f.Targets {
		in.Targets = append(in.Targets, decodeWithDefaults(t, r, &store.Target{Weight: 100}))
	}
	for _, r := range f.TargetHealth {
		// The store stamps modify_index on every write; fixtures may state it.
		row := decodeWithDefaults(t, r, &struct {
			store.TargetHealth
			ModifyIndex uint64 `json:"modify_index"`
		}{})
		row.TargetHealth.ModifyIndex = row.ModifyIndex
		in.TargetHealth = append(in.TargetHealth, &row.TargetHealth)
	}
	for _, r := range f.Certificates {
		in.Certificates = append(in.Certificates, decodeWithDefaults(t, r, &store.Certificate{}))
	}
	for _, r := range f.SNIs {
		in.SNIs = append(in.SNIs, decodeWithDefaults(t, r, &store.SNI{}))
	}
	for _, r := range f.CACertificates {
		in.CACertificates = append(in.CACertificates, decodeWithDefaults(t, r, &store.CACertificate{}))
	}
	if len(f.DefaultCertificate) > 0 {
		in.DefaultCertificate = decodeWithDefaults(t, f.DefaultCertificate, &store.DefaultCertificate{})
	}
	for name, e := range f.DNS {
		a := DNSAnswer{RecordType: e.RecordType, Err: e.Err}
		for _, addr := range e.Addresses {
			a.Addresses = append(a.Addresses, Address{IP: addr.IP, Port: addr.Port, Weight: addr.Weight, Name: addr.Name})
		}
		in.DNS[name] = a
	}
	// The store fills a target-health row's upstream from its target.
	for _, h := range in.TargetHealth {
		for _, tg := range in.Targets {
			if tg.ID == h.TargetID {
				h.UpstreamID = tg.Upstream.ID
			}
		}
	}
	return in, f.Error
}

func decodeWithDefaults[T any](t *testing.T, raw json.RawMessage, v *T) *T {
	t.Helper()
	strictJSON(t, raw, v)
	return v
}

func strictJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
}

// Kong's defaults, filled from the schema package the Admin API validates
// with, so fixtures state only what a case is about and hold what the Admin
// API would store.
func defaultService() *store.Service   { return kongDefaults[store.Service]("services") }
func defaultRoute() *store.Route       { return kongDefaults[store.Route]("routes") }
func defaultUpstream() *store.Upstream { return kongDefaults[store.Upstream]("upstreams") }

func kongDefaults[T any](entity string) *T {
	v := new(T)
	if err := schema.FillDefaults(entity, v); err != nil {
		panic(err)
	}
	return v
}

// missingSecrets lists the SDS names listeners refer to that res lacks
// (go-control-plane's Consistent does not look at secrets).
func missingSecrets(res *Resources) []string {
	have := map[string]bool{}
	for _, s := range res.Secrets {
		have[s.GetName()] = true
	}
	var out []string
	for _, l := range res.Listeners {
		chains := slices.Clone(l.GetFilterChains())
		if dc := l.GetDefaultFilterChain(); dc != nil {
			chains = append(chains, dc)
		}
		for _, fc := range chains {
			ctx := &tlsv3.DownstreamTlsContext{}
			if fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx) != nil {
				continue
			}
			for _, sc := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
				if !have[sc.GetName()] {
					out = append(out, sc.GetName())
				}
			}
		}
	}
	return out
}

// referencedRoutes is res's route configurations that a listener names.
func referencedRoutes(res *Resources) []*routev3.RouteConfiguration {
	names := map[string]bool{}
	for _, l := range res.Listeners {
		for _, n := range hcmRouteNames(l) {
			names[n] = true
		}
	}
	var out []*routev3.RouteConfiguration
	for _, rc := range res.Routes {
		if names[rc.GetName()] {
			out = append(out, rc)
		}
	}
	return out
}

func hcmRouteNames(l *listenerv3.Listener) []string {
	var out []string
	for _, fc := range l.GetFilterChains() {
		for _, f := range fc.GetFilters() {
			hcm := &hcmv3.HttpConnectionManager{}
			if f.GetTypedConfig().UnmarshalTo(hcm) == nil {
				out = append(out, hcm.GetRds().GetRouteConfigName())
			}
		}
	}
	return out
}

// checkSharing: the TLS listener names the plain route configuration
// exactly when every route is listener-neutral, and then the TLS table
// (still published) equals the plain one but for its name, which is what
// makes the sharing correct (and fails when routeTable.render sets a field
// renamedRouteConfig does not copy); the TLS cache loop's table is the TLS one
// while a proxy-cache instance is enabled, else empty.
func checkSharing(t *testing.T, in *Input, res *Resources) {
	t.Helper()
	byName := map[string]*routev3.RouteConfiguration{}
	for _, rc := range res.Routes {
		byName[rc.GetName()] = rc
	}
	shared := sharesRoutes(in.Routes)
	for _, l := range res.Listeners {
		if l.GetName() != TLSListenerName {
			continue
		}
		want := TLSRouteConfigName
		if shared {
			want = RouteConfigName
		}
		for _, n := range hcmRouteNames(l) {
			if n != want {
				t.Errorf("TLS listener names route configuration %q, want %q (shared %v)", n, want, shared)
			}
		}
		plain, tls := byName[RouteConfigName], byName[TLSRouteConfigName]
		if tls == nil {
			t.Fatalf("no %s route configuration beside the TLS listener", TLSRouteConfigName)
		}
		if shared {
			if diff := cmp.Diff(plain, renamedRouteConfig(tls, RouteConfigName), protocmp.Transform()); diff != "" {
				t.Errorf("shared, but the TLS table differs from the plain one (-plain +tls):\n%s", diff)
			}
		}
	}
	if in.Options.ProxyTLSPort == 0 {
		return
	}
	loop := byName[TLSCacheLoopRouteConfigName]
	switch tls := byName[TLSRouteConfigName]; {
	case loop == nil:
		t.Errorf("no %s route configuration", TLSCacheLoopRouteConfigName)
	case cacheLoopInUse(in.Plugins) && tls != nil:
		if diff := cmp.Diff(renamedRouteConfig(tls, TLSCacheLoopRouteConfigName), loop, protocmp.Transform()); diff != "" {
			t.Errorf("the TLS cache loop's table is not the TLS one (-tls +loop):\n%s", diff)
		}
	case !cacheLoopInUse(in.Plugins) && len(loop.GetVirtualHosts()) > 0:
		t.Errorf("the TLS cache loop's table has virtual hosts without a proxy-cache instance")
	}
}
