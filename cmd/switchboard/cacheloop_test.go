package main

import (
	"testing"

	"github.com/switchboard-gw/switchboard/envoy"
	"github.com/switchboard-gw/switchboard/translator"
)

// TestCacheLoopClusterName: the translator's cache filter sends to the
// cluster the bootstrap defines; the two packages import nothing of each
// other, so only this wiring-level test ties the names.
func TestCacheLoopClusterName(t *testing.T) {
	if translator.CacheLoopCluster != envoy.CacheLoopCluster || translator.CacheLoopTLSCluster != envoy.CacheLoopTLSCluster {
		t.Fatalf("translator sends to %q/%q, the bootstrap defines %q/%q", translator.CacheLoopCluster, translator.CacheLoopTLSCluster,
			envoy.CacheLoopCluster, envoy.CacheLoopTLSCluster)
	}
	if translator.RouteConfigName != "proxy" || translator.TLSRouteConfigName != "proxy-tls" {
		t.Fatalf("route configurations %q/%q: update envoy/cacheloop.go's loops", translator.RouteConfigName, translator.TLSRouteConfigName)
	}
}
