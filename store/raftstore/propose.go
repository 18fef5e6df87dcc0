package raftstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/switchboard-gw/switchboard/store"
)

// Propose implements store.Proposer: the leader appends m to the log and
// returns once a quorum has it on disk and this node applied
// it; a follower forwards m to the leader. Without a reachable leader the
// write fails fast with store.ErrUnavailable.
func (n *Node) Propose(m *store.Mutation) (uint64, error) {
	if err := n.fsm.damage(); err != nil {
		return 0, fmt.Errorf("%w: %v; restart this node to see how to recover", store.ErrUnavailable, err)
	}
	if n.raft.State() == raft.Leader {
		return n.proposeLocal(m)
	}
	leader, ok := n.leaderMember()
	if !ok {
		return 0, fmt.Errorf("%w: no leader", store.ErrUnavailable)
	}
	idx, bound, err := n.forwardApply(leader.AdminAddr, m)
	if err != nil {
		return 0, err
	}
	// Answer only once this node has applied the write too, so a client
	// reads its own writes from the node it wrote to. The write is
	// committed either way; a slow follower just answers later.
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	_, _ = n.st.WaitForRevision(ctx, idx-1)
	return idx, nil
}

func (n *Node) proposeLocal(m *store.Mutation) (uint64, error) {
	data, err := encodeEntry(entryMutation, m)
	if err != nil {
		return 0, err
	}
	f := n.raft.Apply(data, n.cfg.ApplyTimeout)
	if err := f.Error(); err != nil {
		return 0, unavailable(err)
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return 0, err
	}
	return f.Index(), nil
}

// applyEntry appends a non-mutation entry (member, restore) on the leader.
func (n *Node) applyEntry(kind byte, v any) error {
	data, err := encodeEntry(kind, v)
	if err != nil {
		return err
	}
	f := n.raft.Apply(data, n.cfg.ApplyTimeout)
	if err := f.Error(); err != nil {
		return unavailable(err)
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return err
	}
	return nil
}

// unavailable marks raft's "cannot commit now" errors as ErrUnavailable.
func unavailable(err error) error {
	switch {
	case isDiskFull(err):
		// raft quotes the log store's error (%q), so only its text survives.
		return ErrDiskFull
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrEnqueueTimeout), errors.Is(err, raft.ErrRaftShutdown),
		errors.Is(err, raft.ErrAbortedByRestore), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return fmt.Errorf("raftstore: apply: %w", err)
}

// leaderMember returns the current leader's member record, if both the
// leader and its admin address are known.
func (n *Node) leaderMember() (Member, bool) {
	_, id := n.raft.LeaderWithID()
	if id == "" {
		return Member{}, false
	}
	m, ok := n.fsm.member(string(id))
	if !ok || m.AdminAddr == "" {
		return Member{}, false
	}
	return m, true
}

// IsLeader reports whether this node leads the cluster now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// WaitReady blocks until this node's store holds everything the cluster had
// committed when it started: the leader applies a barrier; a follower waits
// until it has applied the leader's barrier index. It gives up when ctx
// ends, so a node cut off from its quorum still serves what it has.
func (n *Node) WaitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	// target is fetched once: asking again on every tick would append a new
	// barrier each time and keep the follower one entry behind for ever.
	var target uint64
	for {
		if n.raft.State() == raft.Leader {
			if err := n.raft.Barrier(n.cfg.ApplyTimeout).Error(); err == nil {
				return nil
			}
		} else if leader, ok := n.leaderMember(); ok {
			if target == 0 {
				if idx, err := n.fetchLeaderIndex(ctx, leader.AdminAddr); err == nil {
					target = idx
				}
			}
			if target != 0 && n.raft.AppliedIndex() >= target {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("raftstore: not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}
