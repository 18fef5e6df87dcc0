package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	memdb "github.com/hashicorp/go-memdb"
)

// Dump is the whole store at one revision, in a form that serialises
// losslessly (the index fields that entity JSON hides travel beside each
// row). Raft snapshots, backups and restores use it. Its JSON is
// {"revision": N, "<table>": [rows…], …} with the tables in registry order,
// the shape every release has written.
type Dump struct {
	Revision uint64
	// Tables holds each table's rows in id order. A Dump decoded from JSON
	// holds each Entity as its raw JSON until Restore decodes it through the
	// registry.
	Tables map[string][]DumpRow

	order []string // table order for MarshalJSON
}

// DumpRow is one entity with its store indexes.
type DumpRow struct {
	Entity      Row    `json:"entity"`
	CreateIndex uint64 `json:"create_index,omitempty"`
	ModifyIndex uint64 `json:"modify_index"`
}

// Dump copies out every table of the snapshot.
func (s *Snapshot) Dump() (*Dump, error) {
	d := &Dump{Revision: s.revision, Tables: map[string][]DumpRow{}, order: s.reg.tables()}
	for _, k := range s.reg.kinds {
		rows, err := allRows(s.txn, k.Table, indexID)
		if err != nil {
			return nil, err
		}
		out := make([]DumpRow, 0, len(rows))
		for _, r := range rows {
			c, m := k.indexes(r)
			out = append(out, DumpRow{Entity: r, CreateIndex: c, ModifyIndex: m})
		}
		d.Tables[k.Table] = out
	}
	return d, nil
}

