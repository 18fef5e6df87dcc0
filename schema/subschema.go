package schema

// Subschemas: an entity whose shape depends on one of its fields (Kong's
// subschema_key; plugins by name). The abstract entity validates nothing
// of the dependent fields itself: Build picks the effective entity by the
// key's value in the input, or in the stored entity on update, and builds
// with it.

// Typed returns the entity that types input: the effective subschema
// entity when e has subschemas (or is one) and input names one, e
// otherwise. Form decoding uses it so that config.* values are typed by
// the plugin's own schema.
func (e *Entity) Typed(input map[string]any) *Entity {
	root := e
	if e.parent != nil {
		root = e.parent
	}
	if root.subschemaKey == "" {
		return e
	}
	if key, ok := input[root.subschemaKey].(string); ok {
		if sub := root.subschemas(key); sub != nil {
			return sub
		}
		return root
	}
	return e
}

// buildSubschema builds with the effective entity; without one (no key,
// or an unknown key), the abstract entity reports the key's error and the
// other generic fields' errors, and nothing of the dependent fields.
func (e *Entity) buildSubschema(input, base map[string]any) (map[string]any, FieldErrors) {
	key, ok := input[e.subschemaKey].(string)
	if _, given := input[e.subschemaKey]; !given && base != nil {
		key, ok = base[e.subschemaKey].(string)
	}
	if ok {
		if sub := e.subschemas(key); sub != nil {
			return sub.Build(input, base)
		}
	}
	abstract := *e
	abstract.subschemaKey = ""
	in := deepCopy(input).(map[string]any)
	if base != nil {
		base = deepCopy(base).(map[string]any)
	}
	for _, f := range e.fields {
		if f.kind == KRecord {
			delete(in, f.name)
			if base != nil {
				delete(base, f.name)
			}
		}
	}
	_, errs := abstract.Build(in, base)
	if errs == nil {
		// Unreachable while the key is required and checked, but never
		// let an unvalidated entity through.
		errs = FieldErrors{e.subschemaKey: msgRequired}
	}
	return nil, errs
}

// withSubschema returns parent's effective entity for a subschema: the
// parent's fields in order, each replaced by the subschema's field of the
// same name, and the subschema's entity checks.
func withSubschema(parent *Entity, fields []*Field, checks []Check) *Entity {
	byName := map[string]*Field{}
	for _, f := range fields {
		byName[f.name] = f
	}
	merged := make([]*Field, 0, len(parent.fields))
	for _, f := range parent.fields {
		if sf := byName[f.name]; sf != nil {
			merged = append(merged, sf)
			continue
		}
		merged = append(merged, f)
	}
	sub := newEntity(&Entity{name: parent.name, endpointKey: parent.endpointKey, fields: merged, checks: checks})
	sub.parent = parent
	return sub
}
