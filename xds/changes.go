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

// endpointChanges finds the upstreams whose ClusterLoadAssignments a
// commit may have changed, without a scan over every target: the store
// keeps no tombstones, and a scan would make a one-target change
// O(targets).
//
//   - Targets: one go-memdb watch channel per upstream on its prefix of the
//     targets-by-upstream index (store.Snapshot.EndpointWatches). Writes,
//     deletes and moves between upstreams close it. An upstream with no
//     targets watches the nearest existing node, so it may fire for a
//     neighbour's change: that costs one CLA rebuild that hashes equal and
//     is not pushed.
//   - Manual health overrides: few rows, so a per-upstream fingerprint of
//     the table (XOR of one hash per row over its key and ModifyIndex),
//     recomputed only when the table's index moved. Watches would fire for
//     every upstream without overrides, i.e. nearly all of them.
type endpointChanges struct {
	names       map[string]string          // upstream id → name
	targets     map[string]<-chan struct{} // by upstream id
	health      map[string]uint64          // by upstream id
	healthIndex uint64                     // target_health table index of health

	// pendingHealth is what changed computed, adopted by commit.
	pendingHealth      map[string]uint64
	pendingHealthIndex uint64
}

const healthTable = "target_health"

// watchEndpoints arms watches for every upstream of snap (after a full
// publish).
func watchEndpoints(snap *store.Snapshot) (*endpointChanges, error) {
	ups, err := snap.Upstreams()
	if err != nil {
		return nil, fmt.Errorf("endpoint watches: %w", err)
	}
	c := &endpointChanges{names: make(map[string]string, len(ups)), targets: make(map[string]<-chan struct{}, len(ups))}
	for _, u := range ups {
		c.names[u.ID] = u.Name
		if err := c.arm(snap, u.ID); err != nil {
			return nil, err
		}
	}
	if c.health, err = healthFingerprints(snap); err != nil {
		return nil, err
	}
	c.healthIndex = snap.TableIndex(healthTable)
	return c, nil
}

func (c *endpointChanges) arm(snap *store.Snapshot, id string) error {
	t, _, err := snap.EndpointWatches(id)
	if err != nil {
		return fmt.Errorf("endpoint watches: %w", err)
	}
	c.targets[id] = t
	return nil
}

// changed lists, sorted, the upstreams whose targets or health overrides
// may differ in snap from what was last committed.
func (c *endpointChanges) changed(snap *store.Snapshot) ([]string, error) {
	set := map[string]bool{}
	for id, ch := range c.targets {
		if closed(ch) {
			set[id] = true
		}
	}
	c.pendingHealth, c.pendingHealthIndex = c.health, c.healthIndex
	if idx := snap.TableIndex(healthTable); idx != c.healthIndex {
		fp, err := healthFingerprints(snap)
		if err != nil {
			return nil, err
		}
		for id, v := range fp {
			if c.health[id] != v {
				set[id] = true
			}
		}
		for id := range c.health {
			if _, ok := fp[id]; !ok {
				set[id] = true
			}
		}
		c.pendingHealth, c.pendingHealthIndex = fp, idx
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// commit records that ids were rebuilt from snap: fresh watches from snap
// (a later commit closes them at once and is seen next time) and the health
// fingerprint changed computed. Until commit, a failed publish is retried.
func (c *endpointChanges) commit(snap *store.Snapshot, ids []string) error {
	for _, id := range ids {
		if err := c.arm(snap, id); err != nil {
			return err
		}
	}
	c.health, c.healthIndex = c.pendingHealth, c.pendingHealthIndex
	return nil
}

// healthFingerprints summarises each upstream's health overrides.
func healthFingerprints(snap *store.Snapshot) (map[string]uint64, error) {
	rows, err := snap.TargetHealth()
	if err != nil {
		return nil, fmt.Errorf("health fingerprints: %w", err)
	}
	out := map[string]uint64{}
	for _, h := range rows {
		out[h.UpstreamID] ^= rowHash(h.Key(), h.ModifyIndex)
	}
	return out, nil
}

// rowHash mixes a row's key and revision (FNV-1a, then SplitMix64's
// finaliser so that neighbouring revisions land far apart).
func rowHash(key string, index uint64) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	x := h.Sum64() ^ (index * 0x9e3779b97f4a7c15)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
