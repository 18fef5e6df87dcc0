package store

import (
	"errors"
	"fmt"

	memdb "github.com/hashicorp/go-memdb"
)

// writer carries one write transaction and the tables it changed.
type writer struct {
	txn     *memdb.Txn
	reg     *registry
	index   uint64
	touched map[string]bool
	// lenient are referenced tables whose missing ids are kept rather than
	// refused: data written before the table existed (tlsLenient).
	lenient map[string]bool
}

// upsert writes row as the kind's row with that id, in Kong's order of
// checks: primary key (create only), unique keys, references. It owns a
// copy of row, stamps the store indexes and keeps the creation time and
// index of the row it replaces. by, when set, names a unique key: a row
// already holding that key is updated in place (its id wins), so that
// "create or update by name" is one transaction.
func (w *writer) upsert(k *Kind, in Row, create bool, by string) error {
	if !k.owns(in) {
		return fmt.Errorf("%w: %s upsert needs a *%s, got %T", ErrInvalidMutation, k.Table, k.typ.Name(), in)
	}
	if k.Validate != nil {
		if err := k.Validate(in); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalidMutation, k.Table, err)
		}
	}
	row := k.clone(in)
	if by != "" {
		if err := w.adoptID(k, row, by); err != nil {
			return err
		}
	}
	id := k.RowID(row)
	if id == "" {
		return fmt.Errorf("%w: %s upsert without an id", ErrInvalidMutation, k.Table)
	}
	old, err := w.get(k, id)
	if err != nil {
		return err
	}
	if old != nil && create {
		return &PrimaryKeyError{Entity: k.Table, ID: id}
	}
	if k.beforeUpsert != nil {
		if err := k.beforeUpsert(w, old, row); err != nil {
			return err
		}
	}
	if err := w.checkUnique(k, row, id); err != nil {
		return err
	}
	if err := w.checkRefs(k, row); err != nil {
		return err
	}
	k.setIndexes(row, w.index, w.index)
	if old != nil {
		c, _ := k.indexes(old)
		k.setIndexes(row, c, w.index)
		k.keepCreated(row, old)
	}
	return w.insert(k.Table, row)
}

// adoptID gives row the id of the row that already holds its unique key by.
func (w *writer) adoptID(k *Kind, row Row, by string) error {
	u := k.uniqueByName[by]
	if u == nil {
		return fmt.Errorf("%w: %s has no unique key %q", ErrInvalidMutation, k.Table, by)
	}
	vals := u.Values(row)
	if vals == nil {
		return fmt.Errorf("%w: %s upsert by %s without a value", ErrInvalidMutation, k.Table, by)
	}
	other, err := w.getUnique(k, u, vals)
	if err != nil || other == nil {
		return err
	}
	if k.fID == nil {
		return fmt.Errorf("%w: %s: upsert by %s needs an ID field", ErrInvalidMutation, k.Table, by)
	}
	setField(row, k.fID, k.RowID(other))
	return nil
}

func (w *writer) checkUnique(k *Kind, row Row, id string) error {
	for i := range k.Unique {
		u := &k.Unique[i]
		vals := u.Values(row)
		if vals == nil {
			continue
		}
		other, err := w.getUnique(k, u, vals)
		if err != nil {
			return err
		}
		if other != nil && k.RowID(other) != id {
			ue := &UniqueError{Entity: k.Table}
			for j, f := range u.Fields {
				ue.Fields = append(ue.Fields, Field{Name: f, Value: errorValue(vals[j])})
			}
			return ue
		}
	}
	return nil
}

func (w *writer) checkRefs(k *Kind, row Row) error {
	for _, ref := range k.Refs {
		to := w.reg.byTable[ref.Table]
		for _, id := range ref.IDs(row) {
			if id == "" {
				continue
			}
			got, err := w.get(to, id)
			if err != nil {
				return err
			}
			if got == nil && !w.lenient[ref.Table] {
				return &ForeignKeyError{Field: ref.Field, Entity: ref.Table, ID: id}
			}
		}
	}
	return nil
}

// delete removes the kind's row id with everything that references it
// through Cascade, recursively; then, if any Restrict reference still
// points at a removed row, it refuses the whole delete. Removing the
// closure first makes the outcome independent of the order of the kinds
// (a row reached by two cascades is removed once).
func (w *writer) delete(k *Kind, id string) error {
	old, err := w.get(k, id)
	if err != nil {
		return err
	}
	if old == nil {
		return ErrNotFound
	}
	var gone []removed
	if err := w.cascade(k, old, &gone); err != nil {
		return err
	}
	for _, g := range gone {
		for _, b := range w.reg.refsTo[g.kind.Table] {
			if b.ref.OnDelete != Restrict {
				continue
			}
			ref, err := firstRow(w.txn, b.from.Table, b.ref.Field, g.id)
			if err != nil {
				return err
			}
			if ref != nil {
				return &ReferencedError{Entity: g.kind.Table, ReferencedBy: b.from.Table, ID: g.id, ReferrerID: b.from.RowID(ref)}
			}
		}
	}
	return nil
}

type removed struct {
	kind *Kind
	id   string
}

func (w *writer) cascade(k *Kind, row Row, gone *[]removed) error {
	id := k.RowID(row)
	if err := w.remove(k.Table, row); err != nil {
		return err
	}
	*gone = append(*gone, removed{k, id})
	for _, b := range w.reg.refsTo[k.Table] {
		if b.ref.OnDelete != Cascade {
			continue
		}
		rows, err := allRows(w.txn, b.from.Table, b.ref.Field, id)
		if err != nil {
			return err
		}
		for _, r := range rows {
			still, err := w.get(b.from, b.from.RowID(r))
			if err != nil {
				return err
			}
			if still != nil {
				if err := w.cascade(b.from, still, gone); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// deleteReferencing deletes every row of k whose reference field holds id.
func (w *writer) deleteReferencing(k *Kind, field, id string) error {
	rows, err := allRows(w.txn, k.Table, field, id)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := w.delete(k, k.RowID(r)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

func (w *writer) get(k *Kind, id string) (Row, error) {
	return firstRow(w.txn, k.Table, indexID, id)
}

func (w *writer) getUnique(k *Kind, u *UniqueKey, vals []any) (Row, error) {
	return getUnique(w.txn, k, u, vals)
}

func getUnique(txn *memdb.Txn, k *Kind, u *UniqueKey, vals []any) (Row, error) {
	key, err := uniqueKey(vals)
	if err != nil {
		return nil, err
	}
	return firstRow(txn, k.Table, u.Name, key)
}

// stamp records the new revision store-wide and for each touched table.
func (w *writer) stamp() error {
	for table := range w.touched {
		if err := w.txn.Insert(tableIndex, &IndexEntry{Key: table, Value: w.index}); err != nil {
			return fmt.Errorf("store: index %s: %w", table, err)
		}
	}
	if err := w.txn.Insert(tableIndex, &IndexEntry{Key: revisionKey, Value: w.index}); err != nil {
		return fmt.Errorf("store: revision: %w", err)
	}
	return nil
}

func (w *writer) insert(table string, obj any) error {
	if err := w.txn.Insert(table, obj); err != nil {
		return fmt.Errorf("store: insert %s: %w", table, err)
	}
	w.touched[table] = true
	return nil
}

func (w *writer) remove(table string, obj any) error {
	if err := w.txn.Delete(table, obj); err != nil {
		return fmt.Errorf("store: delete %s: %w", table, err)
	}
	w.touched[table] = true
	return nil
}
