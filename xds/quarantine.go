package xds

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// NACK isolation (defence in depth behind the admin's validation): when an
// Envoy rejects a version, the entities written between the revision it
// last ACKed for that type and the rejected revision are the suspects.
// They are quarantined — the translator leaves them out as it leaves out
// an entity that fails to translate (translator.ErrExcluded) — and the
// configuration is republished at once, so one bad route cannot freeze
// every later route change. A quarantined entity is released when it is
// written (or deleted) again. When no suspect can be named, the rejected
// watch stays parked (nodes.go), as before.

// maxSuspects bounds one NACK's quarantine: leaving out a bigger batch (a
// bulk import) is no longer isolation, so such a NACK keeps the fallback.
// maxQuarantined bounds the whole set.
const (
	maxSuspects    = 64
	maxQuarantined = 1024
)

// nackEvent is a NACK handed from the stream callbacks to the publish
// loop, with the versions needed to find its suspects.
type nackEvent struct {
	node    string
	typeURL string
	version string // rejected
	acked   string // the last version of typeURL the node ACKed, "" if none
	message string
	at      time.Time
}

// quarantined is one entity left out of the configuration.
type quarantined struct {
	Table    string `json:"entity"`
	ID       string `json:"id"`
	Type     string `json:"type"` // the rejected xDS type
	Message  string `json:"message"`
	Node     string `json:"node"`
	Revision uint64 `json:"revision"` // the rejected store revision
	At       int64  `json:"at"`
}

// quarantine is the set of quarantined entities. The publish loop changes
// it; GET /clustering/data-planes reads it from another goroutine.
type quarantine struct {
	mu      sync.Mutex
	entries map[string]quarantined // entity id → entry
	dirty   bool                   // changed since the translator last saw it
}

func newQuarantine() *quarantine { return &quarantine{entries: map[string]quarantined{}} }

// get returns the entry of one entity id.
func (q *quarantine) get(id string) (quarantined, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.entries[id]
	return e, ok
}

// Quarantined reports why the entity with this id is left out of the
// configuration after an Envoy rejected it, so the Admin API can show it on
// the entity itself (admin cannot import xds; cmd passes this method in).
func (s *Server) Quarantined(id string) (reason string, ok bool) {
	e, ok := s.pub.quarantine.get(id)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("left out of the Envoy configuration since revision %d: Envoy %s rejected it (%s): %s",
		e.Revision, e.Node, e.Type, e.Message), true
}

// list returns the entries sorted by table and id.
func (q *quarantine) list() []quarantined {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := slices.Collect(maps.Values(q.entries))
	slices.SortFunc(out, func(a, b quarantined) int {
		if c := strings.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func (q *quarantine) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}

// exclude returns the translator's view (id → reason) when the set changed
// since the last call, else nil (translator.Changes.Exclude: unchanged).
func (q *quarantine) exclude() map[string]string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.dirty {
		return nil
	}
	q.dirty = false
	out := make(map[string]string, len(q.entries))
	for id, e := range q.entries {
		out[id] = "rejected by Envoy " + e.Node + ": " + e.Message
	}
	return out
}

// pending says the translator has not yet seen the current set.
func (q *quarantine) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dirty
}

// add quarantines entries not yet in the set and returns those it added.
func (q *quarantine) add(es []quarantined) []quarantined {
	q.mu.Lock()
	defer q.mu.Unlock()
	var added []quarantined
	for _, e := range es {
		if _, ok := q.entries[e.ID]; ok || len(q.entries) >= maxQuarantined {
			continue
		}
		q.entries[e.ID] = e
		added = append(added, e)
	}
	if len(added) > 0 {
		q.dirty = true
	}
	return added
}

// release drops the quarantined entities a commit wrote again and returns
// them.
func (q *quarantine) release(revs []store.RevisionChanges) []quarantined {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.entries) == 0 {
		return nil
	}
	var out []quarantined
	for _, rc := range revs {
		for _, c := range rc.Changes {
			if e, ok := q.entries[c.ID]; ok && e.Table == c.Table {
				delete(q.entries, c.ID)
				out = append(out, e)
				q.dirty = true
			}
		}
	}
	return out
}

