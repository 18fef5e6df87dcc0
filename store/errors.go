package store

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned by deletes and updates of an entity that does not
// exist.
var ErrNotFound = errors.New("not found")

// ErrInvalidMutation is returned for a mutation whose op or payload is
// malformed: a programmer error in the caller, never a user error.
var ErrInvalidMutation = errors.New("invalid mutation")

// Field is one (name, value) pair of a unique key, in the order Kong prints
// them. Value is a string or a ForeignKey.
type Field struct {
	Name  string
	Value any
}

// UniqueError reports a write that would duplicate a unique key (Kong code 5,
// HTTP 409): a name, or a target's (upstream, target) pair.
type UniqueError struct {
	Entity string // table, e.g. "services"
	Fields []Field
}

func (e *UniqueError) Error() string {
	return fmt.Sprintf("unique constraint violation on %s: %v", e.Entity, e.Fields)
}

// PrimaryKeyError reports a create whose client-supplied id already exists
// (Kong code 3).
type PrimaryKeyError struct {
	Entity string
	ID     string
}

func (e *PrimaryKeyError) Error() string {
	return fmt.Sprintf("primary key violation on %s id %s", e.Entity, e.ID)
}

// ForeignKeyError reports a reference to an entity that does not exist (Kong
// code 4): Field is the referencing field ("service", "upstream"), Entity the
// referenced table.
type ForeignKeyError struct {
	Field  string
	Entity string
	ID     string
}

func (e *ForeignKeyError) Error() string {
	return fmt.Sprintf("the foreign key %s id %s does not reference an existing '%s' entity", e.Field, e.ID, e.Entity)
}

// ReferencedError reports a delete refused because other entities still
// reference the row (Kong code 4, "@referenced_by").
type ReferencedError struct {
	Entity       string // the table whose row was to be deleted
	ReferencedBy string // the referencing table
	ID           string // the row that was to be deleted
	ReferrerID   string // one referencing row (Kong's code 19 names it)
}

func (e *ReferencedError) Error() string {
	return fmt.Sprintf("an existing '%s' entity references this '%s' entity", e.ReferencedBy, e.Entity)
}

// ErrUnavailable is returned when a write cannot be committed right now: no
// leader is known, or the cluster has lost its quorum. The Admin API answers
// 503 so clients retry; reads keep being served from the local replica.
var ErrUnavailable = errors.New("the cluster cannot accept writes right now")
