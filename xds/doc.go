// Package xds serves the store's configuration to Envoy over ADS (gRPC,
// state-of-the-world and delta) with go-control-plane, and owns the loop
// that watches the store, translates, validates and publishes.
//
// Layout (one concern per file):
//
//   - server.go    the Server: gRPC with keepalive, ADS registration, Stop
//   - cache.go     the cache layout (snapshot cache for CDS/LDS/RDS, a
//     LinearCache for EDS, both behind a MuxCache) and the node hash
//   - publish.go   the loop: store revision → coalesce → publish
//   - snapshot.go  one publish: translate, validate, hash, diff, set
//   - validate.go  ValidateAll on every resource, fix-ups, Consistent()
//   - nodes.go     stream callbacks: connected Envoys, ACKs, NACKs
//   - dataplanes.go GET /clustering/data-planes
//   - metrics.go   Prometheus metrics on a private registry
//   - names.go, changes.go  what to resolve, and what a commit changed
//
// Subpackage resolve resolves target and service hostnames (EDS needs IPs).
//
// xds imports store and translator; nothing imports xds but cmd.
package xds
