package admin

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

var routeOps = &entityOps[store.Route]{
	schema: schema.Routes,
	byID:   (*store.Snapshot).RouteByID,
	byKey:  (*store.Snapshot).RouteByName,
	walk:   func(s *store.Snapshot) walkFunc[store.Route] { return s.WalkRoutes },
	id:     func(t *store.Route) string { return t.ID },
	tags:   func(t *store.Route) []string { return t.Tags },
	upsert: func(t *store.Route, create bool) store.Mutation {
		return store.Mutation{Op: store.OpUpsertRoute, ID: t.ID, Create: create, Route: t}
	},
	remove: store.OpDeleteRoute,
	stamp: func(t *store.Route, id string, prev *store.Route, now time.Time) {
		t.ID, t.CreatedAt, t.UpdatedAt = id, now.Unix(), now.Unix()
		if prev != nil {
			t.CreatedAt = prev.CreatedAt
		}
	},
	resolve: resolveServiceRef,
}

// resolveServiceRef resolves route.service given as {name: ...} to its id,
// as Kong's DAO does before validation. An unknown name is code 13; a name
// its validator refuses is left for the schema to report.
func resolveServiceRef(snap *store.Snapshot, in map[string]any) error {
	ref, ok := in["service"].(map[string]any)
	if !ok || ref["id"] != nil {
		return nil
	}
	name, ok := ref["name"].(string)
	if !ok || schema.Services.ValidateKey(name) != "" {
		return nil
	}
	svc, err := snap.ServiceByName(name)
	if err != nil {
		return err
	}
	if svc == nil {
		return errForeignUnresolved("service", "name", name, "services")
	}
	in["service"] = map[string]any{"id": svc.ID}
	return nil
}

func (s *Server) registerRouteRoutes() {
	s.handleFunc("/routes", http.MethodGet, s.handleRouteList)
	s.handleFunc("/routes", http.MethodPost, s.handleRouteCreate)
	s.handleFunc("/routes/{routes}", http.MethodGet, s.handleRouteGet)
	s.handleFunc("/routes/{routes}", http.MethodPut, s.handleRoutePut)
	s.handleFunc("/routes/{routes}", http.MethodPatch, s.handleRoutePatch)
	s.handleFunc("/routes/{routes}", http.MethodDelete, s.handleRouteDelete)

	s.handleFunc("/services/{services}/routes", http.MethodGet, s.handleServiceRouteList)
	s.handleFunc("/services/{services}/routes", http.MethodPost, s.handleServiceRouteCreate)
	s.handleFunc("/services/{services}/routes/{routes}", http.MethodGet, s.handleServiceRouteGet)
	s.handleFunc("/services/{services}/routes/{routes}", http.MethodPut, s.handleServiceRoutePut)
	s.handleFunc("/services/{services}/routes/{routes}", http.MethodPatch, s.handleServiceRoutePatch)
	s.handleFunc("/services/{services}/routes/{routes}", http.MethodDelete, s.handleServiceRouteDelete)

	s.handleFunc("/routes/{routes}/service", http.MethodGet, s.handleRouteServiceGet)
	s.handleFunc("/routes/{routes}/service", http.MethodPut, s.handleRouteServicePut)
	s.handleFunc("/routes/{routes}/service", http.MethodPatch, s.handleRouteServicePatch)
	s.handleFunc("/routes/{routes}/service", http.MethodDelete, s.handleRouteServiceDelete)
}

func (s *Server) handleRouteList(w http.ResponseWriter, r *http.Request) { routeOps.list(s, w, r) }

func (s *Server) handleRouteCreate(w http.ResponseWriter, r *http.Request) {
	routeOps.create(s, w, r, nil)
}

func (s *Server) handleRouteGet(w http.ResponseWriter, r *http.Request) {
	routeOps.read(s, w, r, pathVar(r, "routes"))
}

func (s *Server) handleRoutePut(w http.ResponseWriter, r *http.Request) {
	routeOps.put(s, w, r, pathVar(r, "routes"), nil)
}

func (s *Server) handleRoutePatch(w http.ResponseWriter, r *http.Request) {
	routeOps.patchByKey(s, w, r, pathVar(r, "routes"))
}

func (s *Server) handleRouteDelete(w http.ResponseWriter, r *http.Request) {
	routeOps.del(s, w, r, pathVar(r, "routes"))
}

// parentService finds the service of a nested /services/{services}/...
// path, writing 404 (or the lookup error) when there is none.
func (s *Server) parentService(w http.ResponseWriter, r *http.Request, snap *store.Snapshot) *store.Service {
	svc, err := serviceOps.lookup(snap, pathVar(r, "services"))
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	if svc == nil {
		s.writeError(w, r, errNotFound)
	}
	return svc
}

// serviceRoute finds a route under its service; a route of another service
// is 404, as in Kong.
func (s *Server) serviceRoute(w http.ResponseWriter, r *http.Request) (*store.Service, *store.Route) {
	snap := s.store.Snapshot()
	svc := s.parentService(w, r, snap)
	if svc == nil {
		return nil, nil
	}
	route, err := routeOps.lookup(snap, pathVar(r, "routes"))
	if err != nil {
		s.writeError(w, r, err)
		return nil, nil
	}
	if route == nil || route.Service == nil || route.Service.ID != svc.ID {
		s.writeError(w, r, errNotFound)
		return nil, nil
	}
	return svc, route
}

