package admin

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// pluginOptions: the plugins entity's hand-written endpoints and its DAO
// check against the route and service it is attached to.
var pluginOptions = entityOptions{
	extras: func(s *Server) {
		s.handleFunc("/plugins/enabled", http.MethodGet, s.handlePluginsEnabled)
		s.handleFunc("/plugins/schema/{name}", http.MethodGet, s.handlePluginConfigSchema)
	},
	after: checkPluginProtocols,
}

// handlePluginsEnabled is GET /plugins/enabled: the plugins this node
// accepts.
func (s *Server) handlePluginsEnabled(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, map[string]any{"enabled_plugins": schema.PluginNames()})
}

// pluginOr404 finds the plugin schema named in the path, writing Kong's
// 404 when there is none.
func (s *Server) pluginOr404(w http.ResponseWriter, r *http.Request) *schema.Plugin {
	name := pathVar(r, "name")
	p := schema.GetPlugin(name)
	if p == nil {
		s.writeError(w, r, errStatus(http.StatusNotFound, fmt.Sprintf("No plugin named '%s'", name)))
	}
	return p
}

// handlePluginSchema is GET /schemas/plugins/{name}: the plugin's
// subschema, whose config defaults decK fills plugins with.
func (s *Server) handlePluginSchema(w http.ResponseWriter, r *http.Request) {
	if p := s.pluginOr404(w, r); p != nil {
		s.writeJSON(w, r, http.StatusOK, p.JSON())
	}
}

// handlePluginConfigSchema is the deprecated GET /plugins/schema/{name}:
// the config record's schema alone.
func (s *Server) handlePluginConfigSchema(w http.ResponseWriter, r *http.Request) {
	if p := s.pluginOr404(w, r); p != nil {
		cfg := p.JSON()["fields"].([]any)
		for _, f := range cfg {
			if c, ok := f.(map[string]any)["config"]; ok {
				s.writeJSON(w, r, http.StatusOK, c)
				return
			}
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{"fields": []any{}})
	}
}

// handlePluginValidate is POST /schemas/plugins/validate: a plugin body
// checked as an insert would be, without references or writes.
func (s *Server) handlePluginValidate(w http.ResponseWriter, r *http.Request) {
	input, err := decodeBody(r, schema.Plugins)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, errs := schema.Plugins.Build(input, nil); errs != nil {
		s.writeError(w, r, schemaViolation(errs))
		return
	}
	s.writeJSON(w, r, http.StatusOK, messageBody{Message: "schema validation successful"})
}

// pluginsInfo is GET /'s plugins object: every plugin this node accepts
// with its priority, and the names of the plugins configured.
func (s *Server) pluginsInfo() map[string]any {
	avail := map[string]any{}
	for _, name := range schema.PluginNames() {
		avail[name] = map[string]any{"version": s.opts.Version, "priority": schema.GetPlugin(name).Priority()}
	}
	inUse := []string{}
	if rows, err := s.store.Snapshot().Plugins(); err == nil {
		for _, p := range rows {
			if !slices.Contains(inUse, p.Name) {
				inUse = append(inUse, p.Name)
			}
		}
	}
	slices.Sort(inUse)
	return map[string]any{"available_on_server": avail, "enabled_in_cluster": inUse}
}

// checkPluginProtocols is Kong's DAO check (kong/db/dao/plugins.lua): a
// plugin must share a protocol with its route, or with at least one route
// of its service (a service without routes passes).
func checkPluginProtocols(_ *Server, snap *store.Snapshot, row store.Row, _ any) error {
	return pluginProtocols(row.(*store.Plugin), snap.RouteByID, snap.RoutesByService)
}

// pluginProtocols is that check over any source of routes: the store, or
// a declarative file's (config_plan.go), which is the whole state.
func pluginProtocols(p *store.Plugin, routeByID func(string) (*store.Route, error), routesOf func(string) ([]*store.Route, error)) error {
	shares := func(protocols []string) bool {
		for _, proto := range protocols {
			if slices.Contains(p.Protocols, proto) {
				return true
			}
		}
		return false
	}
	if p.Route != nil {
		rt, err := routeByID(p.Route.ID)
		if err != nil {
			return err
		}
		if rt != nil && !shares(rt.Protocols) {
			return schemaViolation(schema.FieldErrors{"protocols": "must match the associated route's protocols"})
		}
		return nil
	}
	if p.Service != nil {
		routes, err := routesOf(p.Service.ID)
		if err != nil {
			return err
		}
		for _, rt := range routes {
			if shares(rt.Protocols) {
				return nil
			}
		}
		if len(routes) > 0 {
			return schemaViolation(schema.FieldErrors{"protocols": "must match the protocols of at least one route pointing to this Plugin's service"})
		}
	}
	return nil
}
