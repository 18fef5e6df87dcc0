package store

import "fmt"

// EndpointWatches returns two channels that close once, after this
// snapshot, a target of the upstream (targets) or one of its manual health
// overrides (health) is written or deleted. They are go-memdb watch
// channels on the upstream's prefix of the by-upstream indexes, so the xDS
// loop can tell which upstreams a commit touched without scanning every
// target: a target change then costs O(changed upstreams), not O(targets).
//
// A channel may also close for a neighbouring change (when the upstream has
// no rows, memdb watches the nearest existing node); callers treat a closed
// channel as "may have changed", never as proof.
//
// (Added for xds/: a read-only helper, kept in its own file.)
func (s *Snapshot) EndpointWatches(upstreamID string) (targets, health <-chan struct{}, err error) {
	it, err := s.txn.Get(tableTargets, indexUpstream, upstreamID)
	if err != nil {
		return nil, nil, fmt.Errorf("store: watch targets of %s: %w", upstreamID, err)
	}
	hit, err := s.txn.Get(tableTargetHealth, indexUpstream, upstreamID)
	if err != nil {
		return nil, nil, fmt.Errorf("store: watch target health of %s: %w", upstreamID, err)
	}
	return it.WatchCh(), hit.WatchCh(), nil
}

// SettleWatches returns once every commit visible to a Snapshot taken
// before the call has closed its watch channels. go-memdb publishes a
// commit's new root before it closes the channels of the nodes it replaced,
// so a reader that already sees revision N may, for a moment, still find
// N's channels open; EndpointWatches users call this between taking a
// Snapshot and checking their channels. It takes and releases the memdb
// writer lock (no write happens), waiting for a commit in progress.
func (s *Store) SettleWatches() {
	s.db.Txn(true).Abort()
}
