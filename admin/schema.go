package admin

import (
	"regexp"
)

// kind is a Kong schema field type.
type kind uint8

const (
	kString kind = iota + 1
	kInteger
	kNumber
	kBoolean
	kArray
	kSet
	kMap
	kRecord
	kForeign
)

func (k kind) String() string {
	return [...]string{"", "string", "integer", "number", "boolean", "array", "set", "map", "record", "foreign"}[k]
}

// pattern is a regular-expression rule with Kong's error text. Kong writes
// these as Lua patterns; each one here is the equivalent RE2 expression.
type pattern struct {
	re  *regexp.Regexp
	err string
}

// field is one field of a Kong schema: the same definition drives
// validation, form-value type inference, defaults and GET /schemas, so what
// /schemas advertises is what the endpoints do (decK relies on that).
type field struct {
	name     string
	kind     kind
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

	elements     *field
	keys, values *field
	fields       []*field
	// recordChecks are entity checks of a record used as an array element
	// (routes' sources/destinations).
	recordChecks []func(m map[string]any, errs fieldErrors)
	reference    string
	exclusive    [][]string
}

// entitySchema is one entity's Kong schema plus the entity-level behaviour
// that fields cannot express.
type entitySchema struct {
	name        string
	endpointKey string
	fields      []*field
	byName      map[string]*field
	// shorthands are write-only input fields (services' url) and their
	// expansion; the expansion overwrites the fields it produces.
	shorthands map[string]bool
	expand     func(in map[string]any)
	// insertDefaults adjusts defaults that depend on other input (route
	// subschemas) before the generic defaults are filled in; insert and
	// upsert only.
	insertDefaults func(in map[string]any)
	// checks runs the entity checks on a validated entity; checks involving
	// a field that already failed are skipped.
	checks func(m map[string]any, errs fieldErrors)
	// entityChecks is what /schemas advertises as entity_checks.
	entityChecks []any
}

func newEntitySchema(s *entitySchema) *entitySchema {
	s.byName = map[string]*field{}
	for _, f := range s.fields {
		s.byName[f.name] = f
	}
	return s
}

// recordDefault is the default value of a record field: every subfield at
// its default.
func (f *field) recordDefault() map[string]any {
	m := map[string]any{}
	for _, sub := range f.fields {
		if sub.kind == kRecord {
			m[sub.name] = sub.recordDefault()
		} else {
			m[sub.name] = deepCopy(sub.def)
		}
	}
	return m
}

func (f *field) sub(name string) *field {
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

// Field constructors keep the schema tables in validate_*.go readable.

func fString(name string) *field  { return &field{name: name, kind: kString} }
func fInteger(name string) *field { return &field{name: name, kind: kInteger} }
func fNumber(name string) *field  { return &field{name: name, kind: kNumber} }
func fBoolean(name string) *field { return &field{name: name, kind: kBoolean} }

func (f *field) req() *field               { f.required = true; return f }
func (f *field) dflt(v any) *field         { f.def = v; return f }
func (f *field) btw(lo, hi float64) *field { f.between = &[2]float64{lo, hi}; return f }
func (f *field) one(vals ...any) *field    { f.oneOf = vals; return f }

func fID() *field {
	return &field{name: "id", kind: kString, uuid: true, auto: true}
}

func fTimestamp(name string, k kind) *field {
	return &field{name: name, kind: k, timestamp: true, auto: true}
}

func fTags() *field {
	return &field{name: "tags", kind: kSet, elements: &field{kind: kString, required: true, custom: validateTag}}
}

func fForeign(name, reference string) *field {
	return &field{name: name, kind: kForeign, reference: reference}
}

func fRecord(name string, fields ...*field) *field {
	return &field{name: name, kind: kRecord, fields: fields}
}

func anyOf(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
