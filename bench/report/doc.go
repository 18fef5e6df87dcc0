// Package report renders benchmark results as BENCHMARKS.md: the machine
// and versions, each goal beside its measured figure (misses marked), and
// one table per scenario with p50/p99/max and the ratio columns.
package report
