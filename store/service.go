package store

import "errors"

// serviceKind: unique name (nullable), references to a client certificate
// and CA certificates join here when those tables exist; routes reference
// services with Restrict (Kong answers 400 rather than cascading).
var serviceKind = &Kind{
	Table:  tableServices,
	New:    func() Row { return new(Service) },
	Unique: []UniqueKey{nameKey(func(r Row) *string { return r.(*Service).Name })},
	Tagged: true,
}

// nameKey is Kong's unique, nullable name: a row without one is not
// subject to the key.
func nameKey(name func(Row) *string) UniqueKey {
	return UniqueKey{Name: indexName, Fields: []string{"name"}, Values: func(r Row) []any {
		if n := name(r); n != nil {
			return []any{*n}
		}
		return nil
	}}
}

// errNoName rejects a row whose required name is empty.
var errNoName = errors.New("name is required")

// Services returns every service in id order.
func (s *Snapshot) Services() ([]*Service, error) { return all[Service](s.txn, tableServices, indexID) }

// WalkServices visits services with id > after in id order until fn is false.
func (s *Snapshot) WalkServices(after string, fn func(*Service) bool) error {
	return walkAfter(s.txn, serviceKind, after, fn)
}

// ServiceByID returns the service or nil.
func (s *Snapshot) ServiceByID(id string) (*Service, error) {
	return first[Service](s.txn, tableServices, indexID, id)
}

// ServiceByName returns the service or nil.
func (s *Snapshot) ServiceByName(name string) (*Service, error) {
	return first[Service](s.txn, tableServices, indexName, mustKey(name))
}

// mustKey encodes one string as a unique-key index argument.
func mustKey(vals ...any) string {
	k, _ := uniqueKey(vals)
	return k
}
