package xds

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// rejectingTranslator is the default translator, except that the route
// named "bad_route" gets a regex RE2 refuses: field validation passes it,
// the real Envoy NACKs it. It stands for a resource the admin's checks
// missed.
type rejectingTranslator struct{ storeTranslator }

func spoil(rcs []*routev3.RouteConfiguration) {
	for _, rc := range rcs {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if r.GetName() == "bad_route" {
					r.Match.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "(unclosed"}}
				}
			}
		}
	}
}

func (t rejectingTranslator) Update(snap *store.Snapshot, dns map[string]translator.DNSAnswer, ch translator.Changes) (*translator.Delta, error) {
	d, err := t.storeTranslator.Update(snap, dns, ch)
	if d != nil {
		spoil(d.Routes)
	}
	return d, err
}

func (t rejectingTranslator) Resources() *translator.Resources {
	res := t.storeTranslator.Resources()
	spoil(res.Routes)
	return res
}

// The real Envoy rejects a route; it is quarantined, a later route still
// reaches Envoy (ACKed), and renaming the route (a write) releases it.
func TestServer_EnvoyNackQuarantinesTheRoute(t *testing.T) {
	bin := envoyBinaryForTest(t)
	proxyPort := freePort(t)
	tr := NewTranslator(TranslatorOptions{ProxyAddress: "127.0.0.1", ProxyPort: proxyPort}).(storeTranslator)
	st := newStore(t, walkthrough()...)
	h := startServer(t, st, nil, Options{MinPublishInterval: -1, Translator: rejectingTranslator{tr}})

	dir := t.TempDir()
	_, xdsPort, _ := net.SplitHostPort(h.addr)
	boot := fmt.Sprintf(`{
  "node": {"id": "envoy-real", "cluster": "switchboard"},
  "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
  "dynamic_resources": {
    "ads_config": {"api_type": "GRPC", "transport_api_version": "V3",
      "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
    "cds_config": {"ads": {}, "resource_api_version": "V3"},
    "lds_config": {"ads": {}, "resource_api_version": "V3"}
  },
  "static_resources": {"clusters": [{
    "name": "xds", "type": "STATIC", "connect_timeout": "1s",
    "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
      "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
      "explicit_http_config": {"http2_protocol_options": {}}}},
    "load_assignment": {"cluster_name": "xds", "endpoints": [{"lb_endpoints": [{"endpoint": {"address":
      {"socket_address": {"address": "127.0.0.1", "port_value": %s}}}}]}]}
  }]}
}`, xdsPort)
	file := filepath.Join(dir, "bootstrap.json")
	if err := os.WriteFile(file, []byte(boot), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-c", file, "--use-dynamic-base-id", "--log-level", "warn", "--disable-hot-restart")
	out, err := os.Create(filepath.Join(dir, "envoy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		_ = out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("envoy log:\n%s", b)
		}
	})
	acked := func() bool {
		dp := dataPlanes(t, h.srv)
		return len(dp) == 1 && dp[0].Connected && dp[0].ConfigVersions["routes"] != "" && dp[0].SyncStatus == syncNormal
	}
	eventually(t, "Envoy to ACK the first configuration", acked)

	apply(t, st, upsertRoute(kongRoute("r2", "bad_route", "s1", "/bad")))
	eventually(t, "the route Envoy rejects to be quarantined", func() bool {
		q := quarantineList(t, h.srv)
		return len(q) == 1 && q[0].ID == "r2" && q[0].Node == "envoy-real" && q[0].Message != ""
	})
	t.Logf("quarantined: %+v", quarantineList(t, h.srv)[0])
	rev := apply(t, st, upsertRoute(kongRoute("r3", "good_route", "s1", "/good")))
	eventually(t, "Envoy to ACK the later route", func() bool {
		return acked() && dataPlanes(t, h.srv)[0].AckedRevision >= rev
	})

	rev = apply(t, st, upsertRoute(kongRoute("r2", "fixed_route", "s1", "/bad")))
	eventually(t, "the rewritten route to be released and ACKed", func() bool {
		return len(quarantineList(t, h.srv)) == 0 && acked() && dataPlanes(t, h.srv)[0].AckedRevision >= rev
	})
}

func freePort(t *testing.T) uint32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return uint32(l.Addr().(*net.TCPAddr).Port)
}

// envoyBinaryForTest is ENVOY_BIN or ../bin/envoy; skipped without one,
// failed without one under CI (make test provides it).
func envoyBinaryForTest(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("ENVOY_BIN"); bin != "" {
		return bin
	}
	if p, err := filepath.Abs(filepath.Join("..", "bin", "envoy")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Envoy binary: set ENVOY_BIN or run make envoy")
	}
	t.Skip("no Envoy binary: set ENVOY_BIN or run make envoy")
	return ""
}
