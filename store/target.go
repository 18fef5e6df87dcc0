package store

import (
	memdb "github.com/hashicorp/go-memdb"
)

func targetTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableTargets,
		Indexes: map[string]*memdb.IndexSchema{
			indexID:       idIndex(),
			indexUpstream: {Name: indexUpstream, Indexer: funcIndex{key: func(o any) string { return o.(*Target).Upstream.ID }}},
			indexTarget: {Name: indexTarget, Unique: true, Indexer: &memdb.CompoundIndex{Indexes: []memdb.Indexer{
				funcIndex{key: func(o any) string { return o.(*Target).Upstream.ID }},
				&memdb.StringFieldIndex{Field: "Target"},
			}}},
			indexTags: tagsIndex(),
		},
	}
}

// Targets returns every target in id order.
func (s *Snapshot) Targets() ([]*Target, error) {
	return all[Target](s.txn, tableTargets, indexID)
}

// WalkTargets visits targets with id > after in id order until fn is false.
func (s *Snapshot) WalkTargets(after string, fn func(*Target) bool) error {
	return walkAfter(s.txn, tableTargets, after, fn)
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
	return first[Target](s.txn, tableTargets, indexTarget, upstreamID, target)
}

func (w *writer) upsertTarget(t *Target, create bool) error {
	if t == nil || t.ID == "" || t.Target == "" {
		return ErrInvalidMutation
	}
	existing, err := first[Target](w.txn, tableTargets, indexID, t.ID)
	if err != nil {
		return err
	}
	if existing != nil && create {
		return &PrimaryKeyError{Entity: tableTargets, ID: t.ID}
	}
	up, err := first[Upstream](w.txn, tableUpstreams, indexID, t.Upstream.ID)
	if err != nil {
		return err
	}
	if up == nil {
		return &ForeignKeyError{Field: "upstream", Entity: tableUpstreams, ID: t.Upstream.ID}
	}
	other, err := first[Target](w.txn, tableTargets, indexTarget, t.Upstream.ID, t.Target)
	if err != nil {
		return err
	}
	if other != nil && other.ID != t.ID {
		return &UniqueError{Entity: tableTargets, Fields: []Field{
			{Name: "upstream", Value: ForeignKey{ID: t.Upstream.ID}},
			{Name: "target", Value: t.Target},
		}}
	}
	cp := *t
	cp.CreateIndex, cp.ModifyIndex = w.index, w.index
	if existing != nil {
		cp.CreateIndex = existing.CreateIndex
		cp.CreatedAt = existing.CreatedAt
		// A target that moves to another address or upstream loses the
		// manual overrides that named its old addresses.
		if existing.Target != t.Target || existing.Upstream.ID != t.Upstream.ID {
			if err := w.deleteTargetHealth(t.ID); err != nil {
				return err
			}
		}
	}
	return w.insert(tableTargets, &cp)
}

func (w *writer) deleteTarget(id string) error {
	existing, err := first[Target](w.txn, tableTargets, indexID, id)
	if err != nil {
		return err
	}
	if existing == nil {
		return ErrNotFound
	}
	if err := w.deleteTargetHealth(id); err != nil {
		return err
	}
	return w.delete(tableTargets, existing)
}
