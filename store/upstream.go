package store

import (
	memdb "github.com/hashicorp/go-memdb"
)

func upstreamTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableUpstreams,
		Indexes: map[string]*memdb.IndexSchema{
			indexID:   idIndex(),
			indexName: {Name: indexName, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}},
			indexTags: tagsIndex(),
		},
	}
}

// Upstreams returns every upstream in id order.
func (s *Snapshot) Upstreams() ([]*Upstream, error) {
	return all[Upstream](s.txn, tableUpstreams, indexID)
}

// WalkUpstreams visits upstreams with id > after in id order until fn is false.
func (s *Snapshot) WalkUpstreams(after string, fn func(*Upstream) bool) error {
	return walkAfter(s.txn, tableUpstreams, after, fn)
}

// UpstreamByID returns the upstream or nil.
func (s *Snapshot) UpstreamByID(id string) (*Upstream, error) {
	return first[Upstream](s.txn, tableUpstreams, indexID, id)
}

// UpstreamByName returns the upstream or nil.
func (s *Snapshot) UpstreamByName(name string) (*Upstream, error) {
	return first[Upstream](s.txn, tableUpstreams, indexName, name)
}

func (w *writer) upsertUpstream(u *Upstream, create bool) error {
	if u == nil || u.ID == "" || u.Name == "" {
		return ErrInvalidMutation
	}
	existing, err := first[Upstream](w.txn, tableUpstreams, indexID, u.ID)
	if err != nil {
		return err
	}
	if existing != nil && create {
		return &PrimaryKeyError{Entity: tableUpstreams, ID: u.ID}
	}
	other, err := first[Upstream](w.txn, tableUpstreams, indexName, u.Name)
	if err != nil {
		return err
	}
	if other != nil && other.ID != u.ID {
		return &UniqueError{Entity: tableUpstreams, Fields: []Field{{Name: "name", Value: u.Name}}}
	}
	cp := *u
	cp.CreateIndex, cp.ModifyIndex = w.index, w.index
	if existing != nil {
		cp.CreateIndex = existing.CreateIndex
		cp.CreatedAt = existing.CreatedAt
	}
	return w.insert(tableUpstreams, &cp)
}

// deleteUpstream cascades to the upstream's targets and their health
// overrides, as Kong does.
func (w *writer) deleteUpstream(id string) error {
	existing, err := first[Upstream](w.txn, tableUpstreams, indexID, id)
	if err != nil {
		return err
	}
	if existing == nil {
		return ErrNotFound
	}
	targets, err := all[Target](w.txn, tableTargets, indexUpstream, id)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if err := w.deleteTarget(t.ID); err != nil {
			return err
		}
	}
	return w.delete(tableUpstreams, existing)
}
