// Package schema is switchboard's one source of Kong knowledge: the schema
// engine (Kong's kong/db/schema in Go), the entity schemas with their
// defaults and entity checks, and the normalisers that go with them (target
// and host parsing, the default target port, the services url shorthand).
//
// The Admin API validates with it and serves /schemas from it; test
// fixtures fill Kong's defaults from it; the translator, xds and cmd parse
// targets with SplitTarget. It imports nothing of ours.
//
// Files: field.go (types and constructors), validate.go (Build: defaults,
// merge, field validation), checks.go (entity checks as data), json.go
// (/schemas rendering), registry.go (Get, All, Register, Defaults),
// errors.go (Kong's error tables), typedefs.go and hostname.go (Kong's
// typedefs), target.go (targets), urlparse.go (url shorthand, path
// normalisation), and one file per entity.
package schema
