package store

import (
	"fmt"
)

// Dump is the whole store at one revision, in a form that serialises
// losslessly (the index fields that entity JSON hides travel beside each
// row). Raft snapshots, backups and restores use it.
type Dump struct {
	Revision     uint64                  `json:"revision"`
	Services     []DumpRow[Service]      `json:"services"`
	Routes       []DumpRow[Route]        `json:"routes"`
	Upstreams    []DumpRow[Upstream]     `json:"upstreams"`
	Targets      []DumpRow[Target]       `json:"targets"`
	TargetHealth []DumpRow[TargetHealth] `json:"target_health"`
}

// DumpRow is one entity with its store indexes.
type DumpRow[T any] struct {
	Entity      *T     `json:"entity"`
	CreateIndex uint64 `json:"create_index,omitempty"`
	ModifyIndex uint64 `json:"modify_index"`
}

// Dump copies out every table of the snapshot.
func (s *Snapshot) Dump() (*Dump, error) {
	d := &Dump{Revision: s.revision}
	var err error
	if d.Services, err = dumpRows[Service](s, tableServices, func(e *Service) (uint64, uint64) { return e.CreateIndex, e.ModifyIndex }); err != nil {
		return nil, err
	}
	if d.Routes, err = dumpRows[Route](s, tableRoutes, func(e *Route) (uint64, uint64) { return e.CreateIndex, e.ModifyIndex }); err != nil {
		return nil, err
	}
	if d.Upstreams, err = dumpRows[Upstream](s, tableUpstreams, func(e *Upstream) (uint64, uint64) { return e.CreateIndex, e.ModifyIndex }); err != nil {
		return nil, err
	}
	if d.Targets, err = dumpRows[Target](s, tableTargets, func(e *Target) (uint64, uint64) { return e.CreateIndex, e.ModifyIndex }); err != nil {
		return nil, err
	}
	if d.TargetHealth, err = dumpRows[TargetHealth](s, tableTargetHealth, func(e *TargetHealth) (uint64, uint64) { return 0, e.ModifyIndex }); err != nil {
		return nil, err
	}
	return d, nil
}

func dumpRows[T any](s *Snapshot, table string, idx func(*T) (uint64, uint64)) ([]DumpRow[T], error) {
	rows, err := all[T](s.txn, table, indexID)
	if err != nil {
		return nil, err
	}
	out := make([]DumpRow[T], 0, len(rows))
	for _, r := range rows {
		c, m := idx(r)
		out = append(out, DumpRow[T]{Entity: r, CreateIndex: c, ModifyIndex: m})
	}
	return out, nil
}

// Restore replaces the whole store with d in one transaction, so readers see
// either the old state or the new one. The revision becomes max(d.Revision,
// index) so that it never moves backwards for watchers.
func (s *Store) Restore(index uint64, d *Dump) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	txn := s.db.Txn(true)
	defer txn.Abort()
	for _, t := range append([]string{tableIndex}, Tables...) {
		if _, err := txn.DeleteAll(t, indexID); err != nil {
			return fmt.Errorf("store: restore: clear %s: %w", t, err)
		}
	}
	for _, r := range d.Services {
		e := *r.Entity
		e.CreateIndex, e.ModifyIndex = r.CreateIndex, r.ModifyIndex
		if err := txn.Insert(tableServices, &e); err != nil {
			return fmt.Errorf("store: restore services: %w", err)
		}
	}
	for _, r := range d.Routes {
		e := *r.Entity
		e.CreateIndex, e.ModifyIndex = r.CreateIndex, r.ModifyIndex
		if err := txn.Insert(tableRoutes, &e); err != nil {
			return fmt.Errorf("store: restore routes: %w", err)
		}
	}
	for _, r := range d.Upstreams {
		e := *r.Entity
		e.CreateIndex, e.ModifyIndex = r.CreateIndex, r.ModifyIndex
		if err := txn.Insert(tableUpstreams, &e); err != nil {
			return fmt.Errorf("store: restore upstreams: %w", err)
		}
	}
	for _, r := range d.Targets {
		e := *r.Entity
		e.CreateIndex, e.ModifyIndex = r.CreateIndex, r.ModifyIndex
		if err := txn.Insert(tableTargets, &e); err != nil {
			return fmt.Errorf("store: restore targets: %w", err)
		}
	}
	for _, r := range d.TargetHealth {
		e := *r.Entity
		e.ModifyIndex = r.ModifyIndex
		if err := txn.Insert(tableTargetHealth, &e); err != nil {
			return fmt.Errorf("store: restore target health: %w", err)
		}
	}
	rev := max(d.Revision, index)
	// Every table counts as changed: the restored content may differ from
	// what consumers built from.
	for _, t := range Tables {
		if err := txn.Insert(tableIndex, &IndexEntry{Key: t, Value: rev}); err != nil {
			return fmt.Errorf("store: restore index: %w", err)
		}
	}
	if err := txn.Insert(tableIndex, &IndexEntry{Key: revisionKey, Value: rev}); err != nil {
		return fmt.Errorf("store: restore revision: %w", err)
	}
	txn.Commit()
	return nil
}
