package schema

// shorthand is a write-only alias of a nested field of its record, typed
// by field (so that form values are inferred by it) and written to target,
// a path relative to the record. Kong 3.9 echoes its shorthands on every
// read (process_auto_fields on select), which decK compares against:
// Build and Defaults echo them too.
type shorthand struct {
	field  *Field
	target []string
}

// Shorthand declares a record's alias name of the nested field at target.
func (f *Field) Shorthand(alias *Field, target ...string) *Field {
	f.shorthands = append(f.shorthands, &shorthand{field: alias, target: target})
	return f
}

// expandShorthands moves every shorthand of m's records to its target, the
// shorthand's value winning over the target's.
func expandShorthands(fields []*Field, m map[string]any) {
	for _, f := range fields {
		if f.kind != KRecord {
			continue
		}
		rec, ok := m[f.name].(map[string]any)
		if !ok {
			continue
		}
		expandShorthands(f.fields, rec)
		for _, sh := range f.shorthands {
			v, given := rec[sh.field.name]
			if !given {
				continue
			}
			delete(rec, sh.field.name)
			setPath(rec, sh.target, v)
		}
	}
}

// echoShorthands copies each shorthand's target value back under the
// shorthand's name.
func echoShorthands(fields []*Field, m map[string]any) {
	for _, f := range fields {
		if f.kind != KRecord {
			continue
		}
		rec, ok := m[f.name].(map[string]any)
		if !ok {
			continue
		}
		echoShorthands(f.fields, rec)
		for _, sh := range f.shorthands {
			rec[sh.field.name] = deepCopy(getPath(rec, sh.target))
		}
	}
}

// getPath reads a nested value; nil when any step is missing.
func getPath(m map[string]any, path []string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// setPath writes a nested value, making the records on the way.
func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}
