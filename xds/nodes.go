package xds

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc/peer"
)

// maxPendingDeltaNonces bounds the per-type map of delta responses awaiting
// an ACK: Envoy answers each one, so only a broken client fills it.
const maxPendingDeltaNonces = 64

// registry implements the go-control-plane server callbacks. It records,
// per connected Envoy, what it ACKed and what it rejected, and it keeps the
// snapshot cache from re-sending a rejected version in a loop.
type registry struct {
	log        *slog.Logger
	metrics    *metrics
	now        func() time.Time
	purgeAfter time.Duration
	maxNodes   int // 0: maxDataPlanes (node_identity.go)

	// revisionOf maps a type version sent to Envoys to the store revision
	// that produced it, and commitTime a revision to when the publish loop
	// saw it commit (false when unknown), for the propagation histogram;
	// nil means none.
	revisionOf func(typeURL, version string) (uint64, bool)
	commitTime func(rev uint64) (time.Time, bool)
	// onNack hands a NACK to the publish loop for isolation
	// (quarantine.go); it must not block. nil: none.
	onNack func(nackEvent)

	mu      sync.Mutex
	streams map[int64]*streamState
	nodes   map[string]*dataPlane
}

var _ serverv3.Callbacks = (*registry)(nil)

// streamState is one ADS stream (SotW or delta).
type streamState struct {
	peer string
	// identity is the peer's client certificate (node_identity.go), "" on
	// a stream without mTLS.
	identity string
	node     *dataPlane // nil until the first request names the node
	// sent is, per type URL, the last SotW response (nonce and version).
	sent map[string]sentResponse
	// deltaSent is, per type URL, the delta responses awaiting an answer:
	// nonce → system version.
	deltaSent map[string]map[string]string
}

type sentResponse struct{ nonce, version string }

// dataPlane is one Envoy node as /clustering/data-planes shows it.
type dataPlane struct {
	ID          string
	Cluster     string
	Hostname    string
	Version     string
	IP          string
	ConnectedAt time.Time
	LastSeen    time.Time
	streams     int
	// Acked is the last version ACKed per type ("clusters", "endpoints", …).
	Acked map[string]string
	// LastError is the last NACK; rejected lists the types whose latest
	// response was NACKed and not superseded by an ACK since.
	LastError *nack
	rejected  map[string]bool
	// propagated is, per type, the newest revision whose ACK was timed.
	propagated map[string]uint64
	// AdminAddress is the admin listener the node advertises in its
	// metadata (node_admin.go), "" when it advertises none.
	AdminAddress string
	// identity is the certificate of the streams that hold the node id
	// (node_identity.go).
	identity string
}

// nack is one rejected response, with Envoy's reason.
type nack struct {
	Type    string
	Version string
	Code    int32
	Message string
	At      time.Time
}

func newRegistry(log *slog.Logger, m *metrics, purgeAfter time.Duration) *registry {
	return &registry{
		log: log, metrics: m, now: time.Now, purgeAfter: purgeAfter,
		streams: map[int64]*streamState{},
		nodes:   map[string]*dataPlane{},
	}
}

// typeName is the short, Kong-ish name of a type URL for JSON and labels.
func typeName(typeURL string) string {
	switch typeURL {
	case resourcev3.ClusterType:
		return "clusters"
	case resourcev3.EndpointType:
		return "endpoints"
	case resourcev3.ListenerType:
		return "listeners"
	case resourcev3.RouteType:
		return "routes"
	case resourcev3.SecretType:
		return "secrets"
	}
	return typeURL[strings.LastIndexByte(typeURL, '.')+1:]
}

func (r *registry) open(ctx context.Context, id int64) {
	st := &streamState{sent: map[string]sentResponse{}, deltaSent: map[string]map[string]string{}}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		st.peer = p.Addr.String()
		if host, _, err := net.SplitHostPort(st.peer); err == nil {
			st.peer = host
		}
		st.identity = peerIdentity(p)
	}
	r.mu.Lock()
	r.streams[id] = st
	r.mu.Unlock()
}

func (r *registry) closed(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.streams[id]
	if !ok {
		return
	}
	delete(r.streams, id)
	if dp := st.node; dp != nil {
		dp.streams--
		dp.LastSeen = r.now()
		r.updateConnectedLocked()
	}
}