// MarshalJSON writes the revision, then each table in order (the
// registry's, then any others sorted).
func (d *Dump) MarshalJSON() ([]byte, error) {
	order := d.order
	if order == nil {
		order = kinds.tables()
	}
	var extra []string
	for t := range d.Tables {
		if !slices.Contains(order, t) {
			extra = append(extra, t)
		}
	}
	slices.Sort(extra)
	var b bytes.Buffer
	b.WriteString(`{"revision":`)
	b.WriteString(strconv.FormatUint(d.Revision, 10))
	for _, t := range append(slices.Clip(order), extra...) {
		rows := d.Tables[t]
		if rows == nil {
			rows = []DumpRow{}
		}
		raw, err := json.Marshal(rows)
		if err != nil {
			return nil, fmt.Errorf("store: dump %s: %w", t, err)
		}
		name, _ := json.Marshal(t)
		b.WriteByte(',')
		b.Write(name)
		b.WriteByte(':')
		b.Write(raw)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads any tables; Restore refuses the ones it does not know,
// so that nothing in a dump is silently dropped.
func (d *Dump) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	*d = Dump{Tables: map[string][]DumpRow{}}
	for key, raw := range top {
		if key == "revision" {
			if err := json.Unmarshal(raw, &d.Revision); err != nil {
				return fmt.Errorf("dump revision: %w", err)
			}
			continue
		}
		var rows []struct {
			Entity      json.RawMessage `json:"entity"`
			CreateIndex uint64          `json:"create_index"`
			ModifyIndex uint64          `json:"modify_index"`
		}
		if err := json.Unmarshal(raw, &rows); err != nil {
			return fmt.Errorf("dump %s: %w", key, err)
		}
		out := make([]DumpRow, 0, len(rows))
		for _, r := range rows {
			out = append(out, DumpRow{Entity: r.Entity, CreateIndex: r.CreateIndex, ModifyIndex: r.ModifyIndex})
		}
		d.Tables[key] = out
	}
	return nil
}

// ErrInvalidDump is wrapped by every RestoreError: the dump was refused as
// a whole and the store is unchanged.
var ErrInvalidDump = errors.New("invalid dump")

// RestoreError names the first row that made Restore refuse a dump. Err is
// the reason: a null or undecodable row, a duplicate id, a *UniqueError, a
// *ForeignKeyError, or a table the store does not know (Row -1).
type RestoreError struct {
	Table string
	Row   int // index in the dump's table
	ID    string
	Err   error
}

func (e *RestoreError) Error() string {
	if e.Row < 0 {
		return fmt.Sprintf("store: restore refused: table %q: %v", e.Table, e.Err)
	}
	return fmt.Sprintf("store: restore refused: %s row %d (id %q): %v", e.Table, e.Row, e.ID, e.Err)
}

func (e *RestoreError) Unwrap() []error { return []error{ErrInvalidDump, e.Err} }

// Restore replaces the whole store with d in one transaction, so readers see
// either the old state or the new one. The revision becomes max(d.Revision,
// index) so that it never moves backwards for watchers. A dump that breaks
// any rule a write would have to obey (a null row, a duplicate id or unique
// key, a dangling reference, an unknown table) is refused as a whole with a
// *RestoreError, and nothing changes.
func (s *Store) Restore(index uint64, d *Dump) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	txn := s.db.Txn(true)
	defer txn.Abort()
	for t := range d.Tables {
		if s.reg.byTable[t] == nil {
			return &RestoreError{Table: t, Row: -1, Err: errors.New("unknown table")}
		}
	}
	if _, err := txn.DeleteAll(tableIndex, indexID); err != nil {
		return fmt.Errorf("store: restore: clear %s: %w", tableIndex, err)
	}
	for _, k := range s.reg.kinds {
		if _, err := txn.DeleteAll(k.Table, indexID); err != nil {
			return fmt.Errorf("store: restore: clear %s: %w", k.Table, err)
		}
	}
	type restored struct {
		k   *Kind
		i   int
		row Row
	}
	var rows []restored
	for _, k := range s.reg.kinds {
		for i, r := range d.Tables[k.Table] {
			row, err := k.restoreRow(txn, r)
			if err != nil {
				id := ""
				if row != nil {
					id = k.RowID(row)
				}
				return &RestoreError{Table: k.Table, Row: i, ID: id, Err: err}
			}
			if err := txn.Insert(k.Table, row); err != nil {
				return fmt.Errorf("store: restore %s: %w", k.Table, err)
			}
			rows = append(rows, restored{k, i, row})
		}
	}
	// References last: a row may name one that comes later in the dump.
	w := &writer{txn: txn, reg: s.reg, lenient: lenientFor(d)}
	for _, r := range rows {
		if err := w.checkRefs(r.k, r.row); err != nil {
			return &RestoreError{Table: r.k.Table, Row: r.i, ID: r.k.RowID(r.row), Err: err}
		}
		if r.k.restoreCheck != nil {
			if err := r.k.restoreCheck(txn, r.row); err != nil {
				return &RestoreError{Table: r.k.Table, Row: r.i, ID: r.k.RowID(r.row), Err: err}
			}
		}
	}
	rev := max(d.Revision, index)
	// Every table counts as changed: the restored content may differ from
	// what consumers built from.
	for _, k := range s.reg.kinds {
		if err := txn.Insert(tableIndex, &IndexEntry{Key: k.Table, Value: rev}); err != nil {
			return fmt.Errorf("store: restore index: %w", err)
		}
	}
	if err := txn.Insert(tableIndex, &IndexEntry{Key: revisionKey, Value: rev}); err != nil {
		return fmt.Errorf("store: restore revision: %w", err)
	}
	s.feed.reset(rev)
	txn.Commit()
	return nil
}

// restoreRow is a copy of the dump row's entity (decoded if raw) carrying
// the dump's indexes, checked as a write would be: well formed, with an id
// and unique keys no earlier row holds.
func (k *Kind) restoreRow(txn *memdb.Txn, r DumpRow) (Row, error) {
	row := r.Entity
	if raw, ok := row.(json.RawMessage); ok {
		var err error
		if row, err = k.decode(raw); err != nil {
			return nil, err
		}
	} else if row == nil || !k.owns(row) {
		return nil, fmt.Errorf("null or mistyped row %T", row)
	} else {
		row = k.clone(row)
	}
	k.setIndexes(row, r.CreateIndex, r.ModifyIndex)
	if k.Validate != nil {
		if err := k.Validate(row); err != nil {
			return row, err
		}
	}
	id := k.RowID(row)
	if id == "" {
		return row, errors.New("row without an id")
	}
	dup, err := firstRow(txn, k.Table, indexID, id)
	if err != nil {
		return row, err
	}
	if dup != nil {
		return row, errors.New("duplicate id")
	}
	w := &writer{txn: txn}
	return row, w.checkUnique(k, row, id)
}
