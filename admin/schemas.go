package admin

import (
	"fmt"
	"net/http"
)

// entitySchemas are the schemas /schemas serves.
var entitySchemas = map[string]*entitySchema{
	"services":  serviceSchema,
	"routes":    routeSchema,
	"upstreams": upstreamSchema,
	"targets":   targetSchema,
}

func (s *Server) registerSchemaRoutes() {
	// Plugins first: /schemas/plugins/validate must not reach the entity
	// validator. switchboard has no plugins.
	s.handleFunc("/schemas/plugins/{name}", http.MethodGet, s.handlePluginSchema)
	s.handleFunc("/schemas/{db_entity_name}", http.MethodGet, s.handleSchemaGet)
	s.handleFunc("/schemas/{db_entity_name}/validate", http.MethodPost, s.handleSchemaValidate)
}

func (s *Server) handlePluginSchema(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, errStatus(http.StatusNotFound, fmt.Sprintf("No plugin named '%s'", pathVar(r, "name"))))
}

// handleSchemaGet serves Kong's Lua-schema JSON, generated from the same
// field definitions that validate requests, so the defaults decK reads are
// the defaults the endpoints apply.
func (s *Server) handleSchemaGet(w http.ResponseWriter, r *http.Request) {
	name := pathVar(r, "db_entity_name")
	es, ok := entitySchemas[name]
	if !ok {
		s.writeError(w, r, errStatus(http.StatusNotFound, fmt.Sprintf("No entity named '%s'", name)))
		return
	}
	fields := make([]any, 0, len(es.fields))
	for _, f := range es.fields {
		fields = append(fields, map[string]any{f.name: fieldJSON(f)})
	}
	checks := es.entityChecks
	if checks == nil {
		checks = []any{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"fields": fields, "entity_checks": checks})
}

// handleSchemaValidate validates a body as an insert would, without
// writing anything or checking references against the store.
func (s *Server) handleSchemaValidate(w http.ResponseWriter, r *http.Request) {
	name := pathVar(r, "db_entity_name")
	es, ok := entitySchemas[name]
	if !ok {
		s.writeError(w, r, errStatus(http.StatusNotFound, fmt.Sprintf("No entity named '%s'", name)))
		return
	}
	input, err := decodeBody(r, es)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, errs := es.build(input, nil); errs != nil {
		s.writeError(w, r, schemaViolation(errs))
		return
	}
	s.writeJSON(w, r, http.StatusOK, messageBody{Message: "schema validation successful"})
}

// fieldJSON renders one field definition the way Kong's /schemas does:
// validator functions are dropped, foreign fields keep only their
// reference.
func fieldJSON(f *field) map[string]any {
	m := map[string]any{"type": f.kind.String()}
	if f.required {
		m["required"] = true
	}
	if f.kind == kRecord {
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
		m["elements"] = fieldJSON(f.elements)
	}
	if f.keys != nil {
		m["keys"] = fieldJSON(f.keys)
	}
	if f.values != nil {
		m["values"] = fieldJSON(f.values)
	}
	if f.fields != nil {
		sub := make([]any, 0, len(f.fields))
		for _, sf := range f.fields {
			sub = append(sub, map[string]any{sf.name: fieldJSON(sf)})
		}
		m["fields"] = sub
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
