package xds

import (
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
)

func TestChangedClusterEndpoints(t *testing.T) {
	cla := func(n string) *endpointv3.ClusterLoadAssignment {
		return &endpointv3.ClusterLoadAssignment{ClusterName: n}
	}
	oldCDS := map[string]string{"kept": "h1", "changed": "h1", "changed-updating": "h1"}
	newCDS := map[string]string{"kept": "h1", "changed": "h2", "changed-updating": "h2", "new": "h1"}
	updating := map[string]types.Resource{"changed-updating": cla("changed-updating")}
	got := changedClusterEndpoints(oldCDS, newCDS, []*endpointv3.ClusterLoadAssignment{cla("kept"), cla("changed"), cla("changed-updating"), cla("new")}, updating)
	if len(got) != 1 || got["changed"] == nil {
		t.Fatalf("touched %v, want only the changed cluster's endpoints", got)
	}
}
