// Package store owns switchboard's entities (Service, Route, Upstream, Target
// and the manual target-health overrides) as plain Go structs, their go-memdb
// schema, every read and write, and the revision counter that the xDS loop
// publishes as the Envoy config version.
//
// Every table is described once by a Kind (kind.go; the list is in
// schema.go): its unique keys, its references and what deleting a referenced
// row does. The memdb schema, the generic upsert and delete (write.go),
// mutation decoding (mutation.go), Dump/Restore (dump.go) and the generic
// reads (snapshot.go) are derived from it; each entity file holds its Kind
// and typed one-line getters.
//
// Every write is a serialisable Mutation applied through Store.Apply, so a
// replicated log (hashicorp/raft) can sit in front of ApplyAt without touching
// callers. Kong's referential rules (unique keys, foreign keys, cascades) are
// enforced here, inside the write transaction, because go-memdb's Unique index
// flag does not reject duplicates.
//
// store imports nothing of switchboard's own packages.
package store
