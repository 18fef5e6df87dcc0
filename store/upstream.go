package store

// upstreamKind: a required unique name; deleting an upstream cascades to
// its targets (and so to their health overrides), as Kong does.
var upstreamKind = &Kind{
	Table: tableUpstreams,
	New:   func() Row { return new(Upstream) },
	Validate: func(r Row) error {
		if r.(*Upstream).Name == "" {
			return errNoName
		}
		return nil
	},
	Unique: []UniqueKey{{Name: indexName, Fields: []string{"name"}, Values: func(r Row) []any { return []any{r.(*Upstream).Name} }}},
	Refs:   []Ref{upstreamClientCertRef},
	Tagged: true,
}

// Upstreams returns every upstream in id order.
func (s *Snapshot) Upstreams() ([]*Upstream, error) {
	return all[Upstream](s.txn, tableUpstreams, indexID)
}

// WalkUpstreams visits upstreams with id > after in id order until fn is false.
func (s *Snapshot) WalkUpstreams(after string, fn func(*Upstream) bool) error {
	return walkAfter(s.txn, upstreamKind, after, fn)
}

// UpstreamByID returns the upstream or nil.
func (s *Snapshot) UpstreamByID(id string) (*Upstream, error) {
	return first[Upstream](s.txn, tableUpstreams, indexID, id)
}

// UpstreamByName returns the upstream or nil.
func (s *Snapshot) UpstreamByName(name string) (*Upstream, error) {
	return first[Upstream](s.txn, tableUpstreams, indexName, mustKey(name))
}
