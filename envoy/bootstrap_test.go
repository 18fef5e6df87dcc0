package envoy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

func TestBootstrap(t *testing.T) {
	tests := map[string]struct {
		opts  BootstrapOptions
		check func(t *testing.T, b *bootstrapv3.Bootstrap)
	}{
		"defaults": {
			opts: BootstrapOptions{NodeID: "node-1"},
			check: func(t *testing.T, b *bootstrapv3.Bootstrap) {
				wantNode(t, b, "node-1", DefaultCluster)
				wantAdmin(t, b, "127.0.0.1", 9901)
				wantADS(t, b, corev3.ApiConfigSource_GRPC)
				wantXDSCluster(t, b, clusterv3.Cluster_STATIC, "127.0.0.1:18000")
			},
		},
		"delta": {
			opts: BootstrapOptions{NodeID: "n", Delta: true},
			check: func(t *testing.T, b *bootstrapv3.Bootstrap) {
				wantADS(t, b, corev3.ApiConfigSource_DELTA_GRPC)
			},
		},
		"several control planes, admin port 0": {
			opts: BootstrapOptions{
				NodeID: "n", Cluster: "edge", AdminAddress: "127.0.0.1:0",
				XDSAddresses: []string{"127.0.0.1:18000", "127.0.0.2:18001", "[::1]:18002"},
			},
			check: func(t *testing.T, b *bootstrapv3.Bootstrap) {
				wantNode(t, b, "n", "edge")
				wantAdmin(t, b, "127.0.0.1", 0)
				wantXDSCluster(t, b, clusterv3.Cluster_STATIC, "127.0.0.1:18000", "127.0.0.2:18001", "::1:18002")
			},
		},
		"hostname control plane (docker-compose)": {
			opts: BootstrapOptions{NodeID: "n", XDSAddresses: []string{"switchboard:18000"}, AdminAddress: "0.0.0.0:9901"},
			check: func(t *testing.T, b *bootstrapv3.Bootstrap) {
				wantAdmin(t, b, "0.0.0.0", 9901)
				wantXDSCluster(t, b, clusterv3.Cluster_STRICT_DNS, "switchboard:18000")
			},
		},
		"node id that needs quoting": {
			opts: BootstrapOptions{NodeID: `a: "b" # c`},
			check: func(t *testing.T, b *bootstrapv3.Bootstrap) {
				wantNode(t, b, `a: "b" # c`, DefaultCluster)
			},
		},
		"timeouts": {
			opts: BootstrapOptions{NodeID: "n", InitialFetchTimeout: 1500 * time.Millisecond, MaxReconnect: 3 * time.Second},
			check: func(t *testing.T, b *bootstrapv3.Bootstrap) {
				dr := b.GetDynamicResources()
				for name, cs := range map[string]*corev3.ConfigSource{"cds": dr.GetCdsConfig(), "lds": dr.GetLdsConfig()} {
					if got := cs.GetInitialFetchTimeout().AsDuration(); got != 1500*time.Millisecond {
						t.Errorf("%s initial_fetch_timeout = %v", name, got)
					}
				}
				rp := dr.GetAdsConfig().GetGrpcServices()[0].GetEnvoyGrpc().GetRetryPolicy()
				if got := rp.GetRetryBackOff().GetMaxInterval().AsDuration(); got != 3*time.Second {
					t.Errorf("retry max_interval = %v", got)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			y, err := Bootstrap(tc.opts)
			if err != nil {
				t.Fatalf("Bootstrap: %v", err)
			}
			b, err := ParseBootstrap(y)
			if err != nil {
				t.Fatalf("ParseBootstrap: %v\n%s", err, y)
			}
			tc.check(t, b)
			validateWithEnvoy(t, y)
		})
	}
}

func TestBootstrap_Errors(t *testing.T) {
	tests := map[string]struct {
		opts BootstrapOptions
		want string
	}{
		"no node id":         {BootstrapOptions{}, "node id is required"},
		"xds without port":   {BootstrapOptions{NodeID: "n", XDSAddresses: []string{"127.0.0.1"}}, "xds address"},
		"xds port 0":         {BootstrapOptions{NodeID: "n", XDSAddresses: []string{"127.0.0.1:0"}}, "port 0"},
		"xds bad port":       {BootstrapOptions{NodeID: "n", XDSAddresses: []string{"h:99999"}}, "invalid port"},
		"admin without host": {BootstrapOptions{NodeID: "n", AdminAddress: ":9901"}, "missing host"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Bootstrap(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseBootstrap_RejectsUnknownFields(t *testing.T) {
	_, err := ParseBootstrap([]byte("node: {id: x}\nbogus: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("err = %v, want unknown field bogus", err)
	}
}

func wantNode(t *testing.T, b *bootstrapv3.Bootstrap, id, cluster string) {
	t.Helper()
	if b.GetNode().GetId() != id || b.GetNode().GetCluster() != cluster {
		t.Errorf("node = %q/%q, want %q/%q", b.GetNode().GetId(), b.GetNode().GetCluster(), id, cluster)
	}
}

func wantAdmin(t *testing.T, b *bootstrapv3.Bootstrap, host string, port uint32) {
	t.Helper()
	sa := b.GetAdmin().GetAddress().GetSocketAddress()
	if sa.GetAddress() != host || sa.GetPortValue() != port {
		t.Errorf("admin = %s:%d, want %s:%d", sa.GetAddress(), sa.GetPortValue(), host, port)
	}
}

func wantADS(t *testing.T, b *bootstrapv3.Bootstrap, api corev3.ApiConfigSource_ApiType) {
	t.Helper()
	dr := b.GetDynamicResources()
	ads := dr.GetAdsConfig()
	if ads.GetApiType() != api || ads.GetTransportApiVersion() != corev3.ApiVersion_V3 {
		t.Errorf("ads api_type = %v/%v, want %v/V3", ads.GetApiType(), ads.GetTransportApiVersion(), api)
	}
	if gs := ads.GetGrpcServices(); len(gs) != 1 || gs[0].GetEnvoyGrpc().GetClusterName() != "xds_cluster" {
		t.Errorf("ads grpc_services = %v", gs)
	}
	for name, cs := range map[string]*corev3.ConfigSource{"cds": dr.GetCdsConfig(), "lds": dr.GetLdsConfig()} {
		if cs.GetAds() == nil || cs.GetResourceApiVersion() != corev3.ApiVersion_V3 {
			t.Errorf("%s_config = %v, want ads V3", name, cs)
		}
		if cs.GetInitialFetchTimeout().AsDuration() != DefaultInitialFetchTimeout {
			t.Errorf("%s initial_fetch_timeout = %v", name, cs.GetInitialFetchTimeout().AsDuration())
		}
	}
}

func wantXDSCluster(t *testing.T, b *bootstrapv3.Bootstrap, typ clusterv3.Cluster_DiscoveryType, addrs ...string) {
	t.Helper()
	cs := b.GetStaticResources().GetClusters()
	// xds_cluster first, then proxy-cache's loop into the internal listener.
	if len(cs) != 2 || cs[0].GetName() != "xds_cluster" || cs[1].GetName() != CacheLoopCluster {
		t.Fatalf("static clusters = %v, want xds_cluster and the proxy listener's cache loop", cs)
	}
	c := cs[0]
	if c.GetType() != typ {
		t.Errorf("xds_cluster type = %v, want %v", c.GetType(), typ)
	}
	var got []string
	for _, lle := range c.GetLoadAssignment().GetEndpoints() {
		for _, e := range lle.GetLbEndpoints() {
			sa := e.GetEndpoint().GetAddress().GetSocketAddress()
			got = append(got, sa.GetAddress()+":"+itoa(sa.GetPortValue()))
		}
	}
	if strings.Join(got, ",") != strings.Join(addrs, ",") {
		t.Errorf("xds endpoints = %v, want %v", got, addrs)
	}
	// gRPC needs HTTP/2, set through the non-deprecated protocol options.
	anyOpts := c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
	hpo := &upstreamhttpv3.HttpProtocolOptions{}
	if anyOpts == nil || anyOpts.UnmarshalTo(hpo) != nil || hpo.GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
		t.Errorf("xds_cluster lacks explicit http2: %v", anyOpts)
	}
}

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }

// validateWithEnvoy runs `envoy --mode validate` on the bootstrap when a
// real binary is available: the strongest check that Envoy accepts it.
func validateWithEnvoy(t *testing.T, y []byte) {
	t.Helper()
	bin := os.Getenv(EnvBinary)
	if bin == "" {
		return
	}
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(path, y, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--mode", "validate", "-c", path, "--log-level", "warn").CombinedOutput()
	if err != nil {
		t.Fatalf("envoy --mode validate: %v\n%s\n---\n%s", err, out, y)
	}
}
