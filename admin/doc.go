// Package admin is switchboard's Kong-compatible Admin API: HTTP routing
// (gorilla/mux), decoding of JSON, urlencoded and multipart bodies with Kong's
// rules, applying the Kong schemas of package schema, Kong-shaped errors and
// pagination.
//
// The contract is Kong Gateway 3.9 (summary: docs/kong-contract.md): field
// names, defaults, status codes and error bodies follow Kong Gateway 3.9 so
// that Kong's walkthroughs, go-kong and decK work unchanged.
//
// Endpoints are derived, not written per entity: New serves every store
// kind that has a Kong schema (entity.go), with the collection and entity
// endpoints of crud.go and, per foreign key, the three nested families of
// kong/api/endpoints.lua (foreign.go). What Kong writes by hand for one
// entity is an entityOptions value beside it (targets.go, upstreams.go,
// services.go). Adding an entity is a store.Kind and a schema.Entity.
//
// Every handler parses, validates, then makes exactly one store.Apply call
// (an OpBatch when a request needs several rows) and renders the result;
// writeError is the only place that maps errors to HTTP. The package knows
// nothing of Envoy: what the data plane reports about target health reaches
// it through the small HealthSource interface.
//
// admin imports store and schema only; nothing but cmd imports admin.
package admin
