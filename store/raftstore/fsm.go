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
	// damaged is the first entry that failed its checksum or could not be
	// applied without panicking; once set, the node refuses writes (see
	// Node.Propose) instead of carrying on from a state that may differ
	// from its peers'.
	damaged error
}

func newFSM(st *store.Store) *fsm {
	return &fsm{st: st, members: map[string]Member{}}
}

// writeLegacyEntries makes encodeEntry write entries as releases before
// checksums did; only tests set it, to prove such logs still replay.
var writeLegacyEntries = false

// encodeEntry builds a sealed (checksummed) log entry.
func encodeEntry(kind byte, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("raftstore: encode entry: %w", err)
	}
	payload := append([]byte{kind}, body...)
	if writeLegacyEntries {
		return payload, nil
	}
	return sealEntry(payload), nil
}

// Apply returns the apply error (a store error the Admin API maps to a Kong
// status) or nil. A mutation that fails leaves the store untouched on every
// node alike, because every node applies the same entries in the same order.
// No entry can make it panic: a damaged one, or one the store cannot take
// (a restore row that is null), is answered with an error, and a damaged
// one also stops this node's writes (fsm.damaged).
func (f *fsm) Apply(l *raft.Log) (result any) {
	if l.Type != raft.LogCommand || len(l.Data) == 0 {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			result = fmt.Errorf("%w: log entry %d could not be applied: %v", store.ErrInvalidMutation, l.Index, p)
		}
	}()
	kind, body, err := openEntry(l.Data)
	if err != nil {
		err = fmt.Errorf("raftstore: log entry %d is damaged: %w", l.Index, err)
		f.mu.Lock()
		if f.damaged == nil {
			f.damaged = err
		}
		f.mu.Unlock()
		return err
	}
	switch kind {
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
		return fmt.Errorf("raftstore: unknown entry kind %q", kind)
	}
}

// damage reports the first damaged entry this node applied, if any.
func (f *fsm) damage() error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.damaged
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

// Restore replaces the whole state with a snapshot's, after checking its
// checksum; it never panics.
func (f *fsm) Restore(rc io.ReadCloser) (err error) {
	defer rc.Close()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("raftstore: snapshot could not be restored: %v", p)
		}
	}()
	data, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("raftstore: read snapshot: %w", err)
	}
	state, err := openSnapshot(data)
	if err != nil {
		return fmt.Errorf("raftstore: snapshot is damaged: %w", err)
	}
	var s fsmState
	if err := json.Unmarshal(state, &s); err != nil {
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
	state, err := json.Marshal(&s.state)
	if err == nil {
		_, err = sink.Write(sealSnapshot(state))
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("raftstore: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
