package schema

import (
	"regexp"
)

// Kind is a Kong schema field type.
type Kind uint8

const (
	KString Kind = iota + 1
	KInteger
	KNumber
	KBoolean
	KArray
	KSet
	KMap
	KRecord
	KForeign
)

// String is Kong's type name.
func (k Kind) String() string {
	return [...]string{"", "string", "integer", "number", "boolean", "array", "set", "map", "record", "foreign"}[k]
}

// pattern is a regular-expression rule with Kong's error text. Kong writes
// these as Lua patterns; each one here is the equivalent RE2 expression.
type pattern struct {
	re  *regexp.Regexp
	err string
}

// Field is one field of a Kong schema: the same definition drives
// validation, form-value type inference, defaults and GET /schemas, so what
// /schemas advertises is what the endpoints do (decK relies on that).
type Field struct {
	name     string
	kind     Kind
	required bool
	// def is the JSON-shaped default (string, int64, float64, bool, []any,
	// map[string]any); nil means the field defaults to null. Records compute
	// their default from their fields.
	def any

	auto, uuid, timestamp, unique bool

	oneOf      []any
	between    *[2]float64
	lenMin     int
	startsWith string
	match      *pattern // Kong's "match": error is "invalid value: <v>"
	matchAll   []pattern
	matchNone  []pattern
	matchAny   *pattern // any of anyRes must match; err on none
	anyRes     []*regexp.Regexp
	custom     func(string) string // returns "" when the value is valid
	// eqNull, when set, is the error for any non-null value (Kong's
	// "eq = null" with a custom err, used by route subschemas).
	eqNull string

	elements     *Field
	keys, values *Field
	fields       []*Field
	// recordChecks are entity checks of a record used as an array element
	// (routes' sources/destinations).
	recordChecks []func(m map[string]any, errs FieldErrors)
	reference    string
	exclusive    [][]string

	// gt is Kong's "gt": the number must be greater.
	gt *float64
	// shorthands are a record's write-only aliases of its nested fields
	// (rate-limiting's redis_host for redis.host): accepted on input,
	// echoed on every read, as Kong 3.9 does (shorthand.go).
	shorthands []*shorthand
	// recordValidator is a record's custom_validator: a message for the
	// whole record ("" when valid), run once its fields are valid.
	recordValidator func(m map[string]any) string
}

// Entity is one entity's Kong schema plus the entity-level behaviour
// that fields cannot express. Build one with New and Register it.
type Entity struct {
	name        string
	endpointKey string
	// stamps, when set, is the kind of Kong's created_at and updated_at
	// (KInteger seconds; KNumber for targets): newEntity puts id and both
	// timestamps first, as every Kong entity has them.
	stamps Kind
	fields []*Field
	byName map[string]*Field
	// shorthands are write-only input fields (services' url) and their
	// expansion; the expansion overwrites the fields it produces.
	shorthands map[string]bool
	expand     func(in map[string]any)
	// passThrough are shorthands no expansion consumes: Build validates
	// and drops them, and the Admin API writes them as other rows
	// (certificates' snis).
	passThrough map[string]*Field
	// insertDefaults adjusts defaults that depend on other input (route
	// subschemas) before the generic defaults are filled in; insert and
	// upsert only.
	insertDefaults func(in map[string]any)
	// checks are the entity checks, as data (Kong's entity_checks); Build
	// interprets them and /schemas renders them.
	checks []Check
	// subschemaChecks run after checks for what Kong writes as subschemas
	// (routes by protocol), which /schemas does not list as entity checks.
	subschemaChecks func(m map[string]any, errs FieldErrors)

	// subschemaKey names the field that selects a subschema (plugins:
	// "name"); subschemas are the effective entities by that value, each
	// the parent's fields with the subschema's replacing those of the same
	// name (subschema.go). parent is set on an effective entity.
	subschemaKey string
	subschemas   func(key string) *Entity
	parent       *Entity
}

func newEntity(s *Entity) *Entity {
	if s.stamps != 0 {
		s.fields = append([]*Field{ID(), Timestamp("created_at", s.stamps), Timestamp("updated_at", s.stamps)}, s.fields...)
	}
	s.byName = map[string]*Field{}
	for _, f := range s.fields {
		s.byName[f.name] = f
	}
	return s
}

// New declares an entity schema: its name (Kong's entity name, which is
// also the table and the collection path, e.g. "services"), the unique field
// that addresses it besides the id ("name"; "" when only ids do), its fields
// and its entity checks.
func New(name, endpointKey string, fields []*Field, checks ...Check) *Entity {
	return newEntity(&Entity{name: name, endpointKey: endpointKey, fields: fields, checks: checks})
}

// Name is the entity's name.
func (e *Entity) Name() string { return e.name }

// EndpointKey is the unique field that addresses the entity besides its id
// ("" when none does).
func (e *Entity) EndpointKey() string { return e.endpointKey }

// Field returns the top-level field name, or the pass-through shorthand of
// that name, nil when the schema has neither.
func (e *Entity) Field(name string) *Field {
	if f := e.byName[name]; f != nil {
		return f
	}
	return e.passThrough[name]
}

