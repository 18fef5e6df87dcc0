package xds

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// fakeEnvoy drives an ADS stream the way Envoy does, without Envoy:
// wildcard CDS and LDS, EDS for the EDS clusters CDS names, RDS for the
// route configurations LDS names, an ACK for every response (or a NACK when
// told to), and a log of every response for the tests to inspect.
type fakeEnvoy struct {
	t     testing.TB
	delta bool
	node  *corev3.Node
	conn  *grpc.ClientConn

	sendMu sync.Mutex
	sotw   discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	dstrm  discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient

	mu       sync.Mutex
	state    map[string]map[string]*anypb.Any // accepted resources: type → name → resource
	versions map[string]string                // SotW: last accepted version per type
	nonces   map[string]string                // last nonce per type
	subs     map[string][]string              // EDS/RDS subscriptions
	log      []response
	nackNext map[string]string // type → NACK message for its next response
	changed  chan struct{}
	done     chan struct{}
	recvErr  error
}

// response is one response as received.
type response struct {
	typeURL string
	version string
	names   []string
	removed []string
	nacked  bool
}

func dialEnvoy(t testing.TB, addr, nodeID string, delta bool) *fakeEnvoy {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &fakeEnvoy{
		t: t, delta: delta, conn: conn,
		node: &corev3.Node{
			Id: nodeID, Cluster: "kong-gateway",
			Metadata:      &structpb.Struct{Fields: map[string]*structpb.Value{"hostname": structpb.NewStringValue("host-" + nodeID)}},
			UserAgentName: "envoy",
			UserAgentVersionType: &corev3.Node_UserAgentBuildVersion{UserAgentBuildVersion: &corev3.BuildVersion{
				Version: &typev3.SemanticVersion{MajorNumber: 1, MinorNumber: 40, Patch: 0},
			}},
		},
		state: map[string]map[string]*anypb.Any{}, versions: map[string]string{}, nonces: map[string]string{},
		subs: map[string][]string{}, nackNext: map[string]string{},
		changed: make(chan struct{}, 1), done: make(chan struct{}),
	}
	client := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	if delta {
		e.dstrm, err = client.DeltaAggregatedResources(ctx)
	} else {
		e.sotw, err = client.StreamAggregatedResources(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.close(); cancel() })
	// Node on the first request only, as set_node_on_first_message_only.
	e.request(resourcev3.ClusterType, nil, nil, true)
	e.request(resourcev3.ListenerType, nil, nil, false)
	go e.recvLoop()
	return e
}

func (e *fakeEnvoy) close() {
	_ = e.conn.Close()
	<-e.done
}

// request sends a (re)subscription. For delta, add/remove are the name
// changes; for SotW, add is the full name list.
func (e *fakeEnvoy) request(typeURL string, add, remove []string, withNode bool) {
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	var node *corev3.Node
	if withNode {
		node = e.node
	}
	e.mu.Lock()
	version, nonce := e.versions[typeURL], e.nonces[typeURL]
	e.mu.Unlock()
	var err error
	if e.delta {
		err = e.dstrm.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: typeURL, ResourceNamesSubscribe: add, ResourceNamesUnsubscribe: remove})
	} else {
		err = e.sotw.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typeURL, ResourceNames: add, VersionInfo: version, ResponseNonce: nonce})
	}
	if err != nil {
		e.t.Logf("fake envoy send: %v", err)
	}
}

func (e *fakeEnvoy) recvLoop() {
	defer close(e.done)
	for {
		var err error
		if e.delta {
			var r *discoveryv3.DeltaDiscoveryResponse
			if r, err = e.dstrm.Recv(); err == nil {
				e.handleDelta(r)
			}
		} else {
			var r *discoveryv3.DiscoveryResponse
			if r, err = e.sotw.Recv(); err == nil {
				e.handleSotW(r)
			}
		}
		if err != nil {
			e.mu.Lock()
			e.recvErr = err
			e.mu.Unlock()
			e.notify()
			return
		}
		e.notify()
	}
}

func (e *fakeEnvoy) notify() {
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

func (e *fakeEnvoy) handleSotW(r *discoveryv3.DiscoveryResponse) {
	typeURL := r.GetTypeUrl()
	rec := response{typeURL: typeURL, version: r.GetVersionInfo()}
	res := map[string]*anypb.Any{}
	for _, a := range r.GetResources() {
		name := resourceName(e.t, a)
		res[name] = a
		rec.names = append(rec.names, name)
	}
	slices.Sort(rec.names)

	e.mu.Lock()
	e.nonces[typeURL] = r.GetNonce()
	if msg, ok := e.nackNext[typeURL]; ok {
		delete(e.nackNext, typeURL)
		rec.nacked = true
		e.log = append(e.log, rec)
		version := e.versions[typeURL]
		e.mu.Unlock()
		e.send(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: e.subsOf(typeURL), VersionInfo: version,
			ResponseNonce: r.GetNonce(), ErrorDetail: &statuspb.Status{Code: 3, Message: msg}})
		return
	}
	e.log = append(e.log, rec)
	e.versions[typeURL] = r.GetVersionInfo()
	if typeURL == resourcev3.ClusterType || typeURL == resourcev3.ListenerType {
		e.state[typeURL] = res // full state
	} else {
		if e.state[typeURL] == nil {
			e.state[typeURL] = map[string]*anypb.Any{}
		}
		for n, a := range res {
			e.state[typeURL][n] = a
		}
	}
	e.mu.Unlock()
	e.send(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: e.subsOf(typeURL), VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()})
	e.follow(typeURL)
}

