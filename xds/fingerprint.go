package xds

import (
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/switchboard-gw/switchboard/store"
)

// endpointTables are the store tables whose rows only shape
// ClusterLoadAssignments (Translator.Endpoints' contract). A commit that
// touches nothing else takes the endpoints-only path; any other table,
// including one added later, means a full translation.
var endpointTables = map[string]bool{"targets": true, "target_health": true}

// tableIndexes records the last revision that changed each store table, to
// tell later which tables moved.
func tableIndexes(snap *store.Snapshot) map[string]uint64 {
	out := make(map[string]uint64, len(store.Tables))
	for _, t := range store.Tables {
		out[t] = snap.TableIndex(t)
	}
	return out
}

// changedTables compares two tableIndexes results.
func changedTables(before, after map[string]uint64) (structural, endpoints bool) {
	for t, idx := range after {
		if before[t] == idx {
			continue
		}
		if endpointTables[t] {
			endpoints = true
		} else {
			structural = true
		}
	}
	return structural, endpoints
}

// upstreamFingerprints summarises, per upstream id, its targets and health
// overrides: an XOR of one hash per row over (id, ModifyIndex). Any write
// to a row moves its ModifyIndex, and an added or deleted row adds or
// removes a term, so comparing two maps finds the upstreams whose endpoints
// may have changed, deletions included, in one pass over the rows with no
// proto work. The store keeps no tombstones, so this is how deletes show.
func upstreamFingerprints(snap *store.Snapshot) (map[string]uint64, error) {
	targets, err := snap.Targets()
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	health, err := snap.TargetHealth()
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	out := make(map[string]uint64, len(targets)/4+1)
	for _, t := range targets {
		out[t.Upstream.ID] ^= rowHash("t", t.ID, t.ModifyIndex)
	}
	for _, h := range health {
		out[h.UpstreamID] ^= rowHash("h", h.Key(), h.ModifyIndex)
	}
	return out, nil
}

// rowHash mixes a row's identity and revision (FNV-1a, then SplitMix64's
// finaliser so that neighbouring revisions land far apart).
func rowHash(kind, id string, index uint64) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(kind))
	_, _ = h.Write([]byte(id))
	x := h.Sum64() ^ (index * 0x9e3779b97f4a7c15)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// changedUpstreams lists, sorted, the upstream ids whose fingerprint
// differs between two maps (an absent id counts as 0: no rows).
func changedUpstreams(before, after map[string]uint64) []string {
	var out []string
	for id, fp := range after {
		if before[id] != fp {
			out = append(out, id)
		}
	}
	for id, fp := range before {
		if _, ok := after[id]; !ok && fp != 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
