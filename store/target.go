package store

import "errors"

// targetKind: (upstream, target) is unique; the upstream is required and
// cascades. A target only shapes its upstream's endpoints.
var targetKind = &Kind{
	Table: tableTargets,
	New:   func() Row { return new(Target) },
	Validate: func(r Row) error {
		if r.(*Target).Target == "" {
			return errors.New("target is required")
		}
		return nil
	},
	Unique: []UniqueKey{{Name: indexTarget, Fields: []string{"upstream", "target"}, Values: func(r Row) []any {
		t := r.(*Target)
		return []any{t.Upstream, t.Target}
	}}},
	Refs: []Ref{{Field: indexUpstream, Table: tableUpstreams, OnDelete: Cascade,
		IDs: func(r Row) []string { return []string{r.(*Target).Upstream.ID} }}},
	Tagged:        true,
	EndpointsOnly: true,
	// A target that moves to another address or upstream loses the manual
	// overrides that named its old addresses.
	beforeUpsert: func(w *writer, old, row Row) error {
		if old == nil {
			return nil
		}
		o, t := old.(*Target), row.(*Target)
		if o.Target != t.Target || o.Upstream.ID != t.Upstream.ID {
			return w.deleteReferencing(w.reg.byTable[tableTargetHealth], refTarget, t.ID)
		}
		return nil
	},
}

// Targets returns every target in id order.
func (s *Snapshot) Targets() ([]*Target, error) { return all[Target](s.txn, tableTargets, indexID) }

// WalkTargets visits targets with id > after in id order until fn is false.
func (s *Snapshot) WalkTargets(after string, fn func(*Target) bool) error {
	return walkAfter(s.txn, targetKind, after, fn)
}

// TargetsByUpstream returns the targets of one upstream (unordered by time;
// callers sort newest first as Kong does).
func (s *Snapshot) TargetsByUpstream(upstreamID string) ([]*Target, error) {
	return all[Target](s.txn, tableTargets, indexUpstream, upstreamID)
}

// TargetByID returns the target or nil.
func (s *Snapshot) TargetByID(id string) (*Target, error) {
	return first[Target](s.txn, tableTargets, indexID, id)
}

// TargetByAddress returns the target of upstreamID whose normalised
// host:port equals target, or nil.
func (s *Snapshot) TargetByAddress(upstreamID, target string) (*Target, error) {
	return first[Target](s.txn, tableTargets, indexTarget, mustKey(upstreamID, target))
}
