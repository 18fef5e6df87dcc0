package store

import (
	"errors"
	"fmt"

	memdb "github.com/hashicorp/go-memdb"
)

// refTarget is target health's reference to its target.
const refTarget = "target"

// targetHealthKind keys a manual override by (target, address); deleting
// the target drops them. UpstreamID is copied from the target on write, for
// the by-upstream index that the xDS loop watches.
var targetHealthKind = &Kind{
	Table: tableTargetHealth,
	New:   func() Row { return new(TargetHealth) },
	ID:    func(r Row) string { return r.(*TargetHealth).Key() },
	Validate: func(r Row) error {
		if r.(*TargetHealth).TargetID == "" {
			return errors.New("target_id is required")
		}
		return nil
	},
	Refs: []Ref{{Field: refTarget, Table: tableTargets, OnDelete: Cascade,
		IDs: func(r Row) []string { return []string{r.(*TargetHealth).TargetID} }}},
	Indexes: []*memdb.IndexSchema{
		{Name: indexUpstream, Indexer: &memdb.StringFieldIndex{Field: "UpstreamID"}},
	},
	EndpointsOnly: true,
	// An override names an existing target (ErrNotFound otherwise: the
	// Admin API's 404), and setting the whole target ("") clears its
	// per-address overrides, since the newer, wider statement wins.
	beforeUpsert: func(w *writer, _, row Row) error {
		h := row.(*TargetHealth)
		t, err := first[Target](w.txn, tableTargets, indexID, h.TargetID)
		if err != nil {
			return err
		}
		if t == nil {
			return ErrNotFound
		}
		h.UpstreamID = t.Upstream.ID
		if h.Address == "" {
			return w.deleteReferencing(w.reg.byTable[tableTargetHealth], refTarget, h.TargetID)
		}
		return nil
	},
	restoreCheck: func(txn *memdb.Txn, row Row) error {
		h := row.(*TargetHealth)
		t, err := first[Target](txn, tableTargets, indexID, h.TargetID)
		if err != nil || t == nil || t.Upstream.ID == h.UpstreamID {
			return err
		}
		return fmt.Errorf("upstream_id %q is not its target's upstream %q", h.UpstreamID, t.Upstream.ID)
	},
}

// TargetHealth returns every manual health override.
func (s *Snapshot) TargetHealth() ([]*TargetHealth, error) {
	return all[TargetHealth](s.txn, tableTargetHealth, indexID)
}

// TargetHealthByUpstream returns the overrides of one upstream's targets.
func (s *Snapshot) TargetHealthByUpstream(upstreamID string) ([]*TargetHealth, error) {
	return all[TargetHealth](s.txn, tableTargetHealth, indexUpstream, upstreamID)
}
