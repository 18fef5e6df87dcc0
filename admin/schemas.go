package admin

import (
	"fmt"
	"net/http"

	"github.com/switchboard-gw/switchboard/schema"
)

func (s *Server) registerSchemaRoutes() {
	// Plugins first (plugins.go): /schemas/plugins/validate and
	// /schemas/plugins/{name} are the plugins' own.
	s.handleFunc("/schemas/plugins/validate", http.MethodPost, s.handlePluginValidate)
	s.handleFunc("/schemas/plugins/{name}", http.MethodGet, s.handlePluginSchema)
	s.handleFunc("/schemas/{db_entity_name}", http.MethodGet, s.handleSchemaGet)
	s.handleFunc("/schemas/{db_entity_name}/validate", http.MethodPost, s.handleSchemaValidate)
}

// servedSchema is the schema of an entity this server has endpoints for.
func (s *Server) servedSchema(w http.ResponseWriter, r *http.Request) *schema.Entity {
	name := pathVar(r, "db_entity_name")
	es := schema.Get(name)
	if es == nil || !s.serves(name) {
		s.writeError(w, r, errStatus(http.StatusNotFound, fmt.Sprintf("No entity named '%s'", name)))
		return nil
	}
	return es
}

// handleSchemaGet serves Kong's Lua-schema JSON, generated from the same
// definitions that validate requests.
func (s *Server) handleSchemaGet(w http.ResponseWriter, r *http.Request) {
	if es := s.servedSchema(w, r); es != nil {
		s.writeJSON(w, r, http.StatusOK, es.JSON())
	}
}

// handleSchemaValidate validates a body as an insert would, without
// writing anything or checking references against the store.
func (s *Server) handleSchemaValidate(w http.ResponseWriter, r *http.Request) {
	es := s.servedSchema(w, r)
	if es == nil {
		return
	}
	input, err := decodeBody(r, es)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, errs := es.Build(input, nil); errs != nil {
		s.writeError(w, r, schemaViolation(errs))
		return
	}
	s.writeJSON(w, r, http.StatusOK, messageBody{Message: "schema validation successful"})
}
