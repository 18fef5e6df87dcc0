package store

import (
	"fmt"

	memdb "github.com/hashicorp/go-memdb"
)

// Snapshot is a consistent read view of the store at one revision. Objects it
// returns are shared with the store and with other readers: never mutate
// them; copy first.
type Snapshot struct {
	txn      *memdb.Txn
	revision uint64
}

// Revision is the store revision this snapshot shows.
func (s *Snapshot) Revision() uint64 { return s.revision }

// TableIndex is the last revision that changed table (0 if never), so that
// a consumer can tell which tables moved between two snapshots.
func (s *Snapshot) TableIndex(table string) uint64 { return indexOf(s.txn, table) }

// first returns the single row of table matching index=args, or nil.
func first[T any](txn *memdb.Txn, table, index string, args ...any) (*T, error) {
	raw, err := txn.First(table, index, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s by %s: %w", table, index, err)
	}
	if raw == nil {
		return nil, nil
	}
	return raw.(*T), nil
}

// all collects every row of table matching index=args, in index order.
func all[T any](txn *memdb.Txn, table, index string, args ...any) ([]*T, error) {
	it, err := txn.Get(table, index, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", table, err)
	}
	var out []*T
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, raw.(*T))
	}
	return out, nil
}

// walkAfter calls fn for each row of table in id order whose id is greater
// than after, until fn returns false. It serves cursor pagination without
// materialising the whole table.
func walkAfter[T any](txn *memdb.Txn, table, after string, fn func(*T) bool) error {
	it, err := txn.LowerBound(table, indexID, after)
	if err != nil {
		return fmt.Errorf("store: walk %s: %w", table, err)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		row := raw.(*T)
		if after != "" && idOf(row) == after {
			continue
		}
		if !fn(row) {
			return nil
		}
	}
	return nil
}

func idOf(row any) string {
	switch r := row.(type) {
	case *Service:
		return r.ID
	case *Route:
		return r.ID
	case *Upstream:
		return r.ID
	case *Target:
		return r.ID
	}
	return ""
}
