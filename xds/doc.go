// Package xds serves the store's configuration to Envoy over ADS (gRPC,
// state-of-the-world and delta) with go-control-plane, and owns the loop
// that watches the store, translates, validates and publishes.
//
// Layout (one concern per file):
//
//   - server.go    the Server: gRPC with keepalive, ADS registration, Stop
//   - cache.go     the cache layout: one adscache.Cache for every type
//   - publish.go   the loop: store revision → publish at once, fold what
//     arrives meanwhile
//   - snapshot.go  one publish: the O(change) path when the translator has
//     one, else translate everything; whole-set diff against the cache
//   - incremental.go the O(change) path: change feed → incremental
//     translation → validate, check and marshal only the delta
//   - routebytes.go the route configuration marshalled (and validated)
//     from ropes of virtual hosts and routes, handed to the cache as
//     pieces, its version a polynomial hash of their hashes (polyhash.go)
//   - rope.go      the rope: records in leaves, matched by proto pointer
//   - validate.go  ValidateAll on changed resources, fix-ups, Consistent()
//   - nodes.go     stream callbacks: connected Envoys, ACKs, NACKs,
//     commit → ACK propagation
//   - acked_revision.go which store revision each Envoy has ACKed
//   - quarantine.go NACK isolation: a NACK's suspects left out, released
//     when written again
//   - dataplanes.go GET /clustering/data-planes
//   - node_admin.go the admin address each Envoy advertises (node metadata),
//     for the health poller
//   - metrics.go   Prometheus metrics on a private registry
//   - names.go     which hostnames to resolve
//   - changes.go   which upstreams a commit touched (endpoints-only path of
//     translators without an incremental API)
//   - translate.go the Translator seam; translate_default.go adapts the
//     translator package to it
//
// Subpackage adscache is the xDS cache (one marshalled copy per resource,
// name → watch index, watches that survive ACKs); resolve resolves target
// and service hostnames (EDS needs IPs); envoyhealth polls each Envoy's
// admin API for the host health of health-checked upstreams.
//
// Use (cmd/switchboard does this):
//
//	res := resolve.New(resolve.Options{HostsFile: flagHostsFile})
//	go res.Run(ctx)                          // TTL refresh, retries, hosts-file re-reads
//	srv := xds.New(st, res, xds.Options{TranslatorOptions: translator.Options{...}})
//	go srv.Run(ctx)                          // first publish, then the loop
//	<-srv.Ready()                            // the cache holds the loaded store
//	go srv.Serve(xdsListener)                // ADS, SotW and delta
//	mux.Handle("/clustering/data-planes", srv.DataPlanesHandler())
//	mux.Handle("/metrics", srv.MetricsHandler())
//	...
//	srv.Stop()
//
// srv.WaitPublished(ctx, rev) blocks until the configuration of store
// revision rev is in the cache (tests, benchmarks, read-your-writes).
//
// xds imports store and translator; nothing imports xds but cmd.
package xds
