package xds

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Bounds on what Envoys (or anything speaking ADS) can make the registry
// hold: /clustering/data-planes rows are kept for DataPlanePurge after a
// disconnect, so without a cap a client cycling node ids would grow them
// without limit.
const (
	maxNodeIDLen  = 512
	maxDataPlanes = 10000
)

// peerIdentity names the client certificate of an mTLS stream (SHA-256 of
// the leaf), "" when the stream has none.
func peerIdentity(p *peer.Peer) string {
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return ""
	}
	sum := sha256.Sum256(info.State.PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:])
}

// admitLocked decides whether stream st may take node id. A node id held
// by a live stream can only be joined by a stream with the same client
// certificate (the same Envoy reconnecting before its old stream timed
// out); otherwise a second stream could claim another Envoy's id and plant
// NACKs on it — which would show it broken and could get entities isolated.
// Without mTLS there is no identity to compare, so a held id is refused
// until its stream ends. New ids are refused once maxDataPlanes rows exist
// and none can be evicted.
func (r *registry) admitLocked(st *streamState, id string) error {
	if len(id) > maxNodeIDLen {
		return status.Errorf(codes.InvalidArgument, "node id longer than %d bytes", maxNodeIDLen)
	}
	dp, ok := r.nodes[id]
	if ok && dp.streams > 0 && (st.identity == "" || st.identity != dp.identity) {
		r.log.Warn("xds: refused a second stream claiming a connected node id", "node", id, "peer", st.peer)
		return status.Errorf(codes.AlreadyExists, "node id %q is held by another connected stream", id)
	}
	if !ok && len(r.nodes) >= r.nodeLimit() {
		r.evictLocked()
		if len(r.nodes) >= r.nodeLimit() {
			return status.Error(codes.ResourceExhausted, fmt.Sprintf("too many data planes (%d)", r.nodeLimit()))
		}
	}
	return nil
}

func (r *registry) nodeLimit() int {
	if r.maxNodes > 0 {
		return r.maxNodes
	}
	return maxDataPlanes
}

// evictLocked drops the rows of disconnected nodes past the purge delay,
// and if that frees nothing, the one disconnected longest ago.
func (r *registry) evictLocked() {
	now := r.now()
	var oldest *dataPlane
	for id, dp := range r.nodes {
		if dp.streams > 0 {
			continue
		}
		if now.Sub(dp.LastSeen) > r.purgeAfter {
			delete(r.nodes, id)
			continue
		}
		if oldest == nil || dp.LastSeen.Before(oldest.LastSeen) {
			oldest = dp
		}
	}
	if len(r.nodes) >= r.nodeLimit() && oldest != nil {
		delete(r.nodes, oldest.ID)
	}
}