func (e *fakeEnvoy) handleDelta(r *discoveryv3.DeltaDiscoveryResponse) {
	typeURL := r.GetTypeUrl()
	rec := response{typeURL: typeURL, version: r.GetSystemVersionInfo(), removed: r.GetRemovedResources()}
	for _, res := range r.GetResources() {
		rec.names = append(rec.names, res.GetName())
	}
	slices.Sort(rec.names)
	e.mu.Lock()
	if msg, ok := e.nackNext[typeURL]; ok {
		delete(e.nackNext, typeURL)
		rec.nacked = true
		e.log = append(e.log, rec)
		e.mu.Unlock()
		e.sendDelta(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: r.GetNonce(), ErrorDetail: &statuspb.Status{Code: 3, Message: msg}})
		return
	}
	e.log = append(e.log, rec)
	if e.state[typeURL] == nil {
		e.state[typeURL] = map[string]*anypb.Any{}
	}
	for _, res := range r.GetResources() {
		e.state[typeURL][res.GetName()] = res.GetResource()
	}
	for _, n := range r.GetRemovedResources() {
		delete(e.state[typeURL], n)
	}
	e.mu.Unlock()
	e.sendDelta(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: r.GetNonce()})
	e.follow(typeURL)
}

func (e *fakeEnvoy) send(req *discoveryv3.DiscoveryRequest) {
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	_ = e.sotw.Send(req)
}

func (e *fakeEnvoy) sendDelta(req *discoveryv3.DeltaDiscoveryRequest) {
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	_ = e.dstrm.Send(req)
}

func (e *fakeEnvoy) subsOf(typeURL string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.subs[typeURL])
}

// follow updates the EDS (RDS) subscription after CDS (LDS) changed, as
// Envoy does when clusters (listeners) come and go.
func (e *fakeEnvoy) follow(typeURL string) {
	var dep string
	var want []string
	e.mu.Lock()
	switch typeURL {
	case resourcev3.ClusterType:
		dep = resourcev3.EndpointType
		for _, a := range e.state[typeURL] {
			c := &clusterv3.Cluster{}
			if err := a.UnmarshalTo(c); err == nil && c.GetType() == clusterv3.Cluster_EDS {
				want = append(want, edsName(c))
			}
		}
	case resourcev3.ListenerType:
		dep = resourcev3.RouteType
		for _, a := range e.state[typeURL] {
			want = append(want, rdsNames(e.t, a)...)
		}
	default:
		e.mu.Unlock()
		return
	}
	slices.Sort(want)
	want = slices.Compact(want)
	have := e.subs[dep]
	if slices.Equal(have, want) {
		e.mu.Unlock()
		return
	}
	e.subs[dep] = want
	var add, remove []string
	for _, n := range want {
		if !slices.Contains(have, n) {
			add = append(add, n)
		}
	}
	for _, n := range have {
		if !slices.Contains(want, n) {
			remove = append(remove, n)
			delete(e.state[dep], n)
		}
	}
	e.mu.Unlock()
	if e.delta {
		e.request(dep, add, remove, false)
	} else {
		e.request(dep, want, nil, false)
	}
}

func rdsNames(t testing.TB, a *anypb.Any) []string {
	l := &listenerv3.Listener{}
	if err := a.UnmarshalTo(l); err != nil {
		t.Errorf("listener: %v", err)
		return nil
	}
	var out []string
	for _, fc := range l.GetFilterChains() {
		for _, f := range fc.GetFilters() {
			h := &hcmv3.HttpConnectionManager{}
			if f.GetTypedConfig().UnmarshalTo(h) == nil && h.GetRds() != nil {
				out = append(out, h.GetRds().GetRouteConfigName())
			}
		}
	}
	return out
}

func resourceName(t testing.TB, a *anypb.Any) string {
	m, err := a.UnmarshalNew()
	if err != nil {
		t.Errorf("unmarshal %s: %v", a.GetTypeUrl(), err)
		return ""
	}
	type named interface{ GetName() string }
	type cla interface{ GetClusterName() string }
	switch v := m.(type) {
	case cla:
		return v.GetClusterName()
	case named:
		return v.GetName()
	}
	return ""
}

// nack makes the next response of typeURL be rejected with msg.
func (e *fakeEnvoy) nack(typeURL, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nackNext[typeURL] = msg
}

// mark returns the current log length, to look at later responses only.
func (e *fakeEnvoy) mark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.log)
}

// since returns the responses received after mark m.
func (e *fakeEnvoy) since(m int) []response {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.log[m:])
}

// resources returns the accepted resources of one type, decoded.
func (e *fakeEnvoy) resources(typeURL string) map[string]proto.Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]proto.Message{}
	for n, a := range e.state[typeURL] {
		m, err := a.UnmarshalNew()
		if err != nil {
			e.t.Errorf("unmarshal %s: %v", n, err)
			continue
		}
		out[n] = m
	}
	return out
}

// waitUntil polls cond on every response, failing after a bound.
func (e *fakeEnvoy) waitUntil(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for !cond() {
		e.mu.Lock()
		err := e.recvErr
		e.mu.Unlock()
		if err != nil {
			e.t.Fatalf("waiting for %s: stream ended: %v", what, err)
		}
		select {
		case <-e.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline.C:
			e.t.Fatalf("timed out waiting for %s", what)
		}
	}
}
