// Package scenario holds the benchmark scenarios, one file each:
// route propagation, change under traffic, failover, proxy overhead,
// control-plane scale and Admin API writes. Each starts what it needs
// through package harness, measures, stops everything it started, and
// returns plain result structs for package report. Sizes (full or quick)
// bound every loop.
package scenario
