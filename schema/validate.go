package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Kong's generic validation messages (kong/db/schema/init.lua).
const (
	msgRequired   = "required field missing"
	msgUnknown    = "unknown field"
	msgNotNull    = "value must be null"
	msgMissingPK  = "missing primary key"
	msgBadUUID    = "expected a valid UUID"
	msgConditionF = "failed conditional validation given value of field '%s'"
)

var typeErrors = map[Kind]string{
	KString:  "expected a string",
	KInteger: "expected an integer",
	KNumber:  "expected a number",
	KBoolean: "expected a boolean",
	KArray:   "expected an array",
	KSet:     "expected a set",
	KMap:     "expected a map",
	KRecord:  "expected a record",
	KForeign: "expected a record",
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s is a UUID, which Kong takes as an id, never a name.
func IsUUID(s string) bool { return uuidRe.MatchString(s) }

// Build turns a decoded request body into a complete, validated entity map:
// shorthands are expanded, then either defaults are filled in (insert and
// upsert: base is nil) or the input is deep-merged into base (update), and
// every field and entity check is validated. The map it returns holds every
// schema field with normalised Go values (int64, float64, []any, ...).
func (es *Entity) Build(input, base map[string]any) (map[string]any, FieldErrors) {
	if es.subschemaKey != "" {
		return es.buildSubschema(input, base)
	}
	errs := FieldErrors{}
	for k, v := range input {
		if sf := es.passThrough[k]; sf != nil {
			// Validated here, written by the caller's companion rows.
			if _, err := sf.validate(v); err != nil {
				errs[k] = err
			}
			delete(input, k)
			continue
		}
		if es.byName[k] == nil && !es.shorthands[k] {
			errs[k] = msgUnknown
			delete(input, k)
		}
	}
	if es.expand != nil {
		es.expand(input)
	}
	expandShorthands(es.fields, input)
	if base != nil {
		// A stored entity carries the echoed shorthands: drop them so that
		// the input's nested fields win.
		base = deepCopy(base).(map[string]any)
		expandShorthands(es.fields, base)
	}
	var merged map[string]any
	if base == nil {
		merged = input
		if es.insertDefaults != nil {
			es.insertDefaults(merged)
		}
		fillDefaults(es.fields, merged)
	} else {
		merged = deepMerge(es.fields, base, input)
	}
	out := validateFields(es.fields, merged, errs)
	runChecks(es.checks, out, errs)
	if es.subschemaChecks != nil {
		es.subschemaChecks(out, errs)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	echoShorthands(es.fields, out)
	return out, nil
}

// fillDefaults sets absent fields to their defaults; records absent or null
// take their full default, and records given in part get their missing
// fields filled (Kong's process_auto_fields on insert).
func fillDefaults(fields []*Field, m map[string]any) {
	for _, f := range fields {
		v, present := m[f.name]
		if f.kind == KRecord {
			if sub, ok := v.(map[string]any); ok {
				fillDefaults(f.fields, sub)
			} else if !present || v == nil {
				m[f.name] = f.recordDefault()
			}
			continue
		}
		if !present && f.def != nil {
			m[f.name] = deepCopy(f.def)
		}
	}
}

// deepMerge applies a PATCH: records merge recursively, everything else
// (arrays, sets, maps, foreign keys, scalars) is replaced; null clears, and a
// null record reverts to its default since records are never null.
func deepMerge(fields []*Field, base, patch map[string]any) map[string]any {
	for k, v := range patch {
		f := fieldByName(fields, k)
		if f != nil && f.kind == KRecord {
			if v == nil {
				base[k] = f.recordDefault()
				continue
			}
			pm, pok := v.(map[string]any)
			bm, bok := base[k].(map[string]any)
			if pok && bok {
				base[k] = deepMerge(f.fields, bm, pm)
				continue
			}
		}
		base[k] = v
	}
	return base
}

func fieldByName(fields []*Field, name string) *Field {
	for _, f := range fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

// validateFields validates a record's fields in schema order, recording
// unknown keys and field errors in errs, and returns the normalised record.
func validateFields(fields []*Field, m map[string]any, errs FieldErrors) map[string]any {
	out := make(map[string]any, len(fields))
	for k := range m {
		if fieldByName(fields, k) == nil {
			errs[k] = msgUnknown
		}
	}
	for _, f := range fields {
		v, err := f.validate(m[f.name])
		if err != nil {
			errs[f.name] = err
			continue
		}
		out[f.name] = v
	}
	return out
}

// validate checks one value against f and returns it normalised, or the
// error: a string, or a FieldErrors/IndexErrors table for composite values.
func (f *Field) validate(v any) (any, any) {
	if v == nil {
		if f.required {
			return nil, msgRequired
		}
		// Kong would store null for an optional field that has a default
		// (PATCH retries=) and apply the default at run time; our entities
		// hold such fields as plain values, so null means the default.
		return deepCopy(f.def), nil
	}
	if f.eqNull != "" {
		return nil, f.eqNull
	}
	switch f.kind {
	case KString:
		s, ok := v.(string)
		if !ok {
			return nil, typeErrors[f.kind]
		}
		if msg := f.checkString(s); msg != "" {
			return nil, msg
		}
		return s, nil
	case KInteger:
		n, ok := ToInt(v)
		if !ok {
			return nil, typeErrors[f.kind]
		}
		if msg := f.checkNumber(float64(n), n); msg != "" {
			return nil, msg
		}
		return n, nil
	case KNumber:
		n, ok := toFloat(v)
		if !ok {
			return nil, typeErrors[f.kind]
		}
		if msg := f.checkNumber(n, n); msg != "" {
			return nil, msg
		}
		return n, nil
	case KBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, typeErrors[f.kind]
		}
		return b, nil
	case KArray, KSet:
		return f.validateList(v)
	case KMap:
		return f.validateMap(v)
	case KRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, typeErrors[f.kind]
		}
		errs := FieldErrors{}
		out := validateFields(f.fields, m, errs)
		for _, check := range f.recordChecks {
			check(out, errs)
		}
		if len(errs) > 0 {
			return nil, errs
		}
		if f.recordValidator != nil {
			if msg := f.recordValidator(out); msg != "" {
				return nil, msg
			}
		}
		return out, nil
	case KForeign:
		return validateForeign(v)
	}
	return nil, typeErrors[f.kind]
}

// validateForeign checks a foreign reference that the handler has already
// resolved from an endpoint key: what remains must carry a valid id.
func validateForeign(v any) (any, any) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, typeErrors[KForeign]
	}
	id, present := m["id"]
	if !present || id == nil {
		return nil, FieldErrors{"id": msgMissingPK}
	}
	s, ok := id.(string)
	if !ok {
		return nil, FieldErrors{"id": typeErrors[KString]}
	}
	if !IsUUID(s) {
		return nil, FieldErrors{"id": msgBadUUID}
	}
	return map[string]any{"id": s}, nil
}

