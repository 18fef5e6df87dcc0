package store

import (
	"fmt"
	"reflect"

	memdb "github.com/hashicorp/go-memdb"
)

// Row is one stored entity: a pointer to its struct (*Service, *Route, …).
// Rows read from the store are shared with every reader: never mutate one;
// copy it first.
type Row = any

// OnDelete says what deleting a referenced row does to the rows that
// reference it (Kong's on_delete).
type OnDelete int

const (
	// Restrict refuses the delete with a ReferencedError while references
	// remain (Kong's default: services ← routes).
	Restrict OnDelete = iota
	// Cascade deletes the referencing rows in the same transaction
	// (upstreams ← targets ← target health; plugins ← service/route/consumer).
	Cascade
)

// Ref is a foreign key from a Kind's rows to another table. A nullable
// reference returns no ids; an array-valued one (service.ca_certificates)
// returns several. The store checks on every write that each id exists,
// and applies OnDelete when a referenced row goes. Each Ref gets an index
// on the referencing table, named Field, that finds rows by referenced id.
type Ref struct {
	Field    string             // Kong's field name: "service", "ca_certificates"
	Table    string             // the referenced table: "services"
	IDs      func(Row) []string // the referenced ids; none when null
	OnDelete OnDelete
}

// UniqueKey is a Kong unique constraint over one or more fields. Values
// returns the key's values in Fields order, each a string, a ForeignKey or
// nil (a null that takes part in the key: one plugin name per scope, where
// a global plugin has every scope null); Values returns nil when the row is
// not subject to the key at all (a route without a name). The key gets a
// unique index called Name.
type UniqueKey struct {
	Name   string
	Fields []string
	Values func(Row) []any
}

// Kind describes one entity table: everything the store, dumps and the
// generic API derive from. Rows are structs with an ID string field (unless
// ID is set), a ModifyIndex uint64 field, and optionally CreateIndex
// uint64, CreatedAt (kept across updates) and Tags []string (with Tagged).
type Kind struct {
	Table string
	New   func() Row // a new zero row, for decoding mutations and dumps
	// ID overrides the ID field as primary key (target health's key is
	// computed from two fields).
	ID func(Row) string
	// Validate rejects a row that no valid mutation carries (a programmer
	// error upstream, reported as ErrInvalidMutation).
	Validate func(Row) error
	Unique   []UniqueKey
	Refs     []Ref
	Tagged   bool // feeds the tags index
	// EndpointsOnly marks tables whose rows only shape Envoy's
	// ClusterLoadAssignments, so a commit touching nothing else can take
	// the endpoints-only publish path.
	EndpointsOnly bool
	// Indexes are extra lookups beyond id, unique keys, refs and tags.
	Indexes []*memdb.IndexSchema

	// beforeUpsert runs inside the write transaction after the row is
	// copied and before the generic checks, for rules no descriptor field
	// expresses (a target move drops its health overrides). old is nil on
	// create; row may be changed.
	beforeUpsert func(w *writer, old, row Row) error
	// restoreCheck checks, in Restore, what beforeUpsert derives on writes.
	restoreCheck func(txn *memdb.Txn, row Row) error

	typ                                    reflect.Type
	fID, fCreateIndex, fModifyIndex, fCrAt []int
	uniqueByName                           map[string]*UniqueKey
}

// backRef is a Ref seen from the referenced table.
type backRef struct {
	from *Kind
	ref  *Ref
}

// registry is an ordered set of kinds (the order of dumps and of Tables)
// with each table's referrers. Kinds may sit in several registries (tests
// add throw-away kinds), so nothing registry-specific lives in a Kind.
type registry struct {
	kinds   []*Kind
	byTable map[string]*Kind
	refsTo  map[string][]backRef // by referenced table
}