// suspectTiers are, per xDS type, the tables whose entities shape it (and
// that the translator can leave out), most direct first. A NACK
// quarantines the suspects of the first tier that has new ones: a route
// before the service it belongs to (leaving a service out takes its routes
// with it), so a repeated NACK of the same version widens the net one tier
// at a time, and stops (fallback) when no tier has a new suspect.
var suspectTiers = map[string][][]string{
	resourcev3.RouteType:    {{"routes"}, {"services"}},
	resourcev3.ClusterType:  {{"upstreams"}, {"services"}},
	resourcev3.EndpointType: {{"targets"}, {"upstreams"}},
	resourcev3.ListenerType: {{"routes"}, {"services"}, {"upstreams"}, {"targets"}},
}

// suspects lists the entities of tables written in (acked, rejected] and
// not written again after rejected (a later write already replaced what
// Envoy rejected), first write first.
func suspects(revs []store.RevisionChanges, tables []string, acked, rejected uint64) []store.Change {
	var out []store.Change
	seen := map[string]bool{}
	later := map[string]bool{}
	for _, rc := range revs {
		for _, c := range rc.Changes {
			if !slices.Contains(tables, c.Table) {
				continue
			}
			key := c.Table + "\x00" + c.ID
			switch {
			case rc.Revision > rejected:
				later[key] = true
			case rc.Revision > acked && !seen[key]:
				seen[key] = true
				out = append(out, c)
			}
		}
	}
	return slices.DeleteFunc(out, func(c store.Change) bool { return later[c.Table+"\x00"+c.ID] })
}

// isolate handles a NACK in the publish loop: it finds the suspects of ev
// in snap's change feed and quarantines them. It returns true when the set
// grew (the caller republishes); false leaves the fallback (the rejected
// watch stays parked until the configuration changes).
func (p *publisher) isolate(snap *store.Snapshot, ev nackEvent) bool {
	log := p.log.With("node", ev.node, "type", typeName(ev.typeURL), "version", ev.version)
	if p.inc == nil || ev.version == "" {
		log.Warn("xds: NACK not isolated: no incremental translator or unknown rejected version")
		return false
	}
	rejected, ok := p.cache.RevisionOf(ev.typeURL, ev.version)
	if !ok {
		log.Warn("xds: NACK not isolated: rejected version no longer known")
		return false
	}
	acked, ok := p.cache.RevisionOf(ev.typeURL, ev.acked)
	if !ok || acked >= rejected {
		// Never ACKed (a first sync rejected) or ACKed something newer:
		// the change feed cannot name what the rejected version added.
		log.Warn("xds: NACK not isolated: no earlier ACKed revision to compare with", "acked", ev.acked)
		return false
	}
	revs, err := snap.ChangesSince(acked)
	if err != nil {
		log.Warn("xds: NACK not isolated: change feed", "error", err)
		return false
	}
	var added []quarantined
	for _, tables := range suspectTiers[ev.typeURL] {
		cs := suspects(revs, tables, acked, rejected)
		if len(cs) > maxSuspects {
			log.Warn("xds: NACK not isolated: too many suspects", "entity", tables[0], "suspects", len(cs), "max", maxSuspects)
			return false
		}
		es := make([]quarantined, 0, len(cs))
		for _, c := range cs {
			es = append(es, quarantined{
				Table: c.Table, ID: c.ID, Type: typeName(ev.typeURL), Message: ev.message,
				Node: ev.node, Revision: rejected, At: ev.at.Unix(),
			})
		}
		if added = p.quarantine.add(es); len(added) > 0 {
			break
		}
	}
	if len(added) == 0 {
		log.Warn("xds: NACK not isolated: no new suspect", "acked_revision", acked, "rejected_revision", rejected)
		return false
	}
	for _, e := range added {
		log.Error("xds: entity quarantined after a NACK", "entity", e.Table, "id", e.ID, "revision", rejected, "error", ev.message)
	}
	p.m.quarantined.Set(float64(p.quarantine.len()))
	return true
}
