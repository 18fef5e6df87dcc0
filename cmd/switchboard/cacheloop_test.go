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
	if translator.RouteConfigName != envoy.CacheLoopRoutes || translator.TLSCacheLoopRouteConfigName != envoy.CacheLoopTLSRoutes {
		t.Fatalf("the translator publishes the loops' route configurations as %q/%q, the bootstrap's loops match %q/%q",
			translator.RouteConfigName, translator.TLSCacheLoopRouteConfigName, envoy.CacheLoopRoutes, envoy.CacheLoopTLSRoutes)
	}
}
