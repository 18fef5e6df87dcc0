// Package store owns switchboard's entities (Service, Route, Upstream, Target
// and the manual target-health overrides) as plain Go structs, their go-memdb
// schema, every read and write, and the revision counter that the xDS loop
// publishes as the Envoy config version.
//
// Every write is a serialisable Mutation applied through Store.Apply, so a
// replicated log (hashicorp/raft) can sit in front of ApplyAt without touching
// callers. Kong's referential rules (unique names, foreign keys, cascades) are
// enforced here, inside the write transaction, because go-memdb's Unique index
// flag does not reject duplicates.
//
// store imports nothing of switchboard's own packages.
package store
