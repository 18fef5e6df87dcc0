package raftstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/poll"
	"github.com/switchboard-gw/switchboard/store"
)

// testNode is one node with its Admin-API stand-in serving the internal
// paths, as cmd mounts them.
type testNode struct {
	id, dir, raftAddr, adminAddr string
	st                           *store.Store
	node                         *Node
	srv                          *http.Server
	stopOnce                     sync.Once
}

func startNode(t testing.TB, id, dir, raftAddr, adminAddr string, join []string) *testNode {
	t.Helper()
	lis, err := net.Listen("tcp", adminAddr)
	if err != nil {
		t.Fatalf("admin listen: %v", err)
	}
	st, _ := store.New()
	n, err := Open(Config{
		DataDir: dir, NodeID: id, RaftListen: raftAddr, AdminAddr: lis.Addr().String(), Join: join,
		ApplyTimeout: 3 * time.Second, Logger: testLogger(), ClusterSecret: testSecret,
	}, st)
	if err != nil {
		_ = lis.Close()
		t.Fatalf("open %s: %v", id, err)
	}
	st.SetProposer(n)
	srv := &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	tn := &testNode{id: id, dir: dir, adminAddr: lis.Addr().String(), st: st, node: n, srv: srv}
	if raftAddr != "" {
		tn.raftAddr = string(n.trans.LocalAddr())
	}
	t.Cleanup(tn.stop)
	return tn
}

// raftLoopback is a raft listen address on a loopback IP of its own
// (127.x.y.z, port chosen by the kernel): a stopped node restarts on its old
// address, which on 127.0.0.1 another process on a shared machine may have
// taken meanwhile.
func raftLoopback() string {
	return fmt.Sprintf("127.%d.%d.%d:0", 1+rand.IntN(250), rand.IntN(256), 1+rand.IntN(250))
}

func (tn *testNode) stop() {
	tn.stopOnce.Do(func() {
		_ = tn.srv.Close()
		_ = tn.node.Close()
	})
}

func waitFor(t testing.TB, what string, bound time.Duration, cond func() bool) {
	t.Helper()
	poll.True(t, bound, what, cond)
}

func upstream(i int) *store.Mutation {
	return &store.Mutation{Op: store.OpUpsertUpstream, Create: true, Upstream: &store.Upstream{
		ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: fmt.Sprintf("up-%d.test", i),
		CreatedAt: int64(1700000000 + i), UpdatedAt: int64(1700000000 + i), Algorithm: "round-robin", Slots: 10000,
	}}
}

func dumpJSON(t testing.TB, st *store.Store) []byte {
	t.Helper()
	d, err := st.Snapshot().Dump()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(d)
	return raw
}