func (f *Field) checkString(s string) string {
	if f.oneOf != nil && !containsAny(f.oneOf, s) {
		return oneOfMessage(f.oneOf)
	}
	if f.uuid && !IsUUID(s) {
		return msgBadUUID
	}
	if len(s) < max(f.lenMin, 1) {
		// Kong rejects empty strings unless a field allows them.
		return fmt.Sprintf("length must be at least %d", max(f.lenMin, 1))
	}
	if f.match != nil && !f.match.re.MatchString(s) {
		return "invalid value: " + s
	}
	for _, p := range f.matchAll {
		if !p.re.MatchString(s) {
			return p.err
		}
	}
	for _, p := range f.matchNone {
		if p.re.MatchString(s) {
			return p.err
		}
	}
	if f.matchAny != nil {
		matched := false
		for _, re := range f.anyRes {
			matched = matched || re.MatchString(s)
		}
		if !matched {
			return f.matchAny.err
		}
	}
	if f.startsWith != "" && !strings.HasPrefix(s, f.startsWith) {
		return "should start with: " + f.startsWith
	}
	if f.custom != nil {
		return f.custom(s)
	}
	return ""
}

func (f *Field) checkNumber(n float64, raw any) string {
	if f.oneOf != nil && !containsAny(f.oneOf, raw) {
		return oneOfMessage(f.oneOf)
	}
	if f.between != nil && (n < f.between[0] || n > f.between[1]) {
		return fmt.Sprintf("value should be between %s and %s", fmtNum(f.between[0]), fmtNum(f.between[1]))
	}
	if f.gt != nil && n <= *f.gt {
		return "value must be greater than " + fmtNum(*f.gt)
	}
	return ""
}

