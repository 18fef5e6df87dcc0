package raftstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/store"
)

// bigFile is the mutation POST /config makes of a declarative file of
// routes routes, ten per service: ONE batch, so ONE raft entry.
func bigFile(routes int) *store.Mutation {
	m := &store.Mutation{Op: store.OpBatch}
	for s := 0; s*10 < routes; s++ {
		sid := fmt.Sprintf("00000000-0000-4000-8000-%012d", s)
		name := fmt.Sprintf("s%d", s)
		m.Batch = append(m.Batch, *store.Upsert("services", &store.Service{
			ID: sid, Name: &name, Protocol: "http", Host: name + ".test", Port: 80, Retries: 5,
			ConnectTimeout: 60000, ReadTimeout: 60000, WriteTimeout: 60000, Enabled: true,
			CreatedAt: 1700000000, UpdatedAt: 1700000000,
		}))
		for r := 0; r < 10 && s*10+r < routes; r++ {
			rname := fmt.Sprintf("r%d-%d", s, r)
			m.Batch = append(m.Batch, *store.Upsert("routes", &store.Route{
				ID: fmt.Sprintf("00000000-0000-4000-9000-%012d", s*10+r), Name: &rname,
				Protocols: []string{"http", "https"}, Paths: []string{fmt.Sprintf("/s%d/r%d", s, r)},
				StripPath: true, PathHandling: "v0", HTTPSRedirectStatusCode: 426, RequestBuffering: true,
				ResponseBuffering: true, Service: &store.ForeignKey{ID: sid},
				CreatedAt: 1700000000, UpdatedAt: 1700000000,
			}))
		}
	}
	return m
}

func countRows(st *store.Store, table string) int {
	n := 0
	_ = st.Snapshot().Walk(table, "", func(store.Row) bool { n++; return true })
	return n
}

// A declarative file of 50,000 routes is one raft entry of about 27 MiB.
// It must commit when written through a follower of a three-node cluster
// (the forwarded HTTP request carries it whole), reach every node, and
// survive a snapshot of that size and a restart from it. The race detector
// makes this minutes long and starves a three-node cluster in one process
// (the leader's lease lapses while its followers decode the entry), so
// under it the files are smaller; `make test` also runs this test without
// the race detector, at full size.
func TestNode_DeclarativeFileInOneEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("tens of MB through raft")
	}
	single, cluster := 50000, 50000
	if raceEnabled {
		single, cluster = 20000, 10000
	}
	for _, c := range []struct{ nodes, routes int }{{1, single}, {3, cluster}} {
		t.Run(fmt.Sprintf("nodes=%d/routes=%d", c.nodes, c.routes), func(t *testing.T) {
			testOneEntry(t, c.nodes, c.routes)
		})
	}
}

func testOneEntry(t *testing.T, size, routes int) {
	raftAddr := func() string { return "" }
	if size > 1 {
		raftAddr = raftLoopback
	}
	nodes := []*testNode{startNode(t, "n1", t.TempDir(), raftAddr(), "127.0.0.1:0", nil)}
	if err := nodes[0].node.WaitReady(ctx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= size; i++ {
		nodes = append(nodes, startNode(t, fmt.Sprintf("n%d", i), t.TempDir(), raftAddr(), "127.0.0.1:0", []string{nodes[0].adminAddr}))
	}
	for _, n := range nodes {
		if err := n.node.WaitReady(ctx(t, 20*time.Second)); err != nil {
			t.Fatalf("%s: %v", n.id, err)
		}
	}
	waitFor(t, "every voter", 10*time.Second, func() bool { return len(nodes[0].node.Status().Members) == size })
	writer := nodes[0]
	for _, n := range nodes {
		if !n.node.IsLeader() {
			writer = n // a follower forwards the entry to the leader
		}
	}
	m := bigFile(routes)
	raw, err := encodeEntry(entryMutation, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one entry of %d services and %d routes: %.1f MiB", routes/10, routes, float64(len(raw))/(1<<20))
	start := time.Now()
	// A client retries "unavailable" as the Admin API tells it to: on a
	// starved machine the leader can lose its lease while the followers
	// take the entry, and the batch (fixed ids) is safe to send again.
	for attempt := 1; ; attempt++ {
		_, err := writer.st.Apply(m)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrUnavailable) || attempt == 3 {
			t.Fatalf("write through %s (attempt %d): %v", writer.id, attempt, err)
		}
		t.Logf("attempt %d: %v; retrying", attempt, err)
		waitFor(t, "a leader", 20*time.Second, func() bool {
			for _, n := range nodes {
				if n.node.IsLeader() {
					return true
				}
			}
			return false
		})
	}
	t.Logf("committed through %s in %s", writer.id, time.Since(start).Round(time.Millisecond))
	for _, n := range nodes {
		waitFor(t, n.id+" holds every route", 60*time.Second, func() bool { return countRows(n.st, "routes") == routes })
	}
	// A snapshot of that state, then a restart that restores from it.
	if err := writer.node.raft.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	writer.stop()
	again := startNode(t, writer.id, writer.dir, writer.raftAddr, "127.0.0.1:0", nil)
	if err := again.node.WaitReady(ctx(t, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restarted node holds every route", 60*time.Second, func() bool { return countRows(again.st, "routes") == routes })
}