// handleServiceRouteList lists one service's routes; tag filters are
// ignored on nested lists, as in Kong.
func (s *Server) handleServiceRouteList(w http.ResponseWriter, r *http.Request) {
	pq, err := parsePageQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after, err := pq.cursor()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	snap := s.store.Snapshot()
	svc := s.parentService(w, r, snap)
	if svc == nil {
		return
	}
	all, err := snap.RoutesByService(svc.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rows, next, err := walkPage(sliceWalk(all, routeOps.id), after, pq.size, nil, routeOps.id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := "/services/" + rawPathVar(r, "services") + "/routes"
	s.writeJSON(w, r, http.StatusOK, newPage(rows, next, nextLink(base, next, "", pq, false)))
}

func (s *Server) handleServiceRouteCreate(w http.ResponseWriter, r *http.Request) {
	svc := s.parentService(w, r, s.store.Snapshot())
	if svc == nil {
		return
	}
	routeOps.create(s, w, r, map[string]any{"service": map[string]any{"id": svc.ID}})
}

func (s *Server) handleServiceRouteGet(w http.ResponseWriter, r *http.Request) {
	if _, route := s.serviceRoute(w, r); route != nil {
		s.writeJSON(w, r, http.StatusOK, route)
	}
}

// handleServiceRoutePut upserts the route under this service; like Kong it
// does not require the route to belong to the service already.
func (s *Server) handleServiceRoutePut(w http.ResponseWriter, r *http.Request) {
	svc := s.parentService(w, r, s.store.Snapshot())
	if svc == nil {
		return
	}
	routeOps.put(s, w, r, pathVar(r, "routes"), map[string]any{"service": map[string]any{"id": svc.ID}})
}

func (s *Server) handleServiceRoutePatch(w http.ResponseWriter, r *http.Request) {
	svc, route := s.serviceRoute(w, r)
	if route == nil {
		return
	}
	routeOps.patch(s, w, r, route, map[string]any{"service": map[string]any{"id": svc.ID}}, false)
}

func (s *Server) handleServiceRouteDelete(w http.ResponseWriter, r *http.Request) {
	_, route := s.serviceRoute(w, r)
	if route == nil {
		return
	}
	if !s.apply(w, r, store.Mutation{Op: store.OpDeleteRoute, ID: route.ID}, store.ErrNotFound) {
		return
	}
	s.writeJSON(w, r, http.StatusNoContent, nil)
}

// routeService finds /routes/{routes} and its service (nil when detached).
func (s *Server) routeService(w http.ResponseWriter, r *http.Request) (*store.Route, *store.Service, bool) {
	snap := s.store.Snapshot()
	route, err := routeOps.lookup(snap, pathVar(r, "routes"))
	if err != nil {
		s.writeError(w, r, err)
		return nil, nil, false
	}
	if route == nil {
		s.writeError(w, r, errNotFound)
		return nil, nil, false
	}
	if route.Service == nil {
		return route, nil, true
	}
	svc, err := snap.ServiceByID(route.Service.ID)
	if err != nil {
		s.writeError(w, r, err)
		return nil, nil, false
	}
	return route, svc, true
}

func (s *Server) handleRouteServiceGet(w http.ResponseWriter, r *http.Request) {
	_, svc, ok := s.routeService(w, r)
	if !ok {
		return
	}
	if svc == nil {
		s.writeError(w, r, errNotFound)
		return
	}
	s.writeJSON(w, r, http.StatusOK, svc)
}

func (s *Server) handleRouteServicePatch(w http.ResponseWriter, r *http.Request) {
	_, svc, ok := s.routeService(w, r)
	if !ok {
		return
	}
	if svc == nil {
		s.writeError(w, r, errNotFound)
		return
	}
	serviceOps.patch(s, w, r, svc, nil, false)
}

// handleRouteServiceDelete is always refused: a route's service is deleted
// through /services. 404 when there is nothing to refuse.
func (s *Server) handleRouteServiceDelete(w http.ResponseWriter, r *http.Request) {
	_, svc, ok := s.routeService(w, r)
	if !ok {
		return
	}
	if svc == nil {
		s.writeError(w, r, errNotFound)
		return
	}
	s.writeError(w, r, errMethodNotAllowed)
}

// handleRouteServicePut replaces the route's service, or, when the route
// has none, creates a service and links the route to it: both rows in one
// batch so that neither is written alone.
func (s *Server) handleRouteServicePut(w http.ResponseWriter, r *http.Request) {
	route, svc, ok := s.routeService(w, r)
	if !ok {
		return
	}
	if svc != nil {
		serviceOps.put(s, w, r, svc.ID, nil)
		return
	}
	input, err := decodeBody(r, schema.Services)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := uuid.NewString()
	input["id"] = id
	newSvc, err := serviceOps.prepare(s.store.Snapshot(), input, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.opts.Now()
	serviceOps.stamp(newSvc, id, nil, now)
	linked := *route
	linked.Service = &store.ForeignKey{ID: id}
	linked.UpdatedAt = now.Unix()
	batch := store.Mutation{Op: store.OpBatch, Batch: []store.Mutation{
		serviceOps.upsert(newSvc, true),
		routeOps.upsert(&linked, false),
	}}
	if !s.apply(w, r, batch) {
		return
	}
	s.writeJSON(w, r, http.StatusOK, newSvc)
}
