package xds

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/translator"
)

func validResources() *translator.Resources {
	return &translator.Resources{
		Clusters:  []*clusterv3.Cluster{fakeCluster("a"), fakeCluster("b")},
		Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "a"}, {ClusterName: "b"}},
		Listeners: []*listenerv3.Listener{fakeListener("kong")},
		Routes:    []*routev3.RouteConfiguration{{Name: "kong"}},
	}
}

// zeroWeightCLA is what ValidateAll rejects and Envoy would NACK.
func zeroWeightCLA(name string) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
		LbEndpoints: []*endpointv3.LbEndpoint{{LoadBalancingWeight: wrapperspb.UInt32(0)}},
	}}}
}

func TestSanitize(t *testing.T) {
	badCluster := fakeCluster("b")
	badCluster.ConnectTimeout.Seconds = -1
	badRoute := &routev3.RouteConfiguration{Name: "kong", VirtualHosts: []*routev3.VirtualHost{{Name: ""}}}
	prevRoute := &routev3.RouteConfiguration{Name: "kong", VirtualHosts: []*routev3.VirtualHost{{Name: "prev", Domains: []string{"*"}}}}

	for name, tc := range map[string]struct {
		mutate    func(*translator.Resources)
		prevRoute *routev3.RouteConfiguration
		want      func(*translator.Resources)
		errSub    string
		consErr   string
	}{
		"valid passes untouched": {
			mutate: func(*translator.Resources) {},
			want:   func(*translator.Resources) {},
		},
		"invalid cluster is dropped with its endpoints": {
			mutate: func(r *translator.Resources) { r.Clusters[1] = badCluster },
			want: func(r *translator.Resources) {
				r.Clusters = r.Clusters[:1]
				r.Endpoints = r.Endpoints[:1]
			},
			errSub: `cluster "b"`,
		},
		"invalid endpoints become empty": {
			mutate: func(r *translator.Resources) { r.Endpoints[0] = zeroWeightCLA("a") },
			want:   func(*translator.Resources) {},
			errSub: `endpoints "a"`,
		},
		"invalid route configuration keeps the previous one": {
			mutate:    func(r *translator.Resources) { r.Routes[0] = badRoute },
			prevRoute: prevRoute,
			want:      func(r *translator.Resources) { r.Routes[0] = prevRoute },
			errSub:    `route configuration "kong"`,
		},
		"invalid route configuration without a previous one is inconsistent": {
			mutate:  func(r *translator.Resources) { r.Routes[0] = badRoute },
			want:    func(r *translator.Resources) { r.Routes = nil },
			errSub:  `route configuration "kong"`,
			consErr: "RouteConfiguration",
		},
	} {
		t.Run(name, func(t *testing.T) {
			in := validResources()
			tc.mutate(in)
			prev := map[string]*routev3.RouteConfiguration{}
			if tc.prevRoute != nil {
				prev["kong"] = tc.prevRoute
			}
			got, err := sanitize(in, nil, nil, func(n string) *routev3.RouteConfiguration { return prev[n] })
			want := validResources()
			tc.want(want)
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
			if (err == nil) != (tc.errSub == "") || (err != nil && !strings.Contains(err.Error(), tc.errSub)) {
				t.Errorf("error %v, want one containing %q", err, tc.errSub)
			}
			cerr := consistent(got)
			if (cerr == nil) != (tc.consErr == "") || (cerr != nil && !strings.Contains(cerr.Error(), tc.consErr)) {
				t.Errorf("consistency error %v, want one containing %q", cerr, tc.consErr)
			}
		})
	}
}

func TestConsistent(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*translator.Resources)
		errSub string
	}{
		"ok":                 {func(*translator.Resources) {}, ""},
		"missing endpoints":  {func(r *translator.Resources) { r.Endpoints = r.Endpoints[:1] }, "ClusterLoadAssignment"},
		"orphan endpoints":   {func(r *translator.Resources) { r.Endpoints[1].ClusterName = "c" }, "ClusterLoadAssignment"},
		"missing route":      {func(r *translator.Resources) { r.Routes[0].Name = "other" }, "RouteConfiguration"},
		"duplicate clusters": {func(r *translator.Resources) { r.Clusters[1] = fakeCluster("a") }, "share a name"},
	} {
		t.Run(name, func(t *testing.T) {
			in := validResources()
			tc.mutate(in)
			err := consistent(in)
			if (err == nil) != (tc.errSub == "") || (err != nil && !strings.Contains(err.Error(), tc.errSub)) {
				t.Fatalf("error %v, want one containing %q", err, tc.errSub)
			}
		})
	}
}
