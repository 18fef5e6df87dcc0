// Package e2e runs switchboard as a user would: the built binary, a real
// Envoy, real HTTP backends on 127.0.0.x, and nothing but HTTP requests and
// process signals between them. It imports nothing of ours (depguard).
//
// `make test` and `make e2e` export ENVOY_BIN and SWITCHBOARD_BIN; without
// SWITCHBOARD_BIN the tests build the binary themselves, and without an
// Envoy they skip (or fail, when CI is set).
package e2e
