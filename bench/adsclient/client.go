package adsclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// maxMessage lets a route configuration of tens of thousands of routes
// through (gRPC's default receive limit is 4 MiB).
const maxMessage = 512 << 20

// Received is one response as the client saw it.
type Received struct {
	At      time.Time
	TypeURL string
	Names   []string // resources added or updated
	Removed []string
	Bytes   int // serialized size of the DeltaDiscoveryResponse
}

// Client is one simulated Envoy.
type Client struct {
	ID     string
	conn   *grpc.ClientConn
	cancel context.CancelFunc
	strm   discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient

	mu        sync.Mutex
	have      map[string]map[string]string // type → name → version
	wantEDS   map[string]bool
	wantRDS   map[string]bool
	gotCDS    bool
	gotLDS    bool
	started   time.Time
	completed time.Time
	complete  chan struct{}
	recording bool
	received  []Received
	nacks     int
	err       error
	done      chan struct{}
}

// Dial connects to the ADS server at addr and starts the stream.
func Dial(ctx context.Context, addr, id string) (*Client, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage)))
	if err != nil {
		return nil, fmt.Errorf("ads client %s: %w", id, err)
	}
	c := &Client{
		ID: id, conn: conn,
		have:     map[string]map[string]string{},
		wantEDS:  map[string]bool{},
		wantRDS:  map[string]bool{},
		complete: make(chan struct{}),
		done:     make(chan struct{}),
	}
	c.started = time.Now()
	// Only the receive goroutine sends after the first requests, so Close
	// ends the stream by cancelling it rather than by a CloseSend that
	// would race with those sends.
	ctx, c.cancel = context.WithCancel(ctx)
	c.strm, err = discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		c.cancel()
		_ = conn.Close()
		return nil, fmt.Errorf("ads client %s: open stream: %w", id, err)
	}
	node := &corev3.Node{Id: id, Cluster: "sbbench", UserAgentName: "sbbench-adsclient"}
	// Wildcard subscriptions, as Envoy's first requests: the node rides on
	// the first message only.
	for i, t := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: t}
		if i == 0 {
			req.Node = node
		}
		if err := c.strm.Send(req); err != nil {
			c.cancel()
			_ = conn.Close()
			return nil, fmt.Errorf("ads client %s: subscribe: %w", id, err)
		}
	}
	go c.recv()
	return c, nil
}

// Complete is closed once the client holds a full configuration: clusters,
// listeners, and every endpoint set and route configuration they name.
func (c *Client) Complete() <-chan struct{} { return c.complete }

// TimeToComplete is from Dial to a full configuration.
func (c *Client) TimeToComplete() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.completed.IsZero() {
		return 0
	}
	return c.completed.Sub(c.started)
}

// Counts returns how many resources of each type the client holds.
func (c *Client) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for t, m := range c.have {
		out[t] = len(m)
	}
	return out
}

// Record starts (or restarts) recording responses.
func (c *Client) Record() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recording = true
	c.received = nil
}

// Recorded returns the responses since Record.
func (c *Client) Recorded() []Received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Received(nil), c.received...)
}

// NACKs is how many responses the client could not decode.
func (c *Client) NACKs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nacks
}

// Err is the stream's error once it ended (nil while it runs).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close ends the stream and the connection.
func (c *Client) Close() {
	c.cancel()
	<-c.done
	_ = c.conn.Close()
}

func (c *Client) recv() {
	defer close(c.done)
	for {
		resp, err := c.strm.Recv()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		if err := c.handle(resp); err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
	}
}

