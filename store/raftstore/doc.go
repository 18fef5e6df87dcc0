// Package raftstore makes the store durable and replicated with
// hashicorp/raft: every Store.Apply becomes a raft log entry (raft-boltdb on
// disk) that each node's state machine applies to its own go-memdb store with
// Store.ApplyAt, using the raft index as the store revision. Snapshots are
// store Dumps, so the log is compacted. This is the design HashiCorp uses for
// Consul and Nomad.
//
// A single node (no --raft-listen) uses an in-memory transport but the same
// on-disk log, so it is just as durable. In cluster mode, writes that reach a
// follower are forwarded to the leader over the leader's Admin API (a
// reserved /_switchboard path mounted by cmd), so a client never sees the
// difference.
//
// raftstore imports store only.
package raftstore
