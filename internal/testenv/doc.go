// Package testenv runs what the e2e tests and the benchmarks need on
// loopback, once for both: the switchboard binary (control plane, Admin API,
// a local Envoy), Envoys of our own from `switchboard envoy-bootstrap`, HTTP
// backends on their own 127.0.0.x addresses, and clients for the Admin API
// and Envoy's admin interface.
//
// It talks to switchboard only as a user does (processes, flags, HTTP), and
// imports nothing of ours but internal/poll (internal/archtest). Every wait
// is bounded and polls; every child runs in its own process group, and
// StopAll ends whatever is still running.
//
// File map:
//   - proc.go: child processes, their output, stopping a process group
//   - net.go: free loopback ports and addresses, hosts files
//   - stack.go: one control plane (and its Envoy) on free ports: flags, waits, restarts
//   - envoy.go: an Envoy of our own from envoy-bootstrap; waiting until an Envoy serves
//   - admin.go, batch.go: the Admin API client, and parallel or paced batches of calls
//   - envoyadmin.go: reading an Envoy's /stats, /clusters and /config_dump
//   - backend.go, echo.go: loopback HTTP backends (fixed answer, or httpbin-like echo)
package testenv