// bindLocked attaches the node of a request to its stream (the node is only
// guaranteed on the first request) and refreshes last-seen. A stream keeps
// the node it named first; admitLocked refuses a claim on a node id that
// another Envoy holds (the error ends the stream).
func (r *registry) bindLocked(st *streamState, node *corev3.Node) (*dataPlane, error) {
	now := r.now()
	if st.node == nil {
		if node == nil || node.GetId() == "" {
			return nil, nil
		}
		if err := r.admitLocked(st, node.GetId()); err != nil {
			return nil, err
		}
		dp, ok := r.nodes[node.GetId()]
		if !ok {
			dp = &dataPlane{ID: node.GetId(), Acked: map[string]string{}, rejected: map[string]bool{}, propagated: map[string]uint64{}}
			r.nodes[dp.ID] = dp
		}
		if dp.streams == 0 {
			dp.ConnectedAt = now
		}
		dp.Cluster = node.GetCluster()
		dp.Hostname = nodeHostname(node)
		dp.Version = nodeVersion(node)
		dp.IP = st.peer
		dp.AdminAddress = nodeAdminAddress(node, st.peer)
		dp.identity = st.identity
		dp.streams++
		st.node = dp
		r.updateConnectedLocked()
	}
	st.node.LastSeen = now
	return st.node, nil
}

func (r *registry) updateConnectedLocked() {
	n := 0
	for _, dp := range r.nodes {
		if dp.streams > 0 {
			n++
		}
	}
	r.metrics.connected.Set(float64(n))
}

// recordNackLocked counts and logs a rejected response.
func (r *registry) recordNackLocked(dp *dataPlane, typeURL, version string, code int32, msg string) {
	t := typeName(typeURL)
	r.metrics.nacks.WithLabelValues(t).Inc()
	id := ""
	if dp != nil {
		id = dp.ID
		dp.LastError = &nack{Type: t, Version: version, Code: code, Message: msg, At: r.now()}
		dp.rejected[t] = true
	}
	r.log.Warn("xds: envoy rejected configuration", "node", id, "type", t, "version", version, "error", msg)
	if dp != nil && r.onNack != nil {
		r.onNack(nackEvent{node: id, typeURL: typeURL, version: version, acked: dp.Acked[t], message: msg, at: r.now()})
	}
}

func (r *registry) recordAckLocked(dp *dataPlane, typeURL, version string) {
	if dp == nil {
		return
	}
	t := typeName(typeURL)
	dp.Acked[t] = version
	delete(dp.rejected, t)
	// Time commit → ACK once per node, type and newer revision.
	if r.revisionOf == nil || r.commitTime == nil {
		return
	}
	if rev, ok := r.revisionOf(typeURL, version); ok && rev > dp.propagated[t] {
		dp.propagated[t] = rev
		// A commit from before the node connected is the initial sync,
		// not a change reaching it.
		if at, ok := r.commitTime(rev); ok && at.After(dp.ConnectedAt) {
			r.metrics.propagation.WithLabelValues(dp.ID).Observe(r.now().Sub(at).Seconds())
		}
	}
}

// OnStreamOpen implements serverv3.Callbacks.
func (r *registry) OnStreamOpen(ctx context.Context, id int64, _ string) error {
	r.open(ctx, id)
	return nil
}

// OnStreamClosed implements serverv3.Callbacks.
func (r *registry) OnStreamClosed(id int64, _ *corev3.Node) { r.closed(id) }

