package xds

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/google/go-cmp/cmp"
)

func TestCheckedUpstreams(t *testing.T) {
	got := checkedUpstreams([]*clusterv3.Cluster{
		{Name: "upstream/b/http/60000", OutlierDetection: &clusterv3.OutlierDetection{}},
		{Name: "upstream/a/http/60000", HealthChecks: []*corev3.HealthCheck{{}}},
		{Name: "upstream/a/https/60000", HealthChecks: []*corev3.HealthCheck{{}}},
		{Name: "upstream/plain/http/60000"},
		{Name: "service/s1", OutlierDetection: &clusterv3.OutlierDetection{}},
	}, map[string]string{
		"upstream/a/http/60000": "a", "upstream/a/https/60000": "a", "upstream/b/http/60000": "b", "upstream/plain/http/60000": "plain",
	})
	if want := []string{"a", "b"}; !cmp.Equal(got, want) {
		t.Errorf("checkedUpstreams = %q, want %q", got, want)
	}
}
