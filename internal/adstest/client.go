package adstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
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

// maxMessage lets a route configuration of tens of thousands of routes
// through (gRPC's default receive limit is 4 MiB).
const maxMessage = 512 << 20

// Options shape Dial.
type Options struct {
	// NodeID is the node's id (ignored when Node is set).
	NodeID string
	// Node is sent on the first request; nil sends one shaped like Envoy
	// 1.40's (cluster "kong-gateway", a hostname in the metadata).
	Node *corev3.Node
	// Delta speaks incremental xDS instead of State of the World.
	Delta bool
	// NamesOnly keeps the names and versions of what was received, not the
	// resources themselves (Resources is then empty): a simulated fleet of
	// many clients with large configurations.
	NamesOnly bool
	// DialOptions replace the default insecure transport credentials.
	DialOptions []grpc.DialOption
}

// Response is one response as the client saw it.
type Response struct {
	At      time.Time
	TypeURL string
	// Version is the SotW version_info, or delta's system_version_info.
	Version string
	// Names are the resources added or updated (SotW: all), sorted.
	Names   []string
	Removed []string
	// Nacked: the client rejected this response.
	Nacked bool
	// Bytes is the serialized size of the response.
	Bytes int
}

// entry is one accepted resource.
type entry struct {
	version string
	res     *anypb.Any // nil with NamesOnly
	deps    []string   // EDS names of a cluster, RDS names of a listener
}

// Client is one simulated Envoy on one ADS stream.
type Client struct {
	ID   string
	opts Options
	node *corev3.Node
	conn *grpc.ClientConn

	cancel context.CancelFunc
	sendMu sync.Mutex
	sotw   discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	dstrm  discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient

	mu        sync.Mutex
	state     map[string]map[string]entry // accepted: type → name → entry
	versions  map[string]string           // SotW: last accepted version per type
	nonces    map[string]string           // last nonce per type
	subs      map[string][]string         // EDS and RDS subscriptions, sorted
	got       map[string]bool             // types that had a response
	log       []Response
	nackNext  map[string]string // type → NACK message for its next response
	nackMore  map[string]int    // type → further responses to NACK after it
	nacks     int
	decodeErr []error
	started   time.Time
	completed time.Time
	complete  chan struct{}
	changed   chan struct{}
	done      chan struct{}
	err       error
}

// Dial connects to the ADS server at addr and opens the stream with
// wildcard CDS and LDS subscriptions. ctx bounds the stream's life; Close
// ends it.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	dial := opts.DialOptions
	if len(dial) == 0 {
		dial = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	dial = append(slices.Clone(dial), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage)))
	conn, err := grpc.NewClient(addr, dial...)
	if err != nil {
		return nil, fmt.Errorf("ads client %s: %w", opts.NodeID, err)
	}
	node := opts.Node
	if node == nil {
		node = envoyNode(opts.NodeID)
	}
	c := &Client{
		ID: node.GetId(), opts: opts, node: node, conn: conn,
		state: map[string]map[string]entry{}, versions: map[string]string{}, nonces: map[string]string{},
		subs: map[string][]string{}, got: map[string]bool{}, nackNext: map[string]string{}, nackMore: map[string]int{},
		started:  time.Now(),
		complete: make(chan struct{}), changed: make(chan struct{}, 1), done: make(chan struct{}),
	}
	// Only the receive goroutine sends after the first requests, so Close
	// ends the stream by cancelling it rather than by a CloseSend that
	// would race with those sends.
	ctx, c.cancel = context.WithCancel(ctx)
	client := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	if opts.Delta {
		c.dstrm, err = client.DeltaAggregatedResources(ctx)
	} else {
		c.sotw, err = client.StreamAggregatedResources(ctx)
	}
	if err != nil {
		c.cancel()
		_ = conn.Close()
		return nil, fmt.Errorf("ads client %s: open stream: %w", c.ID, err)
	}
	// The node rides on the first request only, as Envoy's
	// set_node_on_first_message_only.
	for i, t := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		if err := c.subscribe(t, nil, nil, i == 0); err != nil {
			c.cancel()
			_ = conn.Close()
			return nil, fmt.Errorf("ads client %s: subscribe: %w", c.ID, err)
		}
	}
	go c.recvLoop()
	return c, nil
}

// envoyNode is a node as Envoy 1.40 sends it.
func envoyNode(id string) *corev3.Node {
	return &corev3.Node{
		Id: id, Cluster: "kong-gateway",
		Metadata:      &structpb.Struct{Fields: map[string]*structpb.Value{"hostname": structpb.NewStringValue("host-" + id)}},
		UserAgentName: "envoy",
		UserAgentVersionType: &corev3.Node_UserAgentBuildVersion{UserAgentBuildVersion: &corev3.BuildVersion{
			Version: &typev3.SemanticVersion{MajorNumber: 1, MinorNumber: 40, Patch: 0},
		}},
	}
}

