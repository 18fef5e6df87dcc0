// Package harness runs the pieces a benchmark needs on loopback: the
// switchboard binary (control plane, Admin API, a local Envoy), extra
// Envoys (from `switchboard envoy-bootstrap` or a hand-written static
// config), nginx, and HTTP backends on their own 127.0.0.x addresses.
//
// It talks to switchboard only the way a user does (processes, HTTP, the
// Admin API); it imports nothing of switchboard's. Every wait is bounded and
// polls; every child process runs in its own process group and is stopped
// by the Proc that started it.
package harness