// OnStreamRequest records ACKs and NACKs of state-of-the-world streams.
//
// On a NACK it also rewrites req.VersionInfo to the rejected version before
// go-control-plane hands the request to the cache: Envoy reports its last
// *accepted* version, which differs from the snapshot's, so the snapshot
// cache would answer at once with the very config Envoy just rejected, and
// again after every NACK (envoyproxy/go-control-plane#962; docs/kong-contract.md §10.1).
// With the rejected version in the request the watch parks until the
// configuration actually changes. Envoy meanwhile keeps serving its last
// good configuration. (Delta needs no such help: the server records the
// versions it sent, not the ones Envoy accepted.)
func (r *registry) OnStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.streams[id]
	if !ok {
		return nil
	}
	dp, err := r.bindLocked(st, req.GetNode())
	if err != nil {
		return err
	}
	typeURL := req.GetTypeUrl()
	last := st.sent[typeURL]
	switch {
	case req.GetErrorDetail() != nil:
		version := ""
		if req.GetResponseNonce() == last.nonce {
			version = last.version
		}
		r.recordNackLocked(dp, typeURL, version, req.GetErrorDetail().GetCode(), req.GetErrorDetail().GetMessage())
		if version != "" {
			req.VersionInfo = version
		}
	case req.GetResponseNonce() != "":
		r.recordAckLocked(dp, typeURL, req.GetVersionInfo())
	case req.GetVersionInfo() != "" && dp != nil:
		// A reconnecting Envoy states what it already runs.
		dp.Acked[typeName(typeURL)] = req.GetVersionInfo()
	}
	return nil
}

// OnStreamResponse remembers what was sent, to name the version a later
// NACK rejects.
func (r *registry) OnStreamResponse(_ context.Context, id int64, req *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	typeURL := req.GetTypeUrl()
	r.metrics.responses.WithLabelValues(typeName(typeURL)).Inc()
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.streams[id]; ok {
		st.sent[typeURL] = sentResponse{nonce: resp.GetNonce(), version: resp.GetVersionInfo()}
	}
}

// OnDeltaStreamOpen implements serverv3.Callbacks.
func (r *registry) OnDeltaStreamOpen(ctx context.Context, id int64, _ string) error {
	r.open(ctx, id)
	return nil
}

// OnDeltaStreamClosed implements serverv3.Callbacks.
func (r *registry) OnDeltaStreamClosed(id int64, _ *corev3.Node) { r.closed(id) }

// OnStreamDeltaRequest records ACKs and NACKs of delta streams. A delta
// request carries no version, so the version is the one sent with the
// nonce it answers.
func (r *registry) OnStreamDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.streams[id]
	if !ok {
		return nil
	}
	dp, err := r.bindLocked(st, req.GetNode())
	if err != nil {
		return err
	}
	typeURL := req.GetTypeUrl()
	nonce := req.GetResponseNonce()
	if nonce == "" {
		return nil
	}
	pending := st.deltaSent[typeURL]
	version := pending[nonce]
	delete(pending, nonce)
	if req.GetErrorDetail() != nil {
		r.recordNackLocked(dp, typeURL, version, req.GetErrorDetail().GetCode(), req.GetErrorDetail().GetMessage())
		return nil
	}
	r.recordAckLocked(dp, typeURL, version)
	return nil
}

// OnStreamDeltaResponse remembers the version sent with each nonce.
func (r *registry) OnStreamDeltaResponse(id int64, req *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	typeURL := req.GetTypeUrl()
	r.metrics.responses.WithLabelValues(typeName(typeURL)).Inc()
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.streams[id]
	if !ok {
		return
	}
	pending := st.deltaSent[typeURL]
	if pending == nil {
		pending = map[string]string{}
		st.deltaSent[typeURL] = pending
	}
	if len(pending) >= maxPendingDeltaNonces {
		clear(pending)
	}
	pending[resp.GetNonce()] = resp.GetSystemVersionInfo()
}

// OnFetchRequest implements serverv3.Callbacks (REST is not served).
func (r *registry) OnFetchRequest(context.Context, *discoveryv3.DiscoveryRequest) error { return nil }

// OnFetchResponse implements serverv3.Callbacks.
func (r *registry) OnFetchResponse(*discoveryv3.DiscoveryRequest, *discoveryv3.DiscoveryResponse) {}

// nodeHostname prefers a "hostname" string in the node metadata (our
// bootstrap sets it), then the node id.
func nodeHostname(n *corev3.Node) string {
	if v, ok := n.GetMetadata().GetFields()["hostname"]; ok && v.GetStringValue() != "" {
		return v.GetStringValue()
	}
	return n.GetId()
}

// nodeVersion renders the Envoy build version as "1.40.0".
func nodeVersion(n *corev3.Node) string {
	if bv := n.GetUserAgentBuildVersion().GetVersion(); bv != nil {
		return fmt.Sprintf("%d.%d.%d", bv.GetMajorNumber(), bv.GetMinorNumber(), bv.GetPatch())
	}
	return n.GetUserAgentVersion()
}
