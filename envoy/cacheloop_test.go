package envoy

import (
	"testing"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// TestBootstrap_CacheLoops: one internal listener per proxy listener, each
// matching that listener's route configuration, with a cluster of its name;
// the TLS one only where the TLS listener is served.
func TestBootstrap_CacheLoops(t *testing.T) {
	for _, tls := range []bool{false, true} {
		y, err := Bootstrap(BootstrapOptions{NodeID: "n", ProxyTLS: tls})
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseBootstrap(y)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{CacheLoopCluster: "proxy"}
		if tls {
			want[CacheLoopTLSCluster] = "proxy-cache-tls"
		}
		got := map[string]string{}
		for _, l := range b.GetStaticResources().GetListeners() {
			if l.GetInternalListener() == nil {
				t.Errorf("listener %s is not internal", l.GetName())
			}
			hcm := &hcmv3.HttpConnectionManager{}
			if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
				t.Fatal(err)
			}
			got[l.GetName()] = hcm.GetRds().GetRouteConfigName()
			if n := len(hcm.GetLocalReplyConfig().GetMappers()); n != len(loopReplies) {
				t.Errorf("%s: %d local-reply mappers, want %d", l.GetName(), n, len(loopReplies))
			}
		}
		if len(got) != len(want) || got[CacheLoopCluster] != want[CacheLoopCluster] || got[CacheLoopTLSCluster] != want[CacheLoopTLSCluster] {
			t.Errorf("ProxyTLS=%v: loops %v, want %v", tls, got, want)
		}
		clusters := map[string]bool{}
		for _, c := range b.GetStaticResources().GetClusters() {
			clusters[c.GetName()] = true
		}
		for name := range want {
			if !clusters[name] {
				t.Errorf("ProxyTLS=%v: no cluster %s", tls, name)
			}
		}
		if len(b.GetBootstrapExtensions()) != 1 {
			t.Errorf("bootstrap extensions %v, want the internal listener's", b.GetBootstrapExtensions())
		}
	}
}
