package raftstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-gw/switchboard/store"
)

// wireError carries a store error from the leader to the follower that
// forwarded the write, so the follower's Admin API answers exactly as the
// leader's would have.
type wireError struct {
	Kind         string      `json:"kind"`
	Entity       string      `json:"entity,omitempty"`
	ID           string      `json:"id,omitempty"`
	Field        string      `json:"field,omitempty"`
	ReferencedBy string      `json:"referenced_by,omitempty"`
	Fields       []wireField `json:"fields,omitempty"`
	Message      string      `json:"message"`
}

type wireField struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

func toWire(err error) wireError {
	w := wireError{Kind: "other", Message: err.Error()}
	var (
		ue *store.UniqueError
		pe *store.PrimaryKeyError
		fe *store.ForeignKeyError
		re *store.ReferencedError
	)
	switch {
	case errors.As(err, &ue):
		w.Kind, w.Entity = "unique", ue.Entity
		for _, f := range ue.Fields {
			raw, _ := json.Marshal(f.Value)
			w.Fields = append(w.Fields, wireField{Name: f.Name, Value: raw})
		}
	case errors.As(err, &pe):
		w.Kind, w.Entity, w.ID = "primary_key", pe.Entity, pe.ID
	case errors.As(err, &fe):
		w.Kind, w.Entity, w.ID, w.Field = "foreign_key", fe.Entity, fe.ID, fe.Field
	case errors.As(err, &re):
		w.Kind, w.Entity, w.ReferencedBy = "referenced", re.Entity, re.ReferencedBy
	case errors.Is(err, store.ErrNotFound):
		w.Kind = "not_found"
	case errors.Is(err, store.ErrUnavailable):
		w.Kind = "unavailable"
	case errors.Is(err, store.ErrInvalidMutation):
		w.Kind = "invalid"
	}
	return w
}

func (w wireError) toError() error {
	switch w.Kind {
	case "unique":
		ue := &store.UniqueError{Entity: w.Entity}
		for _, f := range w.Fields {
			var fk store.ForeignKey
			var s string
			if json.Unmarshal(f.Value, &s) == nil {
				ue.Fields = append(ue.Fields, store.Field{Name: f.Name, Value: s})
			} else if json.Unmarshal(f.Value, &fk) == nil {
				ue.Fields = append(ue.Fields, store.Field{Name: f.Name, Value: fk})
			}
		}
		return ue
	case "primary_key":
		return &store.PrimaryKeyError{Entity: w.Entity, ID: w.ID}
	case "foreign_key":
		return &store.ForeignKeyError{Field: w.Field, Entity: w.Entity, ID: w.ID}
	case "referenced":
		return &store.ReferencedError{Entity: w.Entity, ReferencedBy: w.ReferencedBy}
	case "not_found":
		return store.ErrNotFound
	case "unavailable":
		return fmt.Errorf("%w: leader: %s", store.ErrUnavailable, w.Message)
	case "invalid":
		return fmt.Errorf("%w: leader: %s", store.ErrInvalidMutation, w.Message)
	}
	return fmt.Errorf("raftstore: leader: %s", w.Message)
}