func (f *Field) validateList(v any) (any, any) {
	list, ok := v.([]any)
	if !ok {
		return nil, typeErrors[f.kind]
	}
	if f.kind == KSet {
		list = dedupe(list)
	}
	out := make([]any, 0, len(list))
	errs := IndexErrors{}
	for i, e := range list {
		nv, err := f.elements.validate(e)
		if err != nil {
			errs[i+1] = err
			continue
		}
		out = append(out, nv)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(out) < f.lenMin {
		return nil, fmt.Sprintf("length must be at least %d", f.lenMin)
	}
	if f.exclusive != nil {
		if msg := exclusiveSubsets(f.exclusive, out); msg != "" {
			return nil, msg
		}
	}
	return out, nil
}

// validateMap reports the first failing key or value as the error of the
// whole field, as Kong does for maps.
func (f *Field) validateMap(v any) (any, any) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, typeErrors[f.kind]
	}
	out := make(map[string]any, len(m))
	for _, k := range SortedKeys(m) {
		if _, err := f.keys.validate(k); err != nil {
			return nil, err
		}
		nv, err := f.values.validate(m[k])
		if err != nil {
			return nil, err
		}
		out[k] = nv
	}
	return out, nil
}

// exclusiveSubsets reports elements drawn from more than one of the
// mutually exclusive subsets.
func exclusiveSubsets(subsets [][]string, values []any) string {
	var hit []string
	for _, set := range subsets {
		for _, v := range values {
			if containsAny(anyOf(set...), v) {
				hit = append(hit, "('"+strings.Join(set, "', '")+"')")
				break
			}
		}
	}
	if len(hit) > 1 {
		return "these sets are mutually exclusive: " + strings.Join(hit, ", ")
	}
	return ""
}

func dedupe(list []any) []any {
	seen := map[string]bool{}
	out := make([]any, 0, len(list))
	for _, v := range list {
		b, _ := json.Marshal(v)
		if seen[string(b)] {
			continue
		}
		seen[string(b)] = true
		out = append(out, v)
	}
	return out
}

func containsAny(list []any, v any) bool {
	for _, e := range list {
		if e == v {
			return true
		}
		if ei, ok := e.(int64); ok {
			if vi, ok := v.(int64); ok && ei == vi {
				return true
			}
		}
	}
	return false
}

func oneOfMessage(list []any) string {
	parts := make([]string, len(list))
	for i, v := range list {
		parts[i] = fmt.Sprint(v)
	}
	return "expected one of: " + strings.Join(parts, ", ")
}

func fmtNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e18 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// ToInt accepts a JSON number (exactly, so 9007199254740992 survives) or an
// integral float.
func ToInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil {
			return 0, false
		}
		return floatToInt(f)
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return floatToInt(n)
	}
	return 0, false
}

func floatToInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.Abs(f) >= 9.2e18 {
		return 0, false
	}
	return int64(f), true
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// isEmpty is Kong's notion of an unset value for at_least_one_of checks:
// null, or an empty array or map.
func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	case string:
		return t == ""
	}
	return false
}

// quoteList renders names as Kong's entity-check messages do: 'a', 'b'.
func quoteList(names ...string) string {
	return "'" + strings.Join(names, "', '") + "'"
}
