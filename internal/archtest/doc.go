// Package archtest holds one test, TestImports, that keeps the package
// direction of ARCHITECTURE.md true: admin → store ← translator ← xds ← cmd,
// with the Kong schema package beside store and the test helpers under
// internal/ importing nothing of ours. The table lives in rules.go; a new
// package fails the test until it has a row there, so the direction is a
// decision someone writes down, not an accident.
//
// The test needs only the go command, so `make test` enforces the rules on a
// machine without golangci-lint; .golangci.yml's depguard mirrors the deny
// lists for editors.
package archtest
