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
//   - node_admin.go the admin address each Envoy advertises (node metadata),
//     for the health poller
//   - metrics.go   Prometheus metrics on a private registry
//   - names.go     which hostnames to resolve
//   - changes.go   which upstreams a commit touched (endpoints-only path)
//   - translate.go the Translator seam; translate_default.go adapts the
//     translator package to it
//
// Subpackage resolve resolves target and service hostnames (EDS needs IPs);
// subpackage envoyhealth polls each Envoy's admin API for host health.
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
