package schema

// JSON renders the schema the way Kong's GET /schemas/{entity} does, from
// the same definitions that validate requests, so the defaults decK reads
// are the defaults the endpoints apply. Validator functions are dropped;
// foreign fields keep only their reference.
func (e *Entity) JSON() map[string]any {
	fields := make([]any, 0, len(e.fields))
	for _, f := range e.fields {
		fields = append(fields, map[string]any{f.name: f.json()})
	}
	checks := make([]any, 0, len(e.checks))
	for _, c := range e.checks {
		checks = append(checks, c.json())
	}
	return map[string]any{"fields": fields, "entity_checks": checks}
}

func (f *Field) json() map[string]any {
	m := map[string]any{"type": f.kind.String()}
	if f.required {
		m["required"] = true
	}
	if f.kind == KRecord {
		m["default"] = compactDefault(f.recordDefault())
	} else if f.def != nil {
		m["default"] = f.def
	}
	for key, on := range map[string]bool{"auto": f.auto, "uuid": f.uuid, "timestamp": f.timestamp, "unique": f.unique} {
		if on {
			m[key] = true
		}
	}
	if f.oneOf != nil {
		m["one_of"] = f.oneOf
	}
	if f.eqNull != "" {
		m["eq"] = nil // Kong's eq = null (typedefs.no_consumer)
	}
	if f.gt != nil {
		m["gt"] = jsonNum(*f.gt)
	}
	if f.between != nil {
		m["between"] = []any{jsonNum(f.between[0]), jsonNum(f.between[1])}
	}
	if f.lenMin > 0 {
		m["len_min"] = f.lenMin
	}
	if f.startsWith != "" {
		m["starts_with"] = f.startsWith
	}
	if f.reference != "" {
		m["reference"] = f.reference
	}
	if f.exclusive != nil {
		m["mutually_exclusive_subsets"] = f.exclusive
	}
	if f.elements != nil {
		m["elements"] = f.elements.json()
	}
	if f.keys != nil {
		m["keys"] = f.keys.json()
	}
	if f.values != nil {
		m["values"] = f.values.json()
	}
	if f.fields != nil {
		sub := make([]any, 0, len(f.fields))
		for _, sf := range f.fields {
			sub = append(sub, map[string]any{sf.name: sf.json()})
		}
		m["fields"] = sub
	}
	if f.shorthands != nil {
		sh := make([]any, 0, len(f.shorthands))
		for _, s := range f.shorthands {
			sh = append(sh, map[string]any{s.field.name: s.field.json()})
		}
		m["shorthand_fields"] = sh
	}
	return m
}

// compactDefault drops null members, as Kong's record defaults leave out
// fields without a default.
func compactDefault(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch t := v.(type) {
		case nil:
		case map[string]any:
			out[k] = compactDefault(t)
		default:
			out[k] = v
		}
	}
	return out
}

func jsonNum(f float64) any {
	if i, ok := floatToInt(f); ok {
		return i
	}
	return f
}
