package xds

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-gw/switchboard/xds/adscache"
)

func TestChangedClusterEndpoints(t *testing.T) {
	eds := func(n string) *clusterv3.Cluster {
		return &clusterv3.Cluster{Name: n, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}}
	}
	static := &clusterv3.Cluster{Name: "static-changed"}
	replaced := map[string]bool{"changed": true, "changed-updating": true, "static-changed": true}
	updating := []adscache.Resource{{Name: "changed-updating"}}
	got := changedClusterEndpoints([]*clusterv3.Cluster{eds("kept"), eds("changed"), eds("changed-updating"), eds("new"), static}, replaced, updating)
	if !cmp.Equal(got, []string{"changed"}) {
		t.Fatalf("touched %v, want only the changed EDS cluster's endpoints", got)
	}
}
