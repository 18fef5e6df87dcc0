package translator

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/switchboard-gw/switchboard/store"
)

// TestIncremental_BulkMatchesTranslate is the property test for Updates
// that move many routes at once, which the route table takes out and
// places in one pass (routeTable.unplace, place) instead of one by one:
// batches of 80–300 route upserts and deletes over a few hundred ids, the
// hosts and paths of the one-by-one test (and once every route replaced by
// host-less ones), checked against Translate after every batch. Bounded:
// fixed seeds and batches.
func TestIncremental_BulkMatchesTranslate(t *testing.T) {
	const sequences, batches = 6, 8
	for seed := range uint64(sequences) {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			g, st := newMutated(t, seed, 0xb1)
			opts := Options{}
			if seed%2 == 1 {
				opts.ProxyTLSPort = 8443
			}
			inc := NewIncremental(opts)
			prev := st.Snapshot()
			if _, err := inc.Update(prev, g.dns, Changes{}); err != nil && !isEntityErrors(err) {
				t.Fatal(err)
			}
			for b := range batches {
				live := map[string]bool{} // deleting a missing route refuses the batch
				routes, err := prev.Routes()
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range routes {
					live[r.ID] = true
				}
				batch := &store.Mutation{Op: store.OpBatch}
				if b == batches/2 {
					// Every route goes and host-less ones come: the table
					// changes layout within one Update.
					for id := range live {
						batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpDeleteRoute, ID: id})
						delete(live, id)
					}
					for i := range 100 {
						r := g.route(prev)
						r.ID, r.Hosts = fmt.Sprintf("rb%d", 400+i), nil
						batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpUpsertRoute, Route: r})
					}
				}
				for range 80 + g.pick(220) {
					id := fmt.Sprintf("rb%d", g.pick(400))
					if live[id] && g.pick(4) == 0 {
						batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpDeleteRoute, ID: id})
						delete(live, id)
						continue
					}
					r := g.route(prev)
					r.ID, r.CreatedAt = id, int64(g.pick(1000))
					batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpUpsertRoute, Route: r})
					live[id] = true
				}
				if _, err := st.Apply(batch); err != nil {
					t.Fatalf("batch %d refused: %v", b, err)
				}
				snap := st.Snapshot()
				revs, err := snap.ChangesSince(prev.Revision())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := inc.Update(snap, g.dns, ChangesFromFeed(revs)); err != nil && !isEntityErrors(err) {
					t.Fatalf("batch %d: %v", b, err)
				}
				in, err := FromSnapshot(snap, g.dns, opts)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := Translate(in)
				if got := inc.Resources(); !sameResources(want, got) {
					t.Fatalf("batch %d: incremental differs from Translate (-full +incremental):\n%s", b, cmp.Diff(want, got, protocmp.Transform()))
				}
				prev = snap
			}
		})
	}
}
