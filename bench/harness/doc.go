// Package harness holds what only the benchmarks run: nginx (the engine
// Kong runs on) and an Envoy from a hand-written static config for the
// proxy-overhead scenario, and the machine description and process
// statistics of a report. The processes, the stack (switchboard and its
// Envoy), the Admin API client and the backends are internal/testenv's,
// shared with the e2e tests; shared.go gives them their bench names.
//
// It talks to switchboard only the way a user does (processes, HTTP, the
// Admin API); it imports nothing of switchboard's but the internal/ test
// helpers. Every wait is bounded and polls; every child process runs in its
// own process group.
package harness
