// Package adsclient dials the benchmark's simulated Envoys: internal/adstest's
// ADS client in incremental mode, keeping names and versions only so that a
// hundred of them fit in one benchmark process, with a node that says it is
// the benchmark's. The client records every response (time, type, names,
// bytes) so that a benchmark can see what one change pushed.
package adsclient