// handle applies one response, subscribes to what it names and ACKs it.
func (c *Client) handle(resp *discoveryv3.DeltaDiscoveryResponse) error {
	now := time.Now()
	t := resp.GetTypeUrl()
	rec := Received{At: now, TypeURL: t, Removed: resp.GetRemovedResources(), Bytes: proto.Size(resp)}
	var subEDS, subRDS []string
	var decodeErr error

	c.mu.Lock()
	have := c.have[t]
	if have == nil {
		have = map[string]string{}
		c.have[t] = have
	}
	for _, r := range resp.GetResources() {
		have[r.GetName()] = r.GetVersion()
		rec.Names = append(rec.Names, r.GetName())
		switch t {
		case resourcev3.ClusterType:
			name, err := edsName(r)
			if err != nil {
				decodeErr = err
			} else if name != "" && !c.wantEDS[name] {
				c.wantEDS[name] = true
				subEDS = append(subEDS, name)
			}
		case resourcev3.ListenerType:
			names, err := rdsNames(r)
			if err != nil {
				decodeErr = err
			}
			for _, n := range names {
				if !c.wantRDS[n] {
					c.wantRDS[n] = true
					subRDS = append(subRDS, n)
				}
			}
		}
	}
	for _, n := range resp.GetRemovedResources() {
		delete(have, n)
		if t == resourcev3.ClusterType {
			delete(c.wantEDS, n)
		}
	}
	switch t {
	case resourcev3.ClusterType:
		c.gotCDS = true
	case resourcev3.ListenerType:
		c.gotLDS = true
	}
	if c.recording {
		c.received = append(c.received, rec)
	}
	if decodeErr != nil {
		c.nacks++
	}
	c.checkCompleteLocked(now)
	c.mu.Unlock()

	// Envoy asks for a new cluster's endpoints while the cluster warms,
	// then ACKs the clusters; the same order here.
	if len(subEDS) > 0 {
		if err := c.strm.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNamesSubscribe: subEDS}); err != nil {
			return err
		}
	}
	if len(subRDS) > 0 {
		if err := c.strm.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNamesSubscribe: subRDS}); err != nil {
			return err
		}
	}
	ack := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: t, ResponseNonce: resp.GetNonce()}
	if decodeErr != nil {
		// What Envoy does with a resource it cannot read: NACK it.
		ack.ErrorDetail = &rpcstatus.Status{Code: 3, Message: decodeErr.Error()}
	}
	return c.strm.Send(ack)
}

func (c *Client) checkCompleteLocked(now time.Time) {
	if !c.completed.IsZero() || !c.gotCDS || !c.gotLDS {
		return
	}
	for n := range c.wantEDS {
		if _, ok := c.have[resourcev3.EndpointType][n]; !ok {
			return
		}
	}
	for n := range c.wantRDS {
		if _, ok := c.have[resourcev3.RouteType][n]; !ok {
			return
		}
	}
	c.completed = now
	close(c.complete)
}

// edsName is the endpoint set an EDS cluster asks for ("" for other types).
func edsName(r *discoveryv3.Resource) (string, error) {
	var cl clusterv3.Cluster
	if err := r.GetResource().UnmarshalTo(&cl); err != nil {
		return "", fmt.Errorf("cluster %s: %w", r.GetName(), err)
	}
	if cl.GetType() != clusterv3.Cluster_EDS {
		return "", nil
	}
	if n := cl.GetEdsClusterConfig().GetServiceName(); n != "" {
		return n, nil
	}
	return cl.GetName(), nil
}

// rdsNames are the route configurations a listener's HTTP connection
// managers fetch over RDS.
func rdsNames(r *discoveryv3.Resource) ([]string, error) {
	var l listenerv3.Listener
	if err := r.GetResource().UnmarshalTo(&l); err != nil {
		return nil, fmt.Errorf("listener %s: %w", r.GetName(), err)
	}
	var out []string
	for _, fc := range l.GetFilterChains() {
		for _, f := range fc.GetFilters() {
			tc := f.GetTypedConfig()
			if tc == nil {
				continue
			}
			var hcm hcmv3.HttpConnectionManager
			if err := tc.UnmarshalTo(&hcm); err != nil {
				continue // another network filter
			}
			if n := hcm.GetRds().GetRouteConfigName(); n != "" {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// ErrIncomplete is returned when clients did not get a full configuration
// within the bound.
var ErrIncomplete = errors.New("ads clients incomplete")
