package xds

import (
	"maps"
	"sync"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/switchboard-gw/switchboard/xds/adscache"
)

// maxAckHistory bounds the published configurations remembered for
// acked_revision. An Envoy further behind than that reports 0 ("unknown"),
// which a UI shows as not current, the truth.
const maxAckHistory = 1024

// ackHistory maps the versions an Envoy ACKed back to a store revision, so
// that /clustering/data-planes can say which revision each Envoy runs and a
// client can tell when its write reached every Envoy.
//
// Type versions are content hashes (adscache: equal content, equal
// version). Every Envoy subscribes to the CLA of each of its clusters, so a
// CLA upsert reaches every Envoy; a CLA deletion may not (an Envoy drops a
// cluster's CLA with the cluster and unsubscribes), so an Envoy's EDS
// version counts as holding a configuration when it is the EDS version
// after that configuration's last upsert or the one after its deletions.
type ackHistory struct {
	mu      sync.Mutex
	entries []publishedConfig // oldest first
}

// publishedConfig is one configuration the cache held.
type publishedConfig struct {
	// rev is the highest store revision published with exactly this
	// configuration (a no-op publish raises it).
	rev      uint64
	versions map[string]string // type URL → version, the snapshot types
	// eds is the EDS version after the last CLA upsert, edsNow the one
	// after the deletions that followed it.
	eds, edsNow string
}

// snapshotTypes are the types whose ACKed version alone says which
// configuration an Envoy holds.
var snapshotTypes = []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.RouteType}

// record notes that rev is published with versions (type URL → version)
// and the given EDS versions.
func (h *ackHistory) record(rev uint64, versions map[string]string, eds, edsNow string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.entries); n > 0 {
		last := &h.entries[n-1]
		if last.eds == eds && last.edsNow == edsNow && maps.Equal(last.versions, versions) {
			last.rev = max(last.rev, rev)
			return
		}
	}
	if len(h.entries) == maxAckHistory {
		h.entries = append(h.entries[:0], h.entries[1:]...)
	}
	h.entries = append(h.entries, publishedConfig{rev: rev, versions: maps.Clone(versions), eds: eds, edsNow: edsNow})
}

// ackedRevision is the highest published revision whose every change the
// ACKed versions (short type name → version, as registry.Acked) include, or
// 0 when that is unknown.
func (h *ackHistory) ackedRevision(acked map[string]string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	limit := len(h.entries) - 1
	for _, t := range snapshotTypes {
		// The Envoy holds t as published at the last entry with its
		// version, so it includes every change to t up to that entry.
		j := len(h.entries) - 1
		for j >= 0 && h.entries[j].versions[t] != acked[typeName(t)] {
			j--
		}
		limit = min(limit, j)
	}
	eds := acked[typeName(resourcev3.EndpointType)]
	if eds == "" {
		// No EDS ACK: an Envoy without EDS clusters never subscribes, and
		// holds exactly the empty set.
		eds = adscache.EmptyVersion
	}
	j := len(h.entries) - 1
	for j >= 0 && h.entries[j].eds != eds && h.entries[j].edsNow != eds {
		j--
	}
	limit = min(limit, j)
	if limit < 0 {
		return 0
	}
	return h.entries[limit].rev
}
