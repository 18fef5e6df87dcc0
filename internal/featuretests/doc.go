// Package featuretests runs switchboard in one process, without Envoy: the
// Admin API over httptest, the store, the xds server on a loopback port, and
// internal/adstest as the data plane. A test writes through the Admin API
// as a user does and asserts what an Envoy would receive over ADS, in
// milliseconds. The layer sits between the translator's golden files (one
// snapshot, no API, no ADS) and e2e (a real Envoy).
//
// It is the one test package that imports admin, store and xds together
// (internal/archtest has its row); it has no non-test code.
package featuretests
