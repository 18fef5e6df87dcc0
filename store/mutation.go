package store

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Op names one kind of write. Ops are strings so that a Mutation is
// self-describing once serialised into a durable log.
type Op string

// The writes the store accepts. Each is applied in one memdb transaction.
const (
	// OpUpsert writes Row into Table (any kind); OpDelete deletes ID from
	// Table, applying the kind's Restrict and Cascade references.
	OpUpsert Op = "upsert"
	OpDelete Op = "delete"
	// OpBatch applies Batch in order inside one transaction: all or nothing.
	OpBatch Op = "batch"
	// OpTouch rewrites row ID of Table unchanged at this revision (a new
	// ModifyIndex, nothing else), in one transaction with the read so no
	// concurrent write is undone; a missing row is left alone. Proxy-cache
	// purges are touches of the plugin: the translator keys Envoy's cache
	// by the plugin's revision.
	OpTouch Op = "touch"

	// The per-entity ops of the first releases. They stay accepted, so
	// that logs written by those releases replay, and are decoded into the
	// generic ones (legacyOps).
	OpUpsertService   Op = "service.upsert"
	OpDeleteService   Op = "service.delete"
	OpUpsertRoute     Op = "route.upsert"
	OpDeleteRoute     Op = "route.delete"
	OpUpsertUpstream  Op = "upstream.upsert"
	OpDeleteUpstream  Op = "upstream.delete"
	OpUpsertTarget    Op = "target.upsert"
	OpDeleteTarget    Op = "target.delete"
	OpSetTargetHealth Op = "target_health.set"
)

// Mutation is one serialisable write. Timestamps are stamped by the caller
// before the mutation is applied, so that replaying a log reproduces the
// same state.
//
//   - Create, on an upsert, makes the write fail with a PrimaryKeyError if
//     the id already exists (POST semantics); without it an upsert replaces
//     (PUT semantics).
//   - UpsertBy, on an upsert, names a unique key of the table ("name"): if a
//     row already holds the key, the write updates that row (its id is
//     kept, Row's is ignored); otherwise it creates Row with Row's id. The
//     check and the write are one transaction, so concurrent
//     PUT /services/{name} never conflict. The written row's CreateIndex
//     equals the returned revision exactly when this write created it.
//   - Row is a pointer to the table's struct in process; decoded from JSON
//     it is the raw json.RawMessage, decoded by the store's registry.
//
// The legacy ops carry their row in the typed field of their entity and
// deletes carry only ID.
type Mutation struct {
	Op           Op            `json:"op"`
	Table        string        `json:"table,omitempty"`
	ID           string        `json:"id,omitempty"`
	Create       bool          `json:"create,omitempty"`
	UpsertBy     string        `json:"upsert_by,omitempty"`
	Row          Row           `json:"row,omitempty"`
	Service      *Service      `json:"service,omitempty"`
	Route        *Route        `json:"route,omitempty"`
	Upstream     *Upstream     `json:"upstream,omitempty"`
	Target       *Target       `json:"target,omitempty"`
	TargetHealth *TargetHealth `json:"target_health,omitempty"`
	Batch        []Mutation    `json:"batch,omitempty"`
}

// Upsert returns the generic upsert of row into table.
func Upsert(table string, row Row) *Mutation {
	return &Mutation{Op: OpUpsert, Table: table, Row: row}
}

// Touch returns the touch of row id in table.
func Touch(table, id string) *Mutation {
	return &Mutation{Op: OpTouch, Table: table, ID: id}
}

// Delete returns the generic delete of id from table.
func Delete(table, id string) *Mutation {
	return &Mutation{Op: OpDelete, Table: table, ID: id}
}

// UnmarshalJSON keeps Row as raw JSON: only the store knows which struct a
// table's rows decode into.
func (m *Mutation) UnmarshalJSON(b []byte) error {
	type plain Mutation
	var aux struct {
		plain
		Row json.RawMessage `json:"row"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*m = Mutation(aux.plain)
	m.Row = nil
	if aux.Row != nil {
		m.Row = aux.Row
	}
	return nil
}

func (m *Mutation) String() string {
	op := string(m.Op)
	if m.Table != "" {
		op += " " + m.Table
	}
	if m.ID != "" {
		return fmt.Sprintf("%s %s", op, m.ID)
	}
	return op
}

// legacyOp maps a per-entity op onto the generic upsert or delete.
type legacyOp struct {
	table  string
	delete bool
	row    func(*Mutation) Row
}

var legacyOps = map[Op]legacyOp{
	OpUpsertService:   {table: tableServices, row: func(m *Mutation) Row { return rowOf(m.Service) }},
	OpDeleteService:   {table: tableServices, delete: true},
	OpUpsertRoute:     {table: tableRoutes, row: func(m *Mutation) Row { return rowOf(m.Route) }},
	OpDeleteRoute:     {table: tableRoutes, delete: true},
	OpUpsertUpstream:  {table: tableUpstreams, row: func(m *Mutation) Row { return rowOf(m.Upstream) }},
	OpDeleteUpstream:  {table: tableUpstreams, delete: true},
	OpUpsertTarget:    {table: tableTargets, row: func(m *Mutation) Row { return rowOf(m.Target) }},
	OpDeleteTarget:    {table: tableTargets, delete: true},
	OpSetTargetHealth: {table: tableTargetHealth, row: func(m *Mutation) Row { return rowOf(m.TargetHealth) }},
}

// rowOf keeps a nil pointer from becoming a non-nil Row.
func rowOf[T any](p *T) Row {
	if p == nil {
		return nil
	}
	return p
}

// apply decodes m through the registry and runs it.
func (w *writer) apply(m *Mutation) error {
	if m == nil {
		return fmt.Errorf("%w: nil", ErrInvalidMutation)
	}
	op, table, row := m.Op, m.Table, m.Row
	if l, ok := legacyOps[m.Op]; ok {
		table, op = l.table, OpUpsert
		if l.delete {
			op = OpDelete
		} else {
			row = l.row(m)
			w.lenient = tlsLenient
			defer func() { w.lenient = nil }()
		}
	}
	switch op {
	case OpBatch:
		for i := range m.Batch {
			if err := w.apply(&m.Batch[i]); err != nil {
				return err
			}
		}
		return nil
	case OpUpsert, OpDelete, OpTouch:
	default:
		return fmt.Errorf("%w: unknown op %q", ErrInvalidMutation, m.Op)
	}
	k := w.reg.byTable[table]
	if k == nil {
		return fmt.Errorf("%w: unknown table %q", ErrInvalidMutation, table)
	}
	if op == OpDelete {
		return w.delete(k, m.ID)
	}
	if op == OpTouch {
		old, err := w.get(k, m.ID)
		if err != nil || old == nil {
			return err
		}
		return w.upsert(k, old, false, "")
	}
	if raw, ok := row.(json.RawMessage); ok {
		var err error
		if row, err = k.decode(raw); err != nil {
			return err
		}
	}
	if row == nil {
		return fmt.Errorf("%w: %s upsert without a row", ErrInvalidMutation, table)
	}
	return w.upsert(k, row, m.Create, m.UpsertBy)
}

// decode reads one row of the kind from JSON; null is refused.
func (k *Kind) decode(raw json.RawMessage) (Row, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, fmt.Errorf("%w: %s: null row", ErrInvalidMutation, k.Table)
	}
	row := k.New()
	if err := json.Unmarshal(raw, row); err != nil {
		return nil, fmt.Errorf("%w: %s row: %v", ErrInvalidMutation, k.Table, err)
	}
	return row, nil
}
