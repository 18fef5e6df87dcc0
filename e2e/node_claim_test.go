package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestSecurity_NodeIDCannotBeClaimed: a gRPC client names the connected
// local Envoy's node id and NACKs. Its stream is refused, and the Envoy's
// row in /clustering/data-planes shows no error.
func TestSecurity_NodeIDCannotBeClaimed(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	localID := "switchboard-local-" + s.nodeID[:8]
	var before []map[string]any
	eventually(t, convergeBound, "the local Envoy listed as connected", func() (bool, string) {
		before = dataPlanes(t, s)
		for _, dp := range before {
			if dp["id"] == localID && dp["connected"] == true {
				return true, ""
			}
		}
		return false, "not yet"
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(s.xdsAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Send(&discoveryv3.DiscoveryRequest{
		Node: &corev3.Node{Id: localID}, TypeUrl: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
		ResponseNonce: "1", ErrorDetail: &status.Status{Code: 3, Message: "planted by an impostor"},
	})
	if _, err := stream.Recv(); err == nil || !strings.Contains(err.Error(), "held by another connected stream") {
		t.Fatalf("the impostor's stream: %v", err)
	}
	for _, dp := range dataPlanes(t, s) {
		if dp["id"] == localID && (dp["last_error"] != nil || dp["sync_status"] != "normal") {
			t.Fatalf("the impostor's NACK landed on the local Envoy: %v", dp)
		}
	}
}

func dataPlanes(t *testing.T, s *stack) []map[string]any {
	t.Helper()
	r := s.api("GET", "/clustering/data-planes", nil)
	var out struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("/clustering/data-planes: %v %s", err, r.body)
	}
	return out.Data
}
