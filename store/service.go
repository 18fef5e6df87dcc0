package store

import (
	memdb "github.com/hashicorp/go-memdb"
)

func serviceTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableServices,
		Indexes: map[string]*memdb.IndexSchema{
			indexID:   idIndex(),
			indexName: {Name: indexName, AllowMissing: true, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}},
			indexTags: tagsIndex(),
		},
	}
}

// Services returns every service in id order.
func (s *Snapshot) Services() ([]*Service, error) {
	return all[Service](s.txn, tableServices, indexID)
}

// WalkServices visits services with id > after in id order until fn is false.
func (s *Snapshot) WalkServices(after string, fn func(*Service) bool) error {
	return walkAfter(s.txn, tableServices, after, fn)
}

// ServiceByID returns the service or nil.
func (s *Snapshot) ServiceByID(id string) (*Service, error) {
	return first[Service](s.txn, tableServices, indexID, id)
}

// ServiceByName returns the service or nil.
func (s *Snapshot) ServiceByName(name string) (*Service, error) {
	return first[Service](s.txn, tableServices, indexName, name)
}

func (w *writer) upsertService(svc *Service, create bool) error {
	if svc == nil || svc.ID == "" {
		return ErrInvalidMutation
	}
	existing, err := first[Service](w.txn, tableServices, indexID, svc.ID)
	if err != nil {
		return err
	}
	if existing != nil && create {
		return &PrimaryKeyError{Entity: tableServices, ID: svc.ID}
	}
	if svc.Name != nil {
		other, err := first[Service](w.txn, tableServices, indexName, *svc.Name)
		if err != nil {
			return err
		}
		if other != nil && other.ID != svc.ID {
			return &UniqueError{Entity: tableServices, Fields: []Field{{Name: "name", Value: *svc.Name}}}
		}
	}
	cp := *svc
	cp.CreateIndex, cp.ModifyIndex = w.index, w.index
	if existing != nil {
		cp.CreateIndex = existing.CreateIndex
		cp.CreatedAt = existing.CreatedAt
	}
	return w.insert(tableServices, &cp)
}

// deleteService refuses while routes reference the service (Kong answers
// 400 foreign key violation rather than cascading).
func (w *writer) deleteService(id string) error {
	existing, err := first[Service](w.txn, tableServices, indexID, id)
	if err != nil {
		return err
	}
	if existing == nil {
		return ErrNotFound
	}
	ref, err := first[Route](w.txn, tableRoutes, indexService, id)
	if err != nil {
		return err
	}
	if ref != nil {
		return &ReferencedError{Entity: tableServices, ReferencedBy: tableRoutes}
	}
	return w.delete(tableServices, existing)
}
