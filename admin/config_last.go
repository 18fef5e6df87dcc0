package admin

import "sync"

// lastFile remembers the last declarative file this node planned to no
// change or applied, by its bytes' SHA-256, with the revision the store
// then held. Planning is deterministic in (file, store state), so while
// the revision has not moved the same bytes are a no-op again: a
// check_hash=1 re-apply answers 304 after hashing the file, not after
// validating every entity of it (seconds for 50,000 routes).
type lastFile struct {
	mu  sync.Mutex
	sum [32]byte
	rev uint64
	ok  bool
}

func (l *lastFile) holds(sum [32]byte, rev uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok && l.sum == sum && l.rev == rev
}

func (l *lastFile) set(sum [32]byte, rev uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sum, l.rev, l.ok = sum, rev, true
}
