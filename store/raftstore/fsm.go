package raftstore

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/switchboard-gw/switchboard/store"
)

// Log entry kinds: the first byte of every command entry.
const (
	entryMutation byte = 'M' // a store.Mutation
	entryMember   byte = 'J' // a Member record (join or address change)
	entryRestore  byte = 'R' // a store.Dump replacing the whole state
)

// Member is one control-plane node as the cluster knows it. AdminAddr is
// where followers forward writes to when this node leads.
type Member struct {
	ID        string `json:"id"`
	RaftAddr  string `json:"raft_address"`
	AdminAddr string `json:"admin_address"`
}

// fsm is the raft state machine: it applies committed entries to the
// store, in log order, with the raft index as the store revision.
type fsm struct {
	st *store.Store

	mu      sync.RWMutex
	members map[string]Member
}

func newFSM(st *store.Store) *fsm {
	return &fsm{st: st, members: map[string]Member{}}
}

func encodeEntry(kind byte, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("raftstore: encode entry: %w", err)
	}
	return append([]byte{kind}, body...), nil
}

// Apply returns the apply error (a store error the Admin API maps to a Kong
// status) or nil. A mutation that fails leaves the store untouched on every
// node alike, because every node applies the same entries in the same order.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand || len(l.Data) == 0 {
		return nil
	}
	body := l.Data[1:]
	switch l.Data[0] {
	case entryMutation:
		var m store.Mutation
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("%w: decode: %v", store.ErrInvalidMutation, err)
		}
		return f.st.ApplyAt(l.Index, &m)
	case entryMember:
		var m Member
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("raftstore: decode member: %w", err)
		}
		f.mu.Lock()
		f.members[m.ID] = m
		f.mu.Unlock()
		return nil
	case entryRestore:
		var d store.Dump
		if err := json.Unmarshal(body, &d); err != nil {
			return fmt.Errorf("raftstore: decode restore: %w", err)
		}
		return f.st.Restore(l.Index, &d)
	default:
		return fmt.Errorf("raftstore: unknown entry kind %q", l.Data[0])
	}
}

func (f *fsm) member(id string) (Member, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.members[id]
	return m, ok
}

func (f *fsm) memberList() []Member {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Member, 0, len(f.members))
	for _, m := range f.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// fsmState is what a raft snapshot holds.
type fsmState struct {
	Store   *store.Dump `json:"store"`
	Members []Member    `json:"members"`
}

// Snapshot captures the store (an immutable memdb view, so Persist may run
// while later entries are applied) and the member list.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	dump, err := f.st.Snapshot().Dump()
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{state: fsmState{Store: dump, Members: f.memberList()}}, nil
}

// Restore replaces the whole state with a snapshot's.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var s fsmState
	if err := json.NewDecoder(rc).Decode(&s); err != nil {
		return fmt.Errorf("raftstore: decode snapshot: %w", err)
	}
	if s.Store == nil {
		s.Store = &store.Dump{}
	}
	if err := f.st.Restore(0, s.Store); err != nil {
		return err
	}
	f.mu.Lock()
	f.members = map[string]Member{}
	for _, m := range s.Members {
		f.members[m.ID] = m
	}
	f.mu.Unlock()
	return nil
}

type fsmSnapshot struct{ state fsmState }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(&s.state); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("raftstore: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
