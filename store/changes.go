package store

import (
	"errors"
	"sync"

	memdb "github.com/hashicorp/go-memdb"
)

// ErrChangesTruncated is returned by ChangesSince when the feed no longer
// holds every revision after the one asked for (it was evicted, or a
// restore or an oversized commit replaced the state wholesale): the reader
// must rebuild from a full snapshot.
var ErrChangesTruncated = errors.New("store: changes since that revision are no longer retained")

// ChangeOp says what a commit did to one row.
type ChangeOp string

const (
	ChangeInsert ChangeOp = "insert"
	ChangeUpdate ChangeOp = "update"
	ChangeDelete ChangeOp = "delete"
)

// Change is one row that a commit inserted, updated or deleted, cascades
// included. Before and After are the store's immutable rows (nil on insert
// and on delete respectively): a deleted target still names its upstream.
type Change struct {
	Table  string
	ID     string
	Op     ChangeOp
	Before Row
	After  Row
}

// RevisionChanges is what one commit changed. A row written twice in one
// batch appears once, with its first Before and last After.
type RevisionChanges struct {
	Revision uint64
	Changes  []Change
}

// The feed keeps the latest commits, bounded in revisions and in changes
// (each change pins up to two rows that memdb may already have dropped, so
// about 16k changes of ~1 KiB rows stay under ~32 MiB), so that memory stays
// flat whatever the write rate. A bigger commit (a declarative import) is not
// kept: readers rebuild from a snapshot, as they would have to anyway.
const (
	feedMaxRevisions = 4096
	feedMaxChanges   = 1 << 14
)

// changeFeed holds the recent commits in revision order. floor is the
// newest revision whose changes are not known (evicted, restored or too
// large): changes are complete for every revision above it.
type changeFeed struct {
	mu                  sync.Mutex
	revs                []RevisionChanges
	changes             int
	floor               uint64
	maxRevs, maxChanges int
}

func newChangeFeed() *changeFeed {
	return &changeFeed{maxRevs: feedMaxRevisions, maxChanges: feedMaxChanges}
}

// record appends one commit's changes, read from the txn's tracking.
func (f *changeFeed) record(reg *registry, rev uint64, tracked memdb.Changes) {
	out := make([]Change, 0, len(tracked))
	for _, c := range tracked {
		k := reg.byTable[c.Table]
		if k == nil || (c.Before == nil && c.After == nil) {
			continue // the index table; a row created and deleted in one batch
		}
		ch := Change{Table: c.Table, Before: c.Before, After: c.After}
		switch {
		case c.Before == nil:
			ch.Op, ch.ID = ChangeInsert, k.RowID(c.After)
		case c.After == nil:
			ch.Op, ch.ID = ChangeDelete, k.RowID(c.Before)
		default:
			ch.Op, ch.ID = ChangeUpdate, k.RowID(c.After)
		}
		out = append(out, ch)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(out) > f.maxChanges {
		f.resetLocked(rev)
		return
	}
	f.revs = append(f.revs, RevisionChanges{Revision: rev, Changes: out})
	f.changes += len(out)
	for len(f.revs) > f.maxRevs || f.changes > f.maxChanges {
		f.floor = f.revs[0].Revision
		f.changes -= len(f.revs[0].Changes)
		f.revs[0] = RevisionChanges{}
		f.revs = f.revs[1:]
	}
}

// reset forgets everything up to rev (a restore replaced the state).
func (f *changeFeed) reset(rev uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resetLocked(rev)
}

func (f *changeFeed) resetLocked(rev uint64) {
	f.revs, f.changes, f.floor = nil, 0, max(f.floor, rev)
}

// since returns the commits in (after, upTo].
func (f *changeFeed) since(after, upTo uint64) ([]RevisionChanges, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if after < f.floor {
		return nil, ErrChangesTruncated
	}
	var out []RevisionChanges
	for _, rc := range f.revs {
		if rc.Revision > after && rc.Revision <= upTo {
			out = append(out, rc)
		}
	}
	return out, nil
}

// ChangesSince returns what every commit after revision after, up to this
// snapshot's revision, changed, oldest first (revisions need not be
// consecutive: a raft index is spent on non-store entries too). With after
// equal to the snapshot's revision it returns nothing. ErrChangesTruncated
// means the feed cannot tell; rebuild from this snapshot instead. The
// returned slices are shared: do not change them.
func (s *Snapshot) ChangesSince(after uint64) ([]RevisionChanges, error) {
	if after > s.revision {
		return nil, nil
	}
	return s.feed.since(after, s.revision)
}
