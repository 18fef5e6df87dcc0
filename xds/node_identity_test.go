package xds

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	grpcstatus "google.golang.org/grpc/status"
)

func testRegistry() *registry {
	return newRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), newMetrics(nil), time.Hour)
}

// peerCtx is a stream context from addr, with a client certificate when
// cert is not nil.
func peerCtx(addr string, cert []byte) context.Context {
	p := &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP(addr), Port: 40000}}
	if cert != nil {
		p.AuthInfo = credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Raw: cert}}}}
	}
	return peer.NewContext(context.Background(), p)
}

func request(node string, nack bool) *discoveryv3.DiscoveryRequest {
	req := &discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.ClusterType, ResponseNonce: "1"}
	if node != "" {
		req.Node = &corev3.Node{Id: node}
	}
	if nack {
		req.ErrorDetail = &status.Status{Code: 3, Message: "planted"}
	}
	return req
}

func rejected(r *registry, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	dp, ok := r.nodes[id]
	return ok && dp.LastError != nil
}

func TestRegistry_NodeIDCannotBeClaimed(t *testing.T) {
	r := testRegistry()
	_ = r.OnStreamOpen(peerCtx("127.0.0.1", nil), 1, "")
	if err := r.OnStreamRequest(1, request("edge-1", false)); err != nil {
		t.Fatal(err)
	}
	// A second stream names the same node and NACKs: refused, nothing planted.
	_ = r.OnStreamOpen(peerCtx("127.0.0.1", nil), 2, "")
	err := r.OnStreamRequest(2, request("edge-1", true))
	if grpcstatus.Code(err) != codes.AlreadyExists {
		t.Fatalf("second claim: %v", err)
	}
	if rejected(r, "edge-1") {
		t.Fatal("a second stream planted a NACK on edge-1")
	}
	// A stream cannot change the node it named first: its NACK marks its own.
	if err := r.OnStreamRequest(1, request("edge-2", true)); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.nodes["edge-2"]; ok {
		t.Fatal("a stream switched to another node id")
	}
	if !rejected(r, "edge-1") {
		t.Fatal("the NACK did not mark the node that sent it")
	}
	// Once the holder is gone the id is free again (a restarted Envoy).
	r.OnStreamClosed(1, nil)
	r.OnStreamClosed(2, nil)
	_ = r.OnStreamOpen(peerCtx("127.0.0.1", nil), 3, "")
	if err := r.OnStreamRequest(3, request("edge-1", false)); err != nil {
		t.Fatalf("claim after the holder left: %v", err)
	}
}

func TestRegistry_SameCertificateMayReconnect(t *testing.T) {
	r := testRegistry()
	_ = r.OnStreamOpen(peerCtx("10.0.0.1", []byte("cert-a")), 1, "")
	if err := r.OnStreamRequest(1, request("edge-1", false)); err != nil {
		t.Fatal(err)
	}
	_ = r.OnStreamOpen(peerCtx("10.0.0.1", []byte("cert-a")), 2, "")
	if err := r.OnStreamRequest(2, request("edge-1", false)); err != nil {
		t.Fatalf("same Envoy reconnecting before its old stream ended: %v", err)
	}
	_ = r.OnStreamOpen(peerCtx("10.0.0.9", []byte("cert-b")), 3, "")
	if err := r.OnStreamRequest(3, request("edge-1", true)); grpcstatus.Code(err) != codes.AlreadyExists {
		t.Fatalf("another certificate claimed edge-1: %v", err)
	}
	if rejected(r, "edge-1") {
		t.Fatal("planted NACK")
	}
}

func TestRegistry_RowsAreBounded(t *testing.T) {
	r := testRegistry()
	r.maxNodes = 20
	// Connected rows are never evicted: with the table full of them a new
	// id is refused.
	for i := 0; i < r.maxNodes; i++ {
		id := int64(1000 + i)
		_ = r.OnStreamOpen(peerCtx("127.0.0.1", nil), id, "")
		if err := r.OnStreamRequest(id, request(fmt.Sprintf("live-%d", i), false)); err != nil {
			t.Fatal(err)
		}
	}
	_ = r.OnStreamOpen(peerCtx("127.0.0.1", nil), 999, "")
	if err := r.OnStreamRequest(999, request("one-too-many", false)); grpcstatus.Code(err) != codes.ResourceExhausted {
		t.Fatalf("table full of live nodes: %v", err)
	}
	for i := 0; i < r.maxNodes; i++ {
		r.OnStreamClosed(int64(1000+i), nil)
	}
	for i := 0; i < 5*r.maxNodes; i++ {
		id := int64(i + 1)
		_ = r.OnStreamOpen(peerCtx("127.0.0.1", nil), id, "")
		if err := r.OnStreamRequest(id, request(fmt.Sprintf("n-%d", i), false)); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		r.OnStreamClosed(id, nil)
	}
	if n := len(r.nodes); n > r.maxNodes {
		t.Fatalf("%d rows kept", n)
	}
	_ = r.OnStreamOpen(peerCtx("127.0.0.1", nil), 0, "")
	long := make([]byte, maxNodeIDLen+1)
	for i := range long {
		long[i] = 'x'
	}
	if err := r.OnStreamRequest(0, request(string(long), false)); grpcstatus.Code(err) != codes.InvalidArgument {
		t.Fatalf("long node id: %v", err)
	}
}
