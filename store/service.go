package store

// serviceKind: unique name (nullable), references to a client certificate
// and CA certificates (certificate.go); routes reference services with
// Restrict (Kong answers 400 rather than cascading).
var serviceKind = &Kind{
	Table:  tableServices,
	New:    func() Row { return new(Service) },
	Unique: []UniqueKey{nameKey(func(r Row) *string { return r.(*Service).Name })},
	Refs:   []Ref{serviceClientCertRef, serviceCACertsRef},
	Tagged: true,
}

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
