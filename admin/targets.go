package admin

import (
	"fmt"
	"net/http"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// targetOptions are Kong's hand-written targets API
// (kong/api/routes/upstreams.lua): targets live under their upstream only,
// are found by address as well as id, list newest first, PUT updates
// without creating, and a target never moves to another upstream.
var targetOptions = entityOptions{
	nestedOnly:  true,
	byKey:       targetByAddress,
	putUpdates:  true,
	parentFixed: true,
	newestFirst: true,
	extras:      func(s *Server) { s.registerTargetExtras() },
}

func (s *Server) registerTargetExtras() {
	// /targets/all before /targets/{targets}: gorilla/mux matches in
	// registration order.
	s.handleFunc("/upstreams/{upstreams}/targets/all", http.MethodGet, s.handleTargetListAll)
	// Kong 3.x takes PUT; go-kong's MarkHealthy still sends POST. Both work.
	for _, method := range []string{http.MethodPut, http.MethodPost} {
		s.handleFunc("/upstreams/{upstreams}/targets/{targets}/healthy", method, s.handleTargetHealth(true))
		s.handleFunc("/upstreams/{upstreams}/targets/{targets}/unhealthy", method, s.handleTargetHealth(false))
		s.handleFunc("/upstreams/{upstreams}/targets/{targets}/{address}/healthy", method, s.handleTargetHealth(true))
		s.handleFunc("/upstreams/{upstreams}/targets/{targets}/{address}/unhealthy", method, s.handleTargetHealth(false))
	}
}

// targetByAddress finds a target of upstream parent by its host:port, as
// given or normalised (Kong accepts /targets/a.test for a.test:8000).
func targetByAddress(snap *store.Snapshot, parent store.Row, key string) (store.Row, error) {
	up := parent.(*store.Upstream)
	t, err := snap.TargetByAddress(up.ID, key)
	if err == nil && t == nil {
		if n, ok := schema.NormalizeTarget(key); ok && n != key {
			t, err = snap.TargetByAddress(up.ID, n)
		}
	}
	if t == nil || err != nil {
		return nil, err
	}
	return t, nil
}

// targetsNewestFirst is an upstream's targets in Kong's order (see
// newestFirst).
func targetsNewestFirst(snap *store.Snapshot, upstreamID string) ([]*store.Target, error) {
	rows, err := snap.ListReferencing("targets", "upstream", upstreamID)
	if err != nil {
		return nil, err
	}
	rows = newestFirst(rows)
	out := make([]*store.Target, len(rows))
	for i, row := range rows {
		out[i] = row.(*store.Target)
	}
	return out, nil
}

// upstreamTargets reads the paging query, the {upstreams} parent and its
// targets newest first, for the health report. On failure it has written
// the error and returns ok false.
func (s *Server) upstreamTargets(w http.ResponseWriter, r *http.Request) (pageQuery, *store.Snapshot, *store.Upstream, []*store.Target, bool) {
	pq, err := parsePageQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return pq, nil, nil, nil, false
	}
	snap := s.store.Snapshot()
	up := s.parentUpstream(w, r, snap)
	if up == nil {
		return pq, nil, nil, nil, false
	}
	targets, err := targetsNewestFirst(snap, up.ID)
	if err != nil {
		s.writeError(w, r, err)
		return pq, nil, nil, nil, false
	}
	return pq, snap, up, targets, true
}

// handleTargetListAll pages the raw rows in id order with the regular
// opaque offset.
func (s *Server) handleTargetListAll(w http.ResponseWriter, r *http.Request) {
	s.relations["targets.upstream"].list(s, w, r, false, "/all")
}

// findTarget resolves /upstreams/{u}/targets/{t}: t is a target id or its
// host:port (normalised if needed); a target of another upstream is 404.
func (s *Server) findTarget(w http.ResponseWriter, r *http.Request) (*store.Upstream, *store.Target) {
	snap := s.store.Snapshot()
	up := s.parentUpstream(w, r, snap)
	if up == nil {
		return nil, nil
	}
	row, err := s.entities["targets"].lookup(snap, up, pathVar(r, "targets"))
	if err != nil {
		s.writeError(w, r, err)
		return nil, nil
	}
	t, _ := row.(*store.Target)
	if t == nil || t.Upstream.ID != up.ID {
		s.writeError(w, r, errNotFound)
		return nil, nil
	}
	return up, t
}

// handleTargetHealth records a manual health override (Kong keeps it in
// the balancer; switchboard keeps it in the store so that it replicates and
// reaches Envoy). With an {address}, the override names one resolved
// address, ip[:port] with Kong's default port 8000.
func (s *Server) handleTargetHealth(healthy bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		up, t := s.findTarget(w, r)
		if t == nil {
			return
		}
		address := ""
		if raw, ok := mapVar(r, "address"); ok {
			p, msg := schema.ParseHost(raw)
			if msg != "" {
				s.writeError(w, r, errStatus(http.StatusBadRequest, fmt.Sprintf("invalid address '%s': %s", raw, msg)))
				return
			}
			address = p.Format(schema.DefaultTargetPort)
		}
		m := store.Mutation{Op: store.OpSetTargetHealth, TargetHealth: &store.TargetHealth{
			TargetID: t.ID, UpstreamID: up.ID, Address: address, Healthy: healthy,
		}}
		if !s.apply(w, r, m) {
			return
		}
		s.writeJSON(w, r, http.StatusNoContent, nil)
	}
}
