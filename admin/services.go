package admin

import (
	"net/http"
	"time"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

var serviceOps = &entityOps[store.Service]{
	schema: schema.Services,
	byID:   (*store.Snapshot).ServiceByID,
	byKey:  (*store.Snapshot).ServiceByName,
	walk:   func(s *store.Snapshot) walkFunc[store.Service] { return s.WalkServices },
	id:     func(t *store.Service) string { return t.ID },
	tags:   func(t *store.Service) []string { return t.Tags },
	upsert: func(t *store.Service, create bool) store.Mutation {
		return store.Mutation{Op: store.OpUpsertService, ID: t.ID, Create: create, Service: t}
	},
	remove: store.OpDeleteService,
	stamp: func(t *store.Service, id string, prev *store.Service, now time.Time) {
		t.ID, t.CreatedAt, t.UpdatedAt = id, now.Unix(), now.Unix()
		if prev != nil {
			t.CreatedAt = prev.CreatedAt
		}
	},
	refs: certificateRefs,
}

// certificateRefs rejects client_certificate and ca_certificates
// references: switchboard stores no certificates, so any such reference
// would dangle, and Kong answers a dangling reference with code 4.
func certificateRefs(m map[string]any) error {
	if fk, ok := m["client_certificate"].(map[string]any); ok {
		id, _ := fk["id"].(string)
		return errForeignKey("client_certificate", "certificates", id)
	}
	if list, ok := m["ca_certificates"].([]any); ok && len(list) > 0 {
		id, _ := list[0].(string)
		return errForeignKey("ca_certificates", "ca_certificates", id)
	}
	return nil
}

func (s *Server) registerServiceRoutes() {
	s.handleFunc("/services", http.MethodGet, s.handleServiceList)
	s.handleFunc("/services", http.MethodPost, s.handleServiceCreate)
	s.handleFunc("/services/{services}", http.MethodGet, s.handleServiceGet)
	s.handleFunc("/services/{services}", http.MethodPut, s.handleServicePut)
	s.handleFunc("/services/{services}", http.MethodPatch, s.handleServicePatch)
	s.handleFunc("/services/{services}", http.MethodDelete, s.handleServiceDelete)
}

func (s *Server) handleServiceList(w http.ResponseWriter, r *http.Request) {
	serviceOps.list(s, w, r)
}

func (s *Server) handleServiceCreate(w http.ResponseWriter, r *http.Request) {
	serviceOps.create(s, w, r, nil)
}

func (s *Server) handleServiceGet(w http.ResponseWriter, r *http.Request) {
	serviceOps.read(s, w, r, pathVar(r, "services"))
}

func (s *Server) handleServicePut(w http.ResponseWriter, r *http.Request) {
	serviceOps.put(s, w, r, pathVar(r, "services"), nil)
}

func (s *Server) handleServicePatch(w http.ResponseWriter, r *http.Request) {
	serviceOps.patchByKey(s, w, r, pathVar(r, "services"))
}

func (s *Server) handleServiceDelete(w http.ResponseWriter, r *http.Request) {
	serviceOps.del(s, w, r, pathVar(r, "services"))
}
