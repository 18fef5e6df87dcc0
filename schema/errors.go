package schema

import (
	"encoding/json"
	"sort"
	"strings"
)

// FieldErrors is Kong's error table for one record: field name → string,
// nested FieldErrors (records, foreign keys), IndexErrors (array elements);
// "@entity" → []string for entity-level checks.
type FieldErrors map[string]any

// EntityKey is the FieldErrors key of entity-level messages.
const EntityKey = "@entity"

// IndexErrors holds errors of array elements by 1-based index, as Lua tables
// do; it renders as a JSON array padded with nulls, as cjson renders them.
type IndexErrors map[int]any

// MarshalJSON renders the table as a JSON array.
func (e IndexErrors) MarshalJSON() ([]byte, error) {
	n := 0
	for i := range e {
		n = max(n, i)
	}
	out := make([]any, n)
	for i, v := range e {
		out[i-1] = v
	}
	return json.Marshal(out)
}

// Indexes returns the failing indexes in order.
func (e IndexErrors) Indexes() []int {
	keys := make([]int, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// AddEntity appends an entity-level message.
func (e FieldErrors) AddEntity(msg string) {
	list, _ := e[EntityKey].([]string)
	e[EntityKey] = append(list, msg)
}

// fieldHasError reports whether a field (a dotted path) already failed,
// itself or a record on its path as a whole, so that entity checks
// depending on it are skipped, as Kong skips them.
func (e FieldErrors) fieldHasError(names ...string) bool {
	for _, n := range names {
		cur := e
		parts := strings.Split(n, ".")
		for i, p := range parts {
			v, ok := cur[p]
			if !ok {
				break
			}
			sub, isRec := v.(FieldErrors)
			if !isRec || i == len(parts)-1 {
				return true
			}
			cur = sub
		}
	}
	return false
}

// setAt records msg at a dotted path, nesting FieldErrors for records.
func (e FieldErrors) setAt(path, msg string) {
	parts := strings.Split(path, ".")
	cur := e
	for _, p := range parts[:len(parts)-1] {
		sub, ok := cur[p].(FieldErrors)
		if !ok {
			sub = FieldErrors{}
			cur[p] = sub
		}
		cur = sub
	}
	cur[parts[len(parts)-1]] = msg
}

// SortedKeys returns m's keys in order (error messages and map validation
// are deterministic).
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
