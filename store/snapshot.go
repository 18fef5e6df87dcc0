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
	reg      *registry
	feed     *changeFeed
	revision uint64
}

// Revision is the store revision this snapshot shows.
func (s *Snapshot) Revision() uint64 { return s.revision }

// TableIndex is the last revision that changed table (0 if never), so that
// a consumer can tell which tables moved between two snapshots.
func (s *Snapshot) TableIndex(table string) uint64 { return indexOf(s.txn, table) }

// The generic reads below serve every kind by table name; the typed getters
// of each entity file are one-liners over the same helpers.

func (s *Snapshot) kind(table string) (*Kind, error) {
	if k := s.reg.byTable[table]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("store: unknown table %q", table)
}

// Get returns the row of table with primary key id, or nil.
func (s *Snapshot) Get(table, id string) (Row, error) {
	if _, err := s.kind(table); err != nil {
		return nil, err
	}
	return firstRow(s.txn, table, indexID, id)
}

// GetUnique returns the row of table holding the unique key named key
// (UniqueKey.Name) with values, or nil. Foreign keys may be given as ids.
func (s *Snapshot) GetUnique(table, key string, values ...any) (Row, error) {
	k, err := s.kind(table)
	if err != nil {
		return nil, err
	}
	u := k.uniqueByName[key]
	if u == nil {
		return nil, fmt.Errorf("store: %s has no unique key %q", table, key)
	}
	return getUnique(s.txn, k, u, values)
}

// List returns every row of table in id order.
func (s *Snapshot) List(table string) ([]Row, error) {
	if _, err := s.kind(table); err != nil {
		return nil, err
	}
	return allRows(s.txn, table, indexID)
}

// ListReferencing returns the rows of table whose reference field (a
// Ref.Field: "service") holds id, in id order.
func (s *Snapshot) ListReferencing(table, field, id string) ([]Row, error) {
	k, err := s.kind(table)
	if err != nil {
		return nil, err
	}
	for _, r := range k.Refs {
		if r.Field == field {
			return allRows(s.txn, table, field, id)
		}
	}
	return nil, fmt.Errorf("store: %s has no reference %q", table, field)
}

// Walk visits the rows of table with id > after in id order until fn
// returns false: cursor pagination without materialising the table.
func (s *Snapshot) Walk(table, after string, fn func(Row) bool) error {
	k, err := s.kind(table)
	if err != nil {
		return err
	}
	return walkAfter(s.txn, k, after, fn)
}

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

// firstRow and allRows are first and all for any kind.
func firstRow(txn *memdb.Txn, table, index string, args ...any) (Row, error) {
	raw, err := txn.First(table, index, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s by %s: %w", table, index, err)
	}
	return raw, nil
}

func allRows(txn *memdb.Txn, table, index string, args ...any) ([]Row, error) {
	it, err := txn.Get(table, index, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", table, err)
	}
	var out []Row
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, raw)
	}
	return out, nil
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

// walkAfter calls fn for each row of the kind in id order whose id is
// greater than after, until fn returns false.
func walkAfter[T any](txn *memdb.Txn, k *Kind, after string, fn func(T) bool) error {
	it, err := txn.LowerBound(k.Table, indexID, after)
	if err != nil {
		return fmt.Errorf("store: walk %s: %w", k.Table, err)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if after != "" && k.RowID(raw) == after {
			continue
		}
		if !fn(raw.(T)) {
			return nil
		}
	}
	return nil
}