// newRegistry resolves each kind's fields and back references; a bad
// descriptor is a programmer error and panics at start-up.
func newRegistry(kinds ...*Kind) *registry {
	r := &registry{byTable: map[string]*Kind{}, refsTo: map[string][]backRef{}}
	for _, k := range kinds {
		if _, dup := r.byTable[k.Table]; dup || k.Table == tableIndex {
			panic(fmt.Sprintf("store: duplicate table %q", k.Table))
		}
		k.resolve()
		r.kinds = append(r.kinds, k)
		r.byTable[k.Table] = k
	}
	for _, k := range r.kinds {
		for i := range k.Refs {
			ref := &k.Refs[i]
			if r.byTable[ref.Table] == nil {
				panic(fmt.Sprintf("store: %s.%s references unknown table %q", k.Table, ref.Field, ref.Table))
			}
			r.refsTo[ref.Table] = append(r.refsTo[ref.Table], backRef{from: k, ref: ref})
		}
	}
	return r
}

func (k *Kind) resolve() {
	row := k.New()
	t := reflect.TypeOf(row)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("store: %s: New must return a pointer to a struct, not %T", k.Table, row))
	}
	k.typ = t.Elem()
	field := func(name string, typ reflect.Type, required bool) []int {
		f, ok := k.typ.FieldByName(name)
		if !ok || (typ != nil && f.Type != typ) {
			if required {
				panic(fmt.Sprintf("store: %s: row type %s needs a field %s %v", k.Table, k.typ, name, typ))
			}
			return nil
		}
		return f.Index
	}
	u64 := reflect.TypeFor[uint64]()
	if k.ID == nil {
		k.fID = field("ID", reflect.TypeFor[string](), true)
	}
	k.fCreateIndex = field("CreateIndex", u64, false)
	k.fModifyIndex = field("ModifyIndex", u64, true)
	k.fCrAt = field("CreatedAt", nil, false)
	if k.Tagged {
		field("Tags", reflect.TypeFor[[]string](), true)
	}
	k.uniqueByName = map[string]*UniqueKey{}
	for i := range k.Unique {
		k.uniqueByName[k.Unique[i].Name] = &k.Unique[i]
	}
}

// RowID is the primary key of a row of this kind.
func (k *Kind) RowID(row Row) string {
	if k.ID != nil {
		return k.ID(row)
	}
	return reflect.ValueOf(row).Elem().FieldByIndex(k.fID).String()
}

// indexes returns the row's CreateIndex (0 when the kind has none) and
// ModifyIndex.
func (k *Kind) indexes(row Row) (create, modify uint64) {
	v := reflect.ValueOf(row).Elem()
	if k.fCreateIndex != nil {
		create = v.FieldByIndex(k.fCreateIndex).Uint()
	}
	return create, v.FieldByIndex(k.fModifyIndex).Uint()
}

func (k *Kind) setIndexes(row Row, create, modify uint64) {
	v := reflect.ValueOf(row).Elem()
	if k.fCreateIndex != nil {
		v.FieldByIndex(k.fCreateIndex).SetUint(create)
	}
	v.FieldByIndex(k.fModifyIndex).SetUint(modify)
}

// keepCreated copies old's creation time into row: an update never moves it.
func (k *Kind) keepCreated(row, old Row) {
	if k.fCrAt != nil {
		reflect.ValueOf(row).Elem().FieldByIndex(k.fCrAt).Set(reflect.ValueOf(old).Elem().FieldByIndex(k.fCrAt))
	}
}

// owns reports whether row is a non-nil pointer to this kind's struct.
func (k *Kind) owns(row Row) bool {
	v := reflect.ValueOf(row)
	return v.Kind() == reflect.Pointer && !v.IsNil() && v.Type().Elem() == k.typ
}

// clone returns a shallow copy of row, for the store to own.
func (k *Kind) clone(row Row) Row {
	v := reflect.New(k.typ)
	v.Elem().Set(reflect.ValueOf(row).Elem())
	return v.Interface()
}

func setField(row Row, idx []int, s string) {
	reflect.ValueOf(row).Elem().FieldByIndex(idx).SetString(s)
}