// Close ends the stream and the connection and waits for the receiver.
func (c *Client) Close() {
	c.cancel()
	_ = c.conn.Close()
	<-c.done
}

// subscribe sends a (re)subscription. For delta, add and remove are the
// name changes; for SotW, add is the full name list.
func (c *Client) subscribe(typeURL string, add, remove []string, withNode bool) error {
	var node *corev3.Node
	if withNode {
		node = c.node
	}
	if c.opts.Delta {
		return c.sendDelta(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: typeURL,
			ResourceNamesSubscribe: add, ResourceNamesUnsubscribe: remove})
	}
	c.mu.Lock()
	version, nonce := c.versions[typeURL], c.nonces[typeURL]
	c.mu.Unlock()
	return c.sendSotW(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typeURL, ResourceNames: add,
		VersionInfo: version, ResponseNonce: nonce})
}

func (c *Client) sendSotW(req *discoveryv3.DiscoveryRequest) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.sotw.Send(req)
}

func (c *Client) sendDelta(req *discoveryv3.DeltaDiscoveryRequest) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.dstrm.Send(req)
}

func (c *Client) recvLoop() {
	defer close(c.done)
	for {
		var err error
		if c.opts.Delta {
			var r *discoveryv3.DeltaDiscoveryResponse
			if r, err = c.dstrm.Recv(); err == nil {
				err = c.handleDelta(r)
			}
		} else {
			var r *discoveryv3.DiscoveryResponse
			if r, err = c.sotw.Recv(); err == nil {
				err = c.handleSotW(r)
			}
		}
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			c.notify()
			return
		}
		c.notify()
	}
}

func (c *Client) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// decode reads one resource: its name and what it makes the client
// subscribe to.
func (c *Client) decode(typeURL string, a *anypb.Any) (string, entry, error) {
	m, err := a.UnmarshalNew()
	if err != nil {
		return "", entry{}, fmt.Errorf("%s: %w", typeURL, err)
	}
	e := entry{deps: dependencies(m)}
	if !c.opts.NamesOnly {
		e.res = a
	}
	return resourceName(m), e, nil
}

// rejectLocked decides whether to NACK a response: on a decode error, or
// when told to. It returns the NACK message ("" to accept).
func (c *Client) rejectLocked(typeURL string, decodeErr error) string {
	if decodeErr != nil {
		c.decodeErr = append(c.decodeErr, decodeErr)
		return decodeErr.Error()
	}
	if msg, ok := c.nackNext[typeURL]; ok {
		delete(c.nackNext, typeURL)
		if c.nackMore[typeURL] > 0 {
			c.nackMore[typeURL]--
			c.nackNext[typeURL] = msg
		}
		return msg
	}
	return ""
}

func (c *Client) handleSotW(r *discoveryv3.DiscoveryResponse) error {
	typeURL := r.GetTypeUrl()
	rec := Response{At: time.Now(), TypeURL: typeURL, Version: r.GetVersionInfo(), Bytes: proto.Size(r)}
	res := map[string]entry{}
	var decodeErr error
	for _, a := range r.GetResources() {
		name, e, err := c.decode(typeURL, a)
		if err != nil {
			decodeErr = errors.Join(decodeErr, err)
			continue
		}
		e.version = r.GetVersionInfo()
		res[name] = e
		rec.Names = append(rec.Names, name)
	}
	slices.Sort(rec.Names)

	c.mu.Lock()
	c.nonces[typeURL] = r.GetNonce()
	if msg := c.rejectLocked(typeURL, decodeErr); msg != "" {
		rec.Nacked = true
		c.nacks++
		c.log = append(c.log, rec)
		version, names := c.versions[typeURL], slices.Clone(c.subs[typeURL])
		c.mu.Unlock()
		return c.sendSotW(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: names, VersionInfo: version,
			ResponseNonce: r.GetNonce(), ErrorDetail: &statuspb.Status{Code: 3, Message: msg}})
	}
	c.log = append(c.log, rec)
	c.versions[typeURL] = r.GetVersionInfo()
	c.got[typeURL] = true
	if typeURL == resourcev3.ClusterType || typeURL == resourcev3.ListenerType {
		c.state[typeURL] = res // SotW: the whole set
	} else {
		if c.state[typeURL] == nil {
			c.state[typeURL] = map[string]entry{}
		}
		for n, e := range res {
			c.state[typeURL][n] = e
		}
	}
	names := slices.Clone(c.subs[typeURL])
	c.mu.Unlock()
	if err := c.follow(typeURL); err != nil {
		return err
	}
	if err := c.sendSotW(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: names,
		VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()}); err != nil {
		return err
	}
	c.checkComplete()
	return nil
}

