package xds

import (
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// maxAckHistory bounds the published configurations remembered for
// acked_revision. An Envoy further behind than that reports 0 ("unknown"),
// which a UI shows as not current, the truth.
const maxAckHistory = 1024

// ackHistory maps the versions an Envoy ACKed back to a store revision, so
// that /clustering/data-planes can say which revision each Envoy runs and a
// client can tell when its write reached every Envoy.
//
// Versions of the snapshot types are content hashes (equal config, equal
// version); EDS versions are the LinearCache's prefix+counter, and a CLA
// upsert reaches every Envoy (each watches all CLAs of its clusters), so an
// Envoy holds every CLA of a configuration once it ACKed a counter at least
// that configuration's last upsert. CLA deletions are left out: an Envoy
// drops a cluster's CLA with the cluster and is never sent the deletion.
type ackHistory struct {
	edsPrefix string

	mu      sync.Mutex
	entries []publishedConfig // oldest first
}

// publishedConfig is one configuration the caches held.
type publishedConfig struct {
	// rev is the highest store revision published with exactly this
	// configuration (a no-op publish raises it).
	rev      uint64
	versions map[string]string // type URL → version, the snapshot types
	eds      uint64            // EDS counter after the last CLA upsert
}

// record notes that rev is published with versions (type URL → version)
// and the given EDS upsert counter.
func (h *ackHistory) record(rev uint64, versions map[string]string, eds uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.entries); n > 0 {
		last := &h.entries[n-1]
		if last.eds == eds && maps.Equal(last.versions, versions) {
			last.rev = max(last.rev, rev)
			return
		}
	}
	if len(h.entries) == maxAckHistory {
		h.entries = append(h.entries[:0], h.entries[1:]...)
	}
	h.entries = append(h.entries, publishedConfig{rev: rev, versions: maps.Clone(versions), eds: eds})
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
	var eds uint64
	if v, ok := strings.CutPrefix(acked[typeName(resourcev3.EndpointType)], h.edsPrefix); ok {
		eds, _ = strconv.ParseUint(v, 10, 64)
	}
	for limit >= 0 && h.entries[limit].eds > eds {
		limit--
	}
	if limit < 0 {
		return 0
	}
	return h.entries[limit].rev
}

// updateEDS is the one way the publisher changes the LinearCache, so that
// edsCount follows its version counter (UpdateResources raises it by one
// per call).
func (p *publisher) updateEDS(upd map[string]types.Resource, del []string) error {
	// The cache raises its counter before it can fail.
	p.edsCount++
	if len(upd) > 0 {
		p.edsUpserted = p.edsCount
	}
	return p.caches.eds.UpdateResources(upd, del)
}
