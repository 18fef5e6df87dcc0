package raftstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/switchboard-gw/switchboard/store"
)

// Config is what a node needs to open its log and find its peers.
type Config struct {
	// DataDir holds raft.db (log and stable store) and snapshots/.
	DataDir string
	// NodeID is this node's stable raft server id.
	NodeID string
	// RaftListen is the TCP address for raft traffic; "" runs a single node
	// on an in-memory transport (still durable on disk).
	RaftListen string
	// RaftAdvertise is the raft address peers dial (default RaftListen).
	RaftAdvertise string
	// AdminAddr is this node's Admin API address as peers reach it; writes
	// and joins are forwarded there when this node leads.
	AdminAddr string
	// Join lists Admin API addresses of existing members. Empty: bootstrap a
	// new cluster with this node alone (unless state already exists).
	Join []string
	// ApplyTimeout bounds how long a write waits to be committed.
	ApplyTimeout time.Duration
	Logger       *slog.Logger
	// ClusterSecret authenticates the internal endpoints (members.go):
	// every member must be given the same one. Empty refuses them all.
	ClusterSecret string
	// HTTPClient talks to other members' Admin API listeners (forwarded
	// writes, joins); nil means a plain client. Set it when they serve TLS.
	HTTPClient *http.Client

	// wrapStorage, set by tests, wraps the bolt store (as log and stable
	// store) to inject faults such as a full disk.
	wrapStorage func(*raftboltdb.BoltStore) storage
}

// storage is what raft needs from raft-boltdb.
type storage interface {
	raft.LogStore
	raft.StableStore
}

// Node is one member of the replicated store.
type Node struct {
	cfg    Config
	st     *store.Store
	fsm    *fsm
	raft   *raft.Raft
	logs   *raftboltdb.BoltStore
	trans  raft.Transport
	client *http.Client
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// Open opens (or creates) the node's log under cfg.DataDir, restores the
// last snapshot into st, and starts raft. Routing st's writes through the
// log is the caller's move: st.SetProposer(node).
func Open(cfg Config, st *store.Store) (*Node, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("raftstore: node id is required")
	}
	if cfg.ApplyTimeout == 0 {
		cfg.ApplyTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("raftstore: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.ApplyTimeout + 2*time.Second}
	}
	n := &Node{
		cfg:    cfg,
		st:     st,
		fsm:    newFSM(st),
		client: cfg.HTTPClient,
		log:    cfg.Logger.With("component", "raft"),
		done:   make(chan struct{}),
	}
	// A single node's own election is routine; in a cluster raft's warnings
	// (unreachable peers, elections) are what an operator needs to see.
	level := hclog.Warn
	if cfg.RaftListen == "" {
		level = hclog.Error
	}
	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: level, Output: slogWriter{n.log}, DisableTime: true})

	dbPath := filepath.Join(dir, "raft.db")
	if err := verifyBoltMeta(dbPath); err != nil {
		return nil, err
	}
	logs, err := openBolt(dbPath)
	if err != nil {
		return nil, err
	}
	n.logs = logs
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hlog)
	if err != nil {
		_ = logs.Close()
		return nil, fmt.Errorf("raftstore: open snapshots: %w", err)
	}
	var disk storage = logs
	if cfg.wrapStorage != nil {
		disk = cfg.wrapStorage(logs)
	}
	if err := verifyStorage(dbPath, filepath.Join(dir, "snapshots"), disk, snaps); err != nil {
		_ = logs.Close()
		return nil, err
	}
	stable := &patientStable{StableStore: disk, log: n.log, retry: 100 * time.Millisecond}
	cached, err := raft.NewLogCache(1024, diskFullLogs{disk})
	if err != nil {
		_ = logs.Close()
		return nil, fmt.Errorf("raftstore: log cache: %w", err)
	}

	var addr raft.ServerAddress
	if cfg.RaftListen == "" {
		// A stable in-memory address keeps the single-node configuration
		// valid across restarts.
		addr = raft.ServerAddress("inmem:" + cfg.NodeID)
		_, t := raft.NewInmemTransport(addr)
		n.trans = t
	} else {
		// Without an explicit advertise address raft advertises the bound
		// one, which is right for a concrete IP and for port 0 in tests.
		var adv net.Addr
		if cfg.RaftAdvertise != "" {
			tcpAddr, err := net.ResolveTCPAddr("tcp", cfg.RaftAdvertise)
			if err != nil {
				_ = logs.Close()
				return nil, fmt.Errorf("raftstore: advertise address: %w", err)
			}
			adv = tcpAddr
		}
		t, err := raft.NewTCPTransportWithLogger(cfg.RaftListen, adv, 3, 10*time.Second, hlog)
		if err != nil {
			_ = logs.Close()
			return nil, fmt.Errorf("raftstore: raft listen: %w", err)
		}
		n.trans = t
		addr = t.LocalAddr()
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hlog
	// A loopback or LAN cluster: notice a dead leader within about a second.
	rc.HeartbeatTimeout = 1000 * time.Millisecond
	rc.ElectionTimeout = 1000 * time.Millisecond
	rc.LeaderLeaseTimeout = 500 * time.Millisecond
	if cfg.RaftListen == "" {
		// A single node has no peer to wait for: elect itself at once so a
		// restart is back in well under a second.
		rc.HeartbeatTimeout = 100 * time.Millisecond
		rc.ElectionTimeout = 100 * time.Millisecond
		rc.LeaderLeaseTimeout = 100 * time.Millisecond
	}
	rc.SnapshotThreshold = 4096
	rc.TrailingLogs = 4096

	hasState, err := raft.HasExistingState(cached, stable, snaps)
	if err != nil {
		_ = logs.Close()
		return nil, fmt.Errorf("raftstore: %w", err)
	}
	r, err := raft.NewRaft(rc, n.fsm, cached, stable, snaps, n.trans)
	if err != nil {
		_ = logs.Close()
		return nil, fmt.Errorf("raftstore: start raft: %w", err)
	}
	n.raft = r
	if !hasState && len(cfg.Join) == 0 {
		f := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{ID: rc.LocalID, Address: addr}}})
		if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			_ = n.Close()
			return nil, fmt.Errorf("raftstore: bootstrap: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go n.maintain(ctx)
	return n, nil
}