func (c *Client) handleDelta(r *discoveryv3.DeltaDiscoveryResponse) error {
	typeURL := r.GetTypeUrl()
	rec := Response{At: time.Now(), TypeURL: typeURL, Version: r.GetSystemVersionInfo(),
		Removed: r.GetRemovedResources(), Bytes: proto.Size(r)}
	res := map[string]entry{}
	var decodeErr error
	for _, dr := range r.GetResources() {
		_, e, err := c.decode(typeURL, dr.GetResource())
		if err != nil {
			decodeErr = errors.Join(decodeErr, err)
			continue
		}
		e.version = dr.GetVersion()
		res[dr.GetName()] = e
		rec.Names = append(rec.Names, dr.GetName())
	}
	slices.Sort(rec.Names)

	c.mu.Lock()
	c.nonces[typeURL] = r.GetNonce()
	if msg := c.rejectLocked(typeURL, decodeErr); msg != "" {
		rec.Nacked = true
		c.nacks++
		c.log = append(c.log, rec)
		c.mu.Unlock()
		return c.sendDelta(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: r.GetNonce(),
			ErrorDetail: &statuspb.Status{Code: 3, Message: msg}})
	}
	c.log = append(c.log, rec)
	c.got[typeURL] = true
	if c.state[typeURL] == nil {
		c.state[typeURL] = map[string]entry{}
	}
	for n, e := range res {
		c.state[typeURL][n] = e
	}
	for _, n := range r.GetRemovedResources() {
		delete(c.state[typeURL], n)
	}
	c.mu.Unlock()
	// Envoy asks for a new cluster's endpoints while the cluster warms,
	// then ACKs the clusters; the same order here.
	if err := c.follow(typeURL); err != nil {
		return err
	}
	if err := c.sendDelta(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: r.GetNonce()}); err != nil {
		return err
	}
	c.checkComplete()
	return nil
}

// follow updates the EDS (RDS) subscription after CDS (LDS) changed, as
// Envoy does when clusters (listeners) come and go.
func (c *Client) follow(typeURL string) error {
	var dep string
	switch typeURL {
	case resourcev3.ClusterType:
		dep = resourcev3.EndpointType
	case resourcev3.ListenerType:
		dep = resourcev3.RouteType
	default:
		return nil
	}
	c.mu.Lock()
	var want []string
	for _, e := range c.state[typeURL] {
		want = append(want, e.deps...)
	}
	slices.Sort(want)
	want = slices.Compact(want)
	have := c.subs[dep]
	if slices.Equal(have, want) {
		c.mu.Unlock()
		return nil
	}
	c.subs[dep] = want
	var add, remove []string
	for _, n := range want {
		if _, ok := slices.BinarySearch(have, n); !ok {
			add = append(add, n)
		}
	}
	for _, n := range have {
		if _, ok := slices.BinarySearch(want, n); !ok {
			remove = append(remove, n)
			delete(c.state[dep], n)
		}
	}
	c.mu.Unlock()
	if c.opts.Delta {
		return c.subscribe(dep, add, remove, false)
	}
	return c.subscribe(dep, want, nil, false)
}

// checkComplete closes Complete once the client holds clusters, listeners
// and every endpoint set and route configuration they name.
func (c *Client) checkComplete() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.completed.IsZero() || !c.got[resourcev3.ClusterType] || !c.got[resourcev3.ListenerType] {
		return
	}
	for _, dep := range []string{resourcev3.EndpointType, resourcev3.RouteType} {
		for _, n := range c.subs[dep] {
			if _, ok := c.state[dep][n]; !ok {
				return
			}
		}
	}
	c.completed = time.Now()
	close(c.complete)
}

// dependencies are the names a resource makes Envoy subscribe to: an EDS
// cluster's endpoint set, a listener's RDS route configurations.
func dependencies(m proto.Message) []string {
	switch v := m.(type) {
	case *clusterv3.Cluster:
		if v.GetType() != clusterv3.Cluster_EDS {
			return nil
		}
		if n := v.GetEdsClusterConfig().GetServiceName(); n != "" {
			return []string{n}
		}
		return []string{v.GetName()}
	case *listenerv3.Listener:
		return rdsNames(v)
	}
	return nil
}

// rdsNames are the route configurations a listener's HTTP connection
// managers fetch over RDS.
func rdsNames(l *listenerv3.Listener) []string {
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

// resourceName is the name Envoy files a resource under.
func resourceName(m proto.Message) string {
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
