package admin

import (
	"net/http"

	"github.com/switchboard-gw/switchboard/store"
)

// errCacheUnreadable answers the reads of Kong's proxy-cache API: the
// entries live in each Envoy's memory (its cache filter), which Envoy
// exposes to nobody, so there is nothing to show. Purges work.
var errCacheUnreadable = errStatus(http.StatusNotImplemented,
	"cache entries live in each Envoy's memory and cannot be read through the Admin API; DELETE purges them")

// registerProxyCacheRoutes serves Kong's proxy-cache Admin API
// (kong/plugins/proxy-cache/api.lua). A purge is a touch of the proxy-cache
// plugins concerned: the translator keys Envoy's cache by each plugin's
// revision, so the next request of every route of a touched plugin misses.
// Envoy cannot drop one entry, so a per-key DELETE purges all that key's
// possible owners (docs/plugins.md).
func (s *Server) registerProxyCacheRoutes() {
	s.handleFunc("/proxy-cache", http.MethodDelete, func(w http.ResponseWriter, r *http.Request) {
		s.purgeCaches(w, r, "")
	})
	s.handleFunc("/proxy-cache/{cache_key}", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errCacheUnreadable)
	})
	s.handleFunc("/proxy-cache/{cache_key}", http.MethodDelete, func(w http.ResponseWriter, r *http.Request) {
		s.purgeCaches(w, r, "")
	})
	s.handleFunc("/proxy-cache/{plugin_id}/caches/{cache_key}", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		if s.cachePluginOr404(w, r) != nil {
			s.writeError(w, r, errCacheUnreadable)
		}
	})
	s.handleFunc("/proxy-cache/{plugin_id}/caches/{cache_key}", http.MethodDelete, func(w http.ResponseWriter, r *http.Request) {
		if p := s.cachePluginOr404(w, r); p != nil {
			s.purgeCaches(w, r, p.ID)
		}
	})
}

// cachePluginOr404 is the proxy-cache plugin named by the path's id, or nil
// after Kong's 404.
func (s *Server) cachePluginOr404(w http.ResponseWriter, r *http.Request) *store.Plugin {
	p, err := s.store.Snapshot().PluginByID(pathVar(r, "plugin_id"))
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	if p == nil || p.Name != "proxy-cache" {
		s.writeError(w, r, errNotFound)
		return nil
	}
	return p
}

// purgeCaches touches every proxy-cache plugin (only id's when set) in one
// write and answers 204.
func (s *Server) purgeCaches(w http.ResponseWriter, r *http.Request, id string) {
	plugins, err := s.store.Snapshot().Plugins()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var batch []store.Mutation
	for _, p := range plugins {
		if p.Name == "proxy-cache" && (id == "" || p.ID == id) {
			batch = append(batch, *store.Touch("plugins", p.ID))
		}
	}
	if len(batch) > 0 && !s.apply(w, r, store.Mutation{Op: store.OpBatch, Batch: batch}) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
