package xds

import (
	"context"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestNodeAdminAddress(t *testing.T) {
	node := func(v string) *corev3.Node {
		md, _ := structpb.NewStruct(map[string]any{NodeMetadataAdminAddress: v})
		return &corev3.Node{Id: "n", Metadata: md}
	}
	for _, tc := range []struct{ meta, peer, want string }{
		{"127.0.0.1:9901", "10.0.0.9", "127.0.0.1:9901"},
		{"0.0.0.0:9901", "10.0.0.9", "10.0.0.9:9901"},
		{"[::]:9901", "fd00::9", "[fd00::9]:9901"},
		{":9901", "10.0.0.9", "10.0.0.9:9901"},
		{"0.0.0.0:9901", "", ""},
		{"127.0.0.1:0", "10.0.0.9", ""},
		{"envoy-1:9901", "10.0.0.9", "envoy-1:9901"},
		{"garbage", "10.0.0.9", ""},
		{"", "10.0.0.9", ""},
	} {
		if got := nodeAdminAddress(node(tc.meta), tc.peer); got != tc.want {
			t.Errorf("admin_address %q from %q = %q, want %q", tc.meta, tc.peer, got, tc.want)
		}
	}
	if got := nodeAdminAddress(&corev3.Node{Id: "bare"}, "10.0.0.9"); got != "" {
		t.Errorf("no metadata = %q", got)
	}
}

func TestServer_DataPlaneAdmins(t *testing.T) {
	s := New(newStore(t), nil, Options{})
	r := s.nodes
	open := func(id int64, node *corev3.Node) {
		if err := r.OnStreamOpen(context.Background(), id, ""); err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		r.streams[id].peer = "10.0.0.9"
		r.mu.Unlock()
		if err := r.OnStreamRequest(id, &discoveryv3.DiscoveryRequest{Node: node}); err != nil {
			t.Fatal(err)
		}
	}
	md, _ := structpb.NewStruct(map[string]any{NodeMetadataAdminAddress: "0.0.0.0:9901"})
	open(1, &corev3.Node{Id: "b-envoy", Metadata: md})
	open(2, &corev3.Node{Id: "no-admin"})
	md2, _ := structpb.NewStruct(map[string]any{NodeMetadataAdminAddress: "127.0.0.1:9902"})
	open(3, &corev3.Node{Id: "a-envoy", Metadata: md2})

	want := []DataPlaneAdmin{{NodeID: "a-envoy", AdminAddress: "127.0.0.1:9902"}, {NodeID: "b-envoy", AdminAddress: "10.0.0.9:9901"}}
	if diff := cmp.Diff(want, s.DataPlaneAdmins()); diff != "" {
		t.Fatalf("admins (-want +got):\n%s", diff)
	}
	r.OnStreamClosed(1, nil)
	if got := s.DataPlaneAdmins(); len(got) != 1 || got[0].NodeID != "a-envoy" {
		t.Fatalf("after b-envoy disconnected: %v", got)
	}
}
