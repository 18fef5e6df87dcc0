package store

import (
	memdb "github.com/hashicorp/go-memdb"
)

const indexTargetID = "target_id"

func targetHealthTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableTargetHealth,
		Indexes: map[string]*memdb.IndexSchema{
			indexID:       {Name: indexID, Unique: true, Indexer: funcIndex{key: func(o any) string { return o.(*TargetHealth).Key() }}},
			indexTargetID: {Name: indexTargetID, Indexer: &memdb.StringFieldIndex{Field: "TargetID"}},
			indexUpstream: {Name: indexUpstream, Indexer: &memdb.StringFieldIndex{Field: "UpstreamID"}},
		},
	}
}

// TargetHealth returns every manual health override.
func (s *Snapshot) TargetHealth() ([]*TargetHealth, error) {
	return all[TargetHealth](s.txn, tableTargetHealth, indexID)
}

// TargetHealthByUpstream returns the overrides of one upstream's targets.
func (s *Snapshot) TargetHealthByUpstream(upstreamID string) ([]*TargetHealth, error) {
	return all[TargetHealth](s.txn, tableTargetHealth, indexUpstream, upstreamID)
}

// setTargetHealth records a manual override. Setting the whole target ("")
// clears per-address overrides, since the newer, wider statement wins.
func (w *writer) setTargetHealth(h *TargetHealth) error {
	if h == nil || h.TargetID == "" {
		return ErrInvalidMutation
	}
	t, err := first[Target](w.txn, tableTargets, indexID, h.TargetID)
	if err != nil {
		return err
	}
	if t == nil {
		return ErrNotFound
	}
	if h.Address == "" {
		if err := w.deleteTargetHealth(h.TargetID); err != nil {
			return err
		}
	}
	cp := *h
	cp.UpstreamID = t.Upstream.ID
	cp.ModifyIndex = w.index
	return w.insert(tableTargetHealth, &cp)
}

func (w *writer) deleteTargetHealth(targetID string) error {
	rows, err := all[TargetHealth](w.txn, tableTargetHealth, indexTargetID, targetID)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := w.delete(tableTargetHealth, r); err != nil {
			return err
		}
	}
	return nil
}
