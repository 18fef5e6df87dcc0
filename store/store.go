package store

import (
	"context"
	"fmt"
	"sync"

	memdb "github.com/hashicorp/go-memdb"
)

// Store holds the entities in go-memdb. Reads take a consistent Snapshot;
// writes go through Apply (or ApplyAt, for a replicated log that assigns the
// index itself).
type Store struct {
	db   *memdb.MemDB
	reg  *registry
	feed *changeFeed

	// writeMu serialises writers so that revisions are assigned in commit
	// order; memdb itself allows one write txn at a time anyway.
	writeMu sync.Mutex

	// proposer, when set, receives every Apply instead of the local commit:
	// a replicated log proposes the mutation and later calls ApplyAt from
	// its state machine. Set once at start-up, before any write.
	proposer Proposer
}

// Proposer hands a mutation to a durable or replicated log and returns the
// index at which it was committed and applied (or the apply error).
type Proposer interface {
	Propose(m *Mutation) (uint64, error)
}

// SetProposer routes every later Apply through p. Call it before serving
// writes; it is not safe to change while writes are in flight.
func (s *Store) SetProposer(p Proposer) { s.proposer = p }

// New returns an empty store at revision 0.
func New() (*Store, error) { return newStore(kinds) }

// NewWithKinds returns an empty store with the built-in kinds plus extra,
// for that store only: tests prove that a new entity needs nothing but its
// descriptor (and, in admin, its schema).
func NewWithKinds(extra ...*Kind) (*Store, error) {
	return newStore(newRegistry(append(Kinds(), extra...)...))
}

// Kinds returns this store's kinds in registry (dump) order.
func (s *Store) Kinds() []*Kind { return append([]*Kind(nil), s.reg.kinds...) }

// newStore builds a store over any registry.
func newStore(reg *registry) (*Store, error) {
	db, err := memdb.NewMemDB(reg.schema())
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Store{db: db, reg: reg, feed: newChangeFeed()}, nil
}

// Apply commits m at the next revision and returns that revision. On error
// nothing is written and the revision does not move. With a Proposer set,
// the mutation goes through it (and so through the durable log) instead.
func (s *Store) Apply(m *Mutation) (uint64, error) {
	if s.proposer != nil {
		return s.proposer.Propose(m)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	index := s.Revision() + 1
	if err := s.applyAt(index, m); err != nil {
		return 0, err
	}
	return index, nil
}

// ApplyAt commits m with the given index, which must exceed the current
// revision. It is the hook for a replicated log whose entries carry their own
// index.
func (s *Store) ApplyAt(index uint64, m *Mutation) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if cur := s.Revision(); index <= cur {
		return fmt.Errorf("%w: index %d is not above revision %d", ErrInvalidMutation, index, cur)
	}
	return s.applyAt(index, m)
}

func (s *Store) applyAt(index uint64, m *Mutation) error {
	txn := s.db.Txn(true)
	defer txn.Abort()
	txn.TrackChanges()
	w := &writer{txn: txn, reg: s.reg, index: index, touched: map[string]bool{}}
	if err := w.apply(m); err != nil {
		return err
	}
	if err := w.stamp(); err != nil {
		return err
	}
	// Recorded before the commit: a reader that sees the revision finds its
	// changes (ChangesSince stops at the reader's own revision).
	s.feed.record(s.reg, index, txn.Changes())
	txn.Commit()
	return nil
}

// Revision is the index of the last commit (0 for an empty store).
func (s *Store) Revision() uint64 {
	txn := s.db.Txn(false)
	return indexOf(txn, revisionKey)
}

// Snapshot returns a consistent read view. It is cheap (memdb is an
// immutable radix tree) and never blocks writers.
func (s *Store) Snapshot() *Snapshot {
	txn := s.db.Txn(false)
	return &Snapshot{txn: txn, reg: s.reg, feed: s.feed, revision: indexOf(txn, revisionKey)}
}

// WaitForRevision blocks until the revision exceeds after, or ctx ends, and
// returns the revision it saw.
func (s *Store) WaitForRevision(ctx context.Context, after uint64) (uint64, error) {
	for {
		txn := s.db.Txn(false)
		ch, raw, err := txn.FirstWatch(tableIndex, indexID, revisionKey)
		if err != nil {
			return 0, fmt.Errorf("store: watch revision: %w", err)
		}
		var rev uint64
		if raw != nil {
			rev = raw.(*IndexEntry).Value
		}
		if rev > after {
			return rev, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return rev, ctx.Err()
		}
	}
}

func indexOf(txn *memdb.Txn, key string) uint64 {
	raw, err := txn.First(tableIndex, indexID, key)
	if err != nil || raw == nil {
		return 0
	}
	return raw.(*IndexEntry).Value
}
