package xds

import (
	"context"
	"fmt"
	"sync"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/switchboard-gw/switchboard/translator"
)

// Resolver is what the publish loop needs from xds/resolve: which names to
// track, their answers, and a signal when answers move.
type Resolver interface {
	// Ensure tracks names and resolves the new ones, waiting briefly.
	Ensure(ctx context.Context, names []string)
	// Retain forgets every name not listed.
	Retain(names []string)
	// Answers returns the current answers by name.
	Answers() map[string]translator.DNSAnswer
	// Changed fires after answers changed in the background.
	Changed() <-chan struct{}
}

// The publish loop.
//
//	store commit ──► watcher (WaitForRevision) ──► kick ─┐
//	resolver answers moved ──────────────────────────────┼─► loop: snapshot → publish
//	                                                     ┘
//
// Coalescing: a commit is published at once; the loop always translates the
// newest store snapshot, so any number of commits that land while a publish
// is in flight are covered by the next one (the kick channel holds one
// signal). Options.MinPublishInterval can add a spacing between publishes;
// by default there is none, since it only added latency.

// Run publishes the store's current state, marks the server Ready, then
// republishes on every store commit and DNS change until ctx ends. It
// returns an error only if the first publish fails: with nothing valid to
// serve, Serve must not start. Call it once.
func (s *Server) Run(ctx context.Context) error {
	first := s.st.Snapshot()
	seen := newSeenLog()
	seen.observe(first.Revision())
	if _, err := s.pub.publish(ctx, first); err != nil {
		return fmt.Errorf("xds: first publish: %w", err)
	}
	s.published(first.Revision(), seen)
	close(s.ready)
	s.log.Info("xds: first snapshot published", "revision", first.Revision())

	kick := make(chan struct{}, 1)
	go s.watchStore(ctx, first.Revision(), seen, kick)
	var dnsChanged <-chan struct{}
	if s.res != nil {
		dnsChanged = s.res.Changed()
	}
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-dnsChanged:
			s.pub.dnsDirty = true
		case ev := <-s.nacks:
			// Republish at once without the suspects, or keep the
			// rejected watch parked when there are none.
			if !s.pub.isolate(s.st.Snapshot(), ev) {
				continue
			}
		}
		if wait := s.opts.MinPublishInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		// Whatever arrived meanwhile is covered by this publish.
		select {
		case <-kick:
		default:
		}
		select {
		case <-dnsChanged:
			s.pub.dnsDirty = true
		default:
		}
		last = time.Now()
		snap := s.st.Snapshot()
		if snap.Revision() == s.pub.revision && !s.pub.dnsDirty && !s.pub.quarantine.pending() {
			continue
		}
		if s.opts.OnPublish != nil {
			s.opts.OnPublish()
		}
		mode, err := s.pub.publish(ctx, snap)
		if err != nil {
			s.log.Error("xds: publish failed; Envoys keep the last good configuration", "revision", snap.Revision(), "error", err)
			continue
		}
		s.published(snap.Revision(), seen)
		s.log.Debug("xds: published", "revision", snap.Revision(), "mode", mode, "took", time.Since(last))
	}
}

// watchStore turns store commits into kicks, stamping when each revision
// was first seen so that the revision→publish latency includes time spent
// waiting behind a busy loop.
func (s *Server) watchStore(ctx context.Context, after uint64, seen *seenLog, kick chan<- struct{}) {
	for {
		rev, err := s.st.WaitForRevision(ctx, after)
		if err != nil {
			return
		}
		seen.observe(rev)
		s.commits.record(rev, time.Now())
		after = rev
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// published records a successful publish of rev: the latency metric, the
// revision readers wait on.
func (s *Server) published(rev uint64, seen *seenLog) {
	if at, ok := seen.consume(rev); ok {
		s.metrics.commitToPub.Observe(time.Since(at).Seconds())
	}
	versions := make(map[string]string, len(snapshotTypes))
	for _, t := range snapshotTypes {
		versions[t] = s.cache.Version(t)
	}
	s.acks.record(rev, versions, s.pub.edsUpserted, s.cache.Version(resourcev3.EndpointType))
	s.pubMu.Lock()
	s.pubRev = rev
	close(s.pubCh)
	s.pubCh = make(chan struct{})
	s.pubMu.Unlock()
}

// PublishedRevision is the store revision whose configuration the xDS cache
// holds (0 before the first publish).
func (s *Server) PublishedRevision() uint64 {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.pubRev
}

// WaitPublished blocks until the configuration of store revision rev (or a
// later one) is in the cache, or ctx ends. A revision whose publish failed
// is only passed by a later successful publish.
func (s *Server) WaitPublished(ctx context.Context, rev uint64) error {
	for {
		s.pubMu.Lock()
		cur, ch := s.pubRev, s.pubCh
		s.pubMu.Unlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// seenLog remembers when revisions were first observed, oldest first.
type seenLog struct {
	mu      sync.Mutex
	entries []seenEntry
}

type seenEntry struct {
	rev uint64
	at  time.Time
}

func newSeenLog() *seenLog { return &seenLog{} }

func (l *seenLog) observe(rev uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.entries); n > 0 && l.entries[n-1].rev >= rev {
		return
	}
	l.entries = append(l.entries, seenEntry{rev, time.Now()})
}

// consume drops the entries a publish of rev covers and returns the time
// the oldest of them was seen.
func (l *seenLog) consume(rev uint64) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	for i < len(l.entries) && l.entries[i].rev <= rev {
		i++
	}
	if i == 0 {
		return time.Time{}, false
	}
	at := l.entries[0].at
	l.entries = append(l.entries[:0], l.entries[i:]...)
	return at, true
}

// commitLog remembers when the latest store revisions were first seen, for
// the commit → ACK propagation histogram. Bounded: an Envoy ACKing a
// revision older than the log holds is simply not timed.
type commitLog struct {
	mu   sync.Mutex
	at   map[uint64]time.Time
	revs []uint64 // ring of the keys of at, oldest at next
	next int
}

const commitLogSize = 4096

func newCommitLog() *commitLog {
	return &commitLog{at: make(map[uint64]time.Time, commitLogSize), revs: make([]uint64, 0, commitLogSize)}
}

func (l *commitLog) record(rev uint64, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.revs) < commitLogSize {
		l.revs = append(l.revs, rev)
	} else {
		delete(l.at, l.revs[l.next])
		l.revs[l.next] = rev
		l.next = (l.next + 1) % commitLogSize
	}
	l.at[rev] = at
}

func (l *commitLog) lookup(rev uint64) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.at[rev]
	return at, ok
}
