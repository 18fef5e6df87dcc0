// Package envoy is everything switchboard knows about the Envoy process
// itself, as opposed to the configuration it serves over xDS: the bootstrap
// that points an Envoy at our ADS server (Bootstrap), where to find an Envoy
// binary (FindBinary; install.sh provides one for `make envoy`), and a
// supervisor that runs a local Envoy as a child process (Runner).
//
// It imports nothing of ours (ARCHITECTURE.md): cmd/switchboard wires it to the
// xDS server by address only, so the same bootstrap serves a child Envoy, an
// external one, and the docker-compose sidecar.
package envoy