// openBolt opens raft.db; bolt checks its meta pages and may panic on a
// damaged file, which becomes a DamagedError naming the file.
func openBolt(path string) (bs *raftboltdb.BoltStore, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &DamagedError{File: path, Reason: fmt.Sprintf("opening it panicked: %v", p)}
		}
	}()
	bs, err = raftboltdb.NewBoltStore(path)
	if err != nil {
		var pe *fs.PathError
		if isDiskFull(err) || errors.As(err, &pe) {
			return nil, fmt.Errorf("raftstore: open %s: %w", path, err)
		}
		return nil, &DamagedError{File: path, Reason: err.Error()}
	}
	return bs, nil
}

// Close stops raft and closes the log. It does not remove this node from
// the cluster: a restarted node rejoins with its log.
func (n *Node) Close() error {
	if n.cancel != nil {
		n.cancel()
		<-n.done
	}
	var errs []error
	if n.raft != nil {
		errs = append(errs, n.raft.Shutdown().Error())
	}
	if c, ok := n.trans.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	errs = append(errs, n.logs.Close())
	return errors.Join(errs...)
}

// maintain keeps this node's member record current while it leads, and
// joins the cluster named by cfg.Join until a member accepts.
func (n *Node) maintain(ctx context.Context) {
	defer close(n.done)
	joined := len(n.cfg.Join) == 0
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if !joined {
			joined = n.tryJoin(ctx)
		}
		if n.raft.State() == raft.Leader {
			n.recordSelf()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (n *Node) self() Member {
	return Member{ID: n.cfg.NodeID, RaftAddr: string(n.trans.LocalAddr()), AdminAddr: n.cfg.AdminAddr}
}

// recordSelf writes the leader's own member record once per change, so
// followers know where to forward.
func (n *Node) recordSelf() {
	me := n.self()
	if cur, ok := n.fsm.member(me.ID); ok && cur == me {
		return
	}
	if err := n.applyEntry(entryMember, me); err != nil {
		n.log.Warn("record member", "err", err)
	}
}

// slogWriter carries raft's own (hclog) lines into our structured log.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}
