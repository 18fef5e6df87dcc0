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
	db *memdb.MemDB

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
func New() (*Store, error) {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Store{db: db}, nil
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
	w := &writer{txn: txn, index: index, touched: map[string]bool{}}
	if err := w.apply(m); err != nil {
		return err
	}
	if err := w.stamp(); err != nil {
		return err
	}
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
	return &Snapshot{txn: txn, revision: indexOf(txn, revisionKey)}
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

// writer carries one write transaction and the tables it changed.
type writer struct {
	txn     *memdb.Txn
	index   uint64
	touched map[string]bool
}

func (w *writer) apply(m *Mutation) error {
	if m == nil {
		return fmt.Errorf("%w: nil", ErrInvalidMutation)
	}
	switch m.Op {
	case OpUpsertService:
		return w.upsertService(m.Service, m.Create)
	case OpDeleteService:
		return w.deleteService(m.ID)
	case OpUpsertRoute:
		return w.upsertRoute(m.Route, m.Create)
	case OpDeleteRoute:
		return w.deleteRoute(m.ID)
	case OpUpsertUpstream:
		return w.upsertUpstream(m.Upstream, m.Create)
	case OpDeleteUpstream:
		return w.deleteUpstream(m.ID)
	case OpUpsertTarget:
		return w.upsertTarget(m.Target, m.Create)
	case OpDeleteTarget:
		return w.deleteTarget(m.ID)
	case OpSetTargetHealth:
		return w.setTargetHealth(m.TargetHealth)
	case OpBatch:
		for i := range m.Batch {
			if err := w.apply(&m.Batch[i]); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("%w: unknown op %q", ErrInvalidMutation, m.Op)
	}
}

// stamp records the new revision store-wide and for each touched table.
func (w *writer) stamp() error {
	for table := range w.touched {
		if err := w.txn.Insert(tableIndex, &IndexEntry{Key: table, Value: w.index}); err != nil {
			return fmt.Errorf("store: index %s: %w", table, err)
		}
	}
	if err := w.txn.Insert(tableIndex, &IndexEntry{Key: revisionKey, Value: w.index}); err != nil {
		return fmt.Errorf("store: revision: %w", err)
	}
	return nil
}

func (w *writer) insert(table string, obj any) error {
	if err := w.txn.Insert(table, obj); err != nil {
		return fmt.Errorf("store: insert %s: %w", table, err)
	}
	w.touched[table] = true
	return nil
}

func (w *writer) delete(table string, obj any) error {
	if err := w.txn.Delete(table, obj); err != nil {
		return fmt.Errorf("store: delete %s: %w", table, err)
	}
	w.touched[table] = true
	return nil
}