func TestNode_SingleNodeSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	a := startNode(t, "n1", dir, "", "127.0.0.1:0", nil)
	if err := a.node.WaitReady(ctx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		if _, err := a.st.Apply(upstream(i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if i == 150 {
			// Half the entries end up in a snapshot, half in the log.
			if err := a.node.raft.Snapshot().Error(); err != nil {
				t.Fatalf("snapshot: %v", err)
			}
		}
	}
	// A store error travels back unchanged.
	if _, err := a.st.Apply(upstream(3)); !errors.As(err, new(*store.PrimaryKeyError)) {
		t.Fatalf("duplicate create: %v", err)
	}
	want := dumpJSON(t, a.st)
	a.stop()

	b := startNode(t, "n1", dir, "", "127.0.0.1:0", nil)
	if err := b.node.WaitReady(ctx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := dumpJSON(t, b.st); !bytes.Equal(got, want) {
		t.Fatalf("state after restart differs:\n got %.300s\nwant %.300s", got, want)
	}
	if _, err := b.st.Apply(upstream(1000)); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
}

func ctx(t testing.TB, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

func TestCluster_LeaderLossKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	nodes := []*testNode{startNode(t, "n1", t.TempDir(), raftLoopback(), "127.0.0.1:0", nil)}
	if err := nodes[0].node.WaitReady(ctx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"n2", "n3"} {
		nodes = append(nodes, startNode(t, id, t.TempDir(), raftLoopback(), "127.0.0.1:0", []string{nodes[0].adminAddr}))
	}
	for _, n := range nodes {
		if err := n.node.WaitReady(ctx(t, 20*time.Second)); err != nil {
			t.Fatalf("%s: %v", n.id, err)
		}
	}
	waitFor(t, "three voters", 10*time.Second, func() bool { return len(nodes[0].node.Status().Members) == 3 })

	// Writes through a follower are forwarded to the leader.
	var follower *testNode
	for _, n := range nodes {
		if !n.node.IsLeader() {
			follower = n
		}
	}
	if _, err := follower.st.Apply(upstream(0)); err != nil {
		t.Fatalf("forwarded write: %v", err)
	}
	if _, err := follower.st.Apply(upstream(0)); !errors.As(err, new(*store.PrimaryKeyError)) {
		t.Fatalf("forwarded error kind lost: %v", err)
	}

	// Bounded write load through all nodes while the leader dies.
	var (
		mu    sync.Mutex
		acked []int
		next  atomic.Int64
	)
	next.Store(1)
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; k < 400; k++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				i := int(next.Add(1))
				n := nodes[(w+k)%3]
				if _, err := n.st.Apply(upstream(i)); err == nil {
					mu.Lock()
					acked = append(acked, i)
					mu.Unlock()
				}
			}
		}(w)
	}
	waitFor(t, "some acknowledged writes", 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) > 30 })
	var leader *testNode
	for _, n := range nodes {
		if n.node.IsLeader() {
			leader = n
		}
	}
	start := time.Now()
	leader.stop()
	var survivors []*testNode
	for _, n := range nodes {
		if n != leader {
			survivors = append(survivors, n)
		}
	}
	waitFor(t, "a new leader", 15*time.Second, func() bool {
		return survivors[0].node.IsLeader() || survivors[1].node.IsLeader()
	})
	t.Logf("new leader after %s", time.Since(start).Round(time.Millisecond))
	// A survivor may learn who the new leader is a moment after the election
	// (until then it answers "unavailable", which clients retry).
	var werr error
	waitFor(t, "a write accepted after failover", 10*time.Second, func() bool {
		_, werr = survivors[0].st.Apply(upstream(100000))
		return !errors.Is(werr, store.ErrUnavailable)
	})
	if werr != nil && !errors.As(werr, new(*store.PrimaryKeyError)) { // a retry of a write that did commit
		t.Fatalf("write after failover: %v", werr)
	}
	close(stopLoad)
	wg.Wait()

	// Every acknowledged write is on every survivor, exactly once.
	mu.Lock()
	defer mu.Unlock()
	for _, n := range survivors {
		waitFor(t, n.id+" caught up", 10*time.Second, func() bool {
			return n.node.raft.AppliedIndex() >= survivors[0].node.raft.LastIndex()-0 || n.node.IsLeader()
		})
		snap := n.st.Snapshot()
		for _, i := range acked {
			if u, _ := snap.UpstreamByID(upstream(i).Upstream.ID); u == nil {
				t.Fatalf("%s lost acknowledged write %d", n.id, i)
			}
		}
	}
	t.Logf("%d acknowledged writes survived the leader's loss", len(acked))

	// The dead node rejoins with its log and catches up.
	back := startNode(t, leader.id, leader.dir, leader.raftAddr, "127.0.0.1:0", []string{survivors[0].adminAddr})
	if err := back.node.WaitReady(ctx(t, 20*time.Second)); err != nil {
		t.Fatalf("rejoin: %v", err)
	}
	waitFor(t, "rejoined node catches up", 15*time.Second, func() bool {
		u, _ := back.st.Snapshot().UpstreamByID(upstream(100000).Upstream.ID)
		return u != nil
	})
}

func testLogger() *slog.Logger {
	if os.Getenv("RAFTSTORE_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func TestCluster_MajorityLossFailsWritesFastAndKeepsReads(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	for _, keepLeader := range []bool{false, true} {
		t.Run(map[bool]string{false: "follower-survives", true: "leader-survives"}[keepLeader], func(t *testing.T) {
			majorityLoss(t, keepLeader)
		})
	}
}

func majorityLoss(t *testing.T, keepLeader bool) {
	nodes := []*testNode{startNode(t, "n1", t.TempDir(), raftLoopback(), "127.0.0.1:0", nil)}
	if err := nodes[0].node.WaitReady(ctx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"n2", "n3"} {
		n := startNode(t, id, t.TempDir(), raftLoopback(), "127.0.0.1:0", []string{nodes[0].adminAddr})
		if err := n.node.WaitReady(ctx(t, 20*time.Second)); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	if _, err := nodes[2].st.Apply(upstream(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the write on every node", 10*time.Second, func() bool {
		for _, n := range nodes {
			if u, _ := n.st.Snapshot().UpstreamByID(upstream(1).Upstream.ID); u == nil {
				return false
			}
		}
		return true
	})
	var survivor *testNode
	for _, n := range nodes {
		if n.node.IsLeader() == keepLeader && survivor == nil {
			survivor = n
		}
	}
	for _, n := range nodes {
		if n != survivor {
			n.stop()
		}
	}
	// Without a quorum the write fails with ErrUnavailable, well within the
	// apply timeout plus leader-lease, never hanging; the replica still reads.
	start := time.Now()
	var err error
	for i := 0; i < 3; i++ {
		if _, err = survivor.st.Apply(upstream(2)); err == nil {
			t.Fatal("a write succeeded without a quorum")
		}
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write without quorum: %v", err)
	}
	t.Logf("three writes without quorum failed in %s: %v", time.Since(start).Round(time.Millisecond), err)
	if u, _ := survivor.st.Snapshot().UpstreamByID(upstream(1).Upstream.ID); u == nil {
		t.Fatal("the survivor lost its replica")
	}
}
