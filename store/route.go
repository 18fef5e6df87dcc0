package store

import (
	memdb "github.com/hashicorp/go-memdb"
)

func routeTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableRoutes,
		Indexes: map[string]*memdb.IndexSchema{
			indexID:      idIndex(),
			indexName:    {Name: indexName, AllowMissing: true, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}},
			indexService: {Name: indexService, AllowMissing: true, Indexer: funcIndex{key: routeServiceID}},
			indexTags:    tagsIndex(),
		},
	}
}

// routeServiceID keys the service index; routes without a service are left
// out of it.
func routeServiceID(obj any) string {
	if r := obj.(*Route); r.Service != nil {
		return r.Service.ID
	}
	return ""
}

// Routes returns every route in id order.
func (s *Snapshot) Routes() ([]*Route, error) {
	return all[Route](s.txn, tableRoutes, indexID)
}

// WalkRoutes visits routes with id > after in id order until fn is false.
func (s *Snapshot) WalkRoutes(after string, fn func(*Route) bool) error {
	return walkAfter(s.txn, tableRoutes, after, fn)
}

// RoutesByService returns the routes of one service in id order.
func (s *Snapshot) RoutesByService(serviceID string) ([]*Route, error) {
	return all[Route](s.txn, tableRoutes, indexService, serviceID)
}

// RouteByID returns the route or nil.
func (s *Snapshot) RouteByID(id string) (*Route, error) {
	return first[Route](s.txn, tableRoutes, indexID, id)
}

// RouteByName returns the route or nil.
func (s *Snapshot) RouteByName(name string) (*Route, error) {
	return first[Route](s.txn, tableRoutes, indexName, name)
}

func (w *writer) upsertRoute(r *Route, create bool) error {
	if r == nil || r.ID == "" {
		return ErrInvalidMutation
	}
	existing, err := first[Route](w.txn, tableRoutes, indexID, r.ID)
	if err != nil {
		return err
	}
	if existing != nil && create {
		return &PrimaryKeyError{Entity: tableRoutes, ID: r.ID}
	}
	if r.Name != nil {
		other, err := first[Route](w.txn, tableRoutes, indexName, *r.Name)
		if err != nil {
			return err
		}
		if other != nil && other.ID != r.ID {
			return &UniqueError{Entity: tableRoutes, Fields: []Field{{Name: "name", Value: *r.Name}}}
		}
	}
	if r.Service != nil {
		svc, err := first[Service](w.txn, tableServices, indexID, r.Service.ID)
		if err != nil {
			return err
		}
		if svc == nil {
			return &ForeignKeyError{Field: "service", Entity: tableServices, ID: r.Service.ID}
		}
	}
	cp := *r
	cp.CreateIndex, cp.ModifyIndex = w.index, w.index
	if existing != nil {
		cp.CreateIndex = existing.CreateIndex
		cp.CreatedAt = existing.CreatedAt
	}
	return w.insert(tableRoutes, &cp)
}

func (w *writer) deleteRoute(id string) error {
	existing, err := first[Route](w.txn, tableRoutes, indexID, id)
	if err != nil {
		return err
	}
	if existing == nil {
		return ErrNotFound
	}
	return w.delete(tableRoutes, existing)
}