// Shorthand adds a write-only input field (Kong's shorthand_fields) that is
// validated as f and never stored: the Admin API hands it to the entity's
// companion writes, as certificates' snis create SNI rows. It returns e.
func (e *Entity) Shorthand(f *Field) *Entity {
	if e.passThrough == nil {
		e.passThrough = map[string]*Field{}
	}
	e.passThrough[f.name] = f
	return e
}

// Fields are the top-level fields in schema order (shared: do not mutate).
func (e *Entity) Fields() []*Field { return e.fields }

// Foreign lists the foreign-key fields in schema order.
func (e *Entity) Foreign() []*Field {
	var out []*Field
	for _, f := range e.fields {
		if f.kind == KForeign {
			out = append(out, f)
		}
	}
	return out
}

// ValidateKey checks an endpoint key against its field's validator and
// returns Kong's message, "" when valid.
func (e *Entity) ValidateKey(key string) string {
	f := e.byName[e.endpointKey]
	if f == nil {
		return ""
	}
	_, err := f.validate(key)
	if s, ok := err.(string); ok {
		return s
	}
	return ""
}

// Name is the field's name ("" for elements, keys and values).
func (f *Field) Name() string { return f.name }

// Kind is the field's Kong type.
func (f *Field) Kind() Kind { return f.kind }

// Elements is the element field of an array or set.
func (f *Field) Elements() *Field { return f.elements }

// Values is the value field of a map.
func (f *Field) Values() *Field { return f.values }

// Sub is a record's field name (or shorthand), nil when absent.
func (f *Field) Sub(name string) *Field {
	if sf := f.sub(name); sf != nil {
		return sf
	}
	for _, sh := range f.shorthands {
		if sh.field.name == name {
			return sh.field
		}
	}
	return nil
}

// Reference is the entity a foreign field points at.
func (f *Field) Reference() string { return f.reference }

// IsRequired reports Kong's required flag.
func (f *Field) IsRequired() bool { return f.required }

// recordDefault is the default value of a record field: every subfield at
// its default.
func (f *Field) recordDefault() map[string]any {
	m := map[string]any{}
	for _, sub := range f.fields {
		if sub.kind == KRecord {
			m[sub.name] = sub.recordDefault()
		} else {
			m[sub.name] = deepCopy(sub.def)
		}
	}
	return m
}

func (f *Field) sub(name string) *Field {
	for _, s := range f.fields {
		if s.name == name {
			return s
		}
	}
	return nil
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

// Field constructors keep the schema tables readable; they are exported so
// that an entity can be declared outside this package (a test entity).

// String, Integer, Number and Boolean declare scalar fields.

func String(name string) *Field  { return &Field{name: name, kind: KString} }
func Integer(name string) *Field { return &Field{name: name, kind: KInteger} }
func Number(name string) *Field  { return &Field{name: name, kind: KNumber} }
func Boolean(name string) *Field { return &Field{name: name, kind: KBoolean} }

// Req marks the field required.
func (f *Field) Req() *Field { f.required = true; return f }

// Default sets the JSON-shaped default (string, int64, float64, bool, []any).
func (f *Field) Default(v any) *Field { f.def = v; return f }

// Gt requires a number greater than n.
func (f *Field) Gt(n float64) *Field { f.gt = &n; return f }

// LenMin sets the minimum length of a string or list.
func (f *Field) LenMin(n int) *Field { f.lenMin = n; return f }

// Between bounds a number.
func (f *Field) Between(lo, hi float64) *Field { f.between = &[2]float64{lo, hi}; return f }

// OneOf restricts the value to vals.
func (f *Field) OneOf(vals ...any) *Field { f.oneOf = vals; return f }

// Unique marks the field unique (shown in /schemas; the store enforces it).
func (f *Field) Unique() *Field { f.unique = true; return f }

// ID is the primary key: an auto-generated UUID.
func ID() *Field {
	return &Field{name: "id", kind: KString, uuid: true, auto: true}
}

// Timestamp is an auto-set created_at/updated_at of kind KInteger or KNumber.
func Timestamp(name string, k Kind) *Field {
	return &Field{name: name, kind: k, timestamp: true, auto: true}
}

// Array is an array of elements (elements' name is unused).
func Array(name string, elements *Field) *Field {
	return &Field{name: name, kind: KArray, elements: elements}
}

// Tags is typedefs.tags.
func Tags() *Field {
	return &Field{name: "tags", kind: KSet, elements: &Field{kind: KString, required: true, custom: validateTag}}
}

// Foreign is a reference to another entity, {"id": ...} on the wire.
func Foreign(name, reference string) *Field {
	return &Field{name: name, kind: KForeign, reference: reference}
}

// Record is a nested record whose default is its fields' defaults.
func Record(name string, fields ...*Field) *Field {
	return &Field{name: name, kind: KRecord, fields: fields}
}

func anyOf(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Fields are a record's fields in schema order (shared: do not mutate).
func (f *Field) Fields() []*Field { return f.fields }
