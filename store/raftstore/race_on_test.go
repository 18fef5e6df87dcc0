//go:build race

package raftstore

// raceEnabled: the race detector makes every node several times slower,
// all three of a test cluster sharing one process.
const raceEnabled = true
