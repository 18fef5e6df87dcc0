package store

// routeKind: unique nullable name; a route's service is optional and its
// deletion is refused while routes reference it.
var routeKind = &Kind{
	Table:  tableRoutes,
	New:    func() Row { return new(Route) },
	Unique: []UniqueKey{nameKey(func(r Row) *string { return r.(*Route).Name })},
	Refs: []Ref{{Field: indexService, Table: tableServices, OnDelete: Restrict,
		IDs: func(r Row) []string { return fkIDs(r.(*Route).Service) }}},
	Tagged: true,
}

// Routes returns every route in id order.
func (s *Snapshot) Routes() ([]*Route, error) { return all[Route](s.txn, tableRoutes, indexID) }

// WalkRoutes visits routes with id > after in id order until fn is false.
func (s *Snapshot) WalkRoutes(after string, fn func(*Route) bool) error {
	return walkAfter(s.txn, routeKind, after, fn)
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
	return first[Route](s.txn, tableRoutes, indexName, mustKey(name))
}
