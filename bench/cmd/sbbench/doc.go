// Command sbbench runs the switchboard benchmarks against the
// real binary, a real Envoy, nginx and loopback backends, and writes
// BENCHMARKS.md. `make bench` runs it; BENCH_QUICK=1 (or -quick) runs every
// scenario at small sizes in about a minute.
//
// Usage:
//
//	sbbench [-quick] [-only propagation,scale] [-out BENCHMARKS.md] [-workdir DIR]
//	        [-switchboard bin/switchboard] [-envoy bin/envoy] [-nginx PATH]
//
// The method is in docs/benchmarks.md. sbbench imports nothing of
// switchboard's: it drives the binary over the Admin API, xDS and HTTP,
// as a user would.
package main
