package xds

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// quarantineList reads the "quarantined" list of GET /clustering/data-planes.
func quarantineList(t testing.TB, s *Server) []quarantined {
	t.Helper()
	rec := httptest.NewRecorder()
	s.DataPlanesHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/clustering/data-planes", nil))
	var body struct {
		Quarantined []quarantined `json:"quarantined"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Quarantined == nil {
		t.Fatalf("data-planes: %v, body %s", err, rec.Body)
	}
	return body.Quarantined
}

// routeNames lists the routes the fake Envoy holds, over every route
// configuration.
func routeNames(e *fakeEnvoy) []string {
	var out []string
	for _, m := range e.resources(resourcev3.RouteType) {
		for _, vh := range m.(*routev3.RouteConfiguration).GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				out = append(out, r.GetName())
			}
		}
	}
	slices.Sort(out)
	return out
}

// One route Envoy rejects is left out, every later change still reaches
// Envoy, and writing the route again brings it back.
func TestServer_NackedRouteIsQuarantined(t *testing.T) {
	forBothProtocols(t, func(t *testing.T, delta bool) {
		st := newStore(t, walkthrough()...)
		h := startServer(t, st, nil, Options{MinPublishInterval: -1})
		e := dialEnvoy(t, h.addr, "envoy-1", delta)
		h.waitConverged(e)

		e.nack(resourcev3.RouteType, "route rejected: test says no")
		bad := apply(t, st, upsertRoute(kongRoute("r2", "bad_route", "s1", "/bad")))
		eventually(t, "the route to be quarantined", func() bool { return len(quarantineList(t, h.srv)) == 1 })
		q := quarantineList(t, h.srv)[0]
		if q.Table != "routes" || q.ID != "r2" || q.Node != "envoy-1" || q.Type != "routes" || q.Revision != bad ||
			!strings.Contains(q.Message, "test says no") {
			t.Fatalf("quarantined = %+v, want route r2 rejected by envoy-1 at revision %d", q, bad)
		}
		if n := metricValue(t, h.srv, "switchboard_xds_quarantined_entities", ""); n != 1 {
			t.Fatalf("switchboard_xds_quarantined_entities = %v, want 1", n)
		}
		if why, ok := h.srv.Quarantined("r2"); !ok || !strings.Contains(why, "test says no") || !strings.Contains(why, "envoy-1") {
			t.Fatalf("Quarantined(r2) = %q, %v; want Envoy's message and node", why, ok)
		}

		// A later good route reaches Envoy; the quarantined one does not.
		apply(t, st, upsertRoute(kongRoute("r3", "good_route", "s1", "/good")))
		e.waitUntil("the good route", func() bool { return slices.Contains(routeNames(e), "good_route") })
		if got := routeNames(e); slices.Contains(got, "bad_route") || !slices.Contains(got, "example_route") {
			t.Fatalf("routes held = %v, want example_route and good_route only", got)
		}
		if n := e.NACKs(); n != 1 {
			t.Fatalf("NACKs = %d, want only the injected one", n)
		}
		eventually(t, "sync status normal", func() bool { return dataPlanes(t, h.srv)[0].SyncStatus == syncNormal })

		// Writing the quarantined route again releases it.
		apply(t, st, upsertRoute(kongRoute("r2", "bad_route", "s1", "/fixed")))
		e.waitUntil("the released route", func() bool { return slices.Contains(routeNames(e), "bad_route") })
		if q := quarantineList(t, h.srv); len(q) != 0 {
			t.Fatalf("quarantined after the rewrite = %+v, want none", q)
		}
		if _, ok := h.srv.Quarantined("r2"); ok {
			t.Fatal("Quarantined(r2) after the rewrite, want released")
		}
		if n := metricValue(t, h.srv, "switchboard_xds_quarantined_entities", ""); n != 0 {
			t.Fatalf("switchboard_xds_quarantined_entities = %v, want 0", n)
		}
	})
}

// A cluster NACK suspects upstreams first, then services: with no upstream
// written since the ACKed version, the new service is quarantined (and a
// target write, which shapes endpoints only, is no suspect; nor is the
// route: it shapes no cluster).
func TestServer_NackedClusterQuarantinesTheService(t *testing.T) {
	st := newStore(t, walkthrough()...)
	h := startServer(t, st, nil, Options{MinPublishInterval: -1})
	e := dialEnvoy(t, h.addr, "envoy-1", false)
	h.waitConverged(e)

	e.nack(resourcev3.ClusterType, "cluster rejected: test says no")
	apply(t, st, upsertTarget(kongTarget("t3", "u1", "127.0.0.4:8080", 100)))
	apply(t, st, upsertService(kongService("s2", "other_service", "127.0.0.5", 80)),
		upsertRoute(kongRoute("r2", "other_route", "s2", "/other")))
	eventually(t, "the service to be quarantined", func() bool {
		q := quarantineList(t, h.srv)
		return len(q) == 1 && q[0].ID == "s2" && q[0].Table == "services" && q[0].Type == "clusters"
	})
	eventually(t, "sync status normal", func() bool { return dataPlanes(t, h.srv)[0].SyncStatus == syncNormal })
}

func TestSuspects(t *testing.T) {
	revs := feedOf(
		rev(3, "routes", "r1"),
		rev(5, "routes", "r2", "services", "s1"),
		rev(6, "routes", "r3"),
		rev(8, "routes", "r3", "routes", "r4"),
	)
	ids := func(tables []string, acked, rejected uint64) []string {
		var out []string
		for _, c := range suspects(revs, tables, acked, rejected) {
			out = append(out, c.ID)
		}
		return out
	}
	// (3, 6]: r2 and r3; r3 is written again at 8, after the rejected
	// revision, so only r2 stays a suspect.
	if got := ids([]string{"routes"}, 3, 6); !slices.Equal(got, []string{"r2"}) {
		t.Fatalf("suspects(routes, 3, 6) = %v, want [r2]", got)
	}
	if got := ids([]string{"services"}, 3, 8); !slices.Equal(got, []string{"s1"}) {
		t.Fatalf("suspects(services, 3, 8) = %v, want [s1]", got)
	}
	if got := ids([]string{"routes"}, 0, 8); !slices.Equal(got, []string{"r1", "r2", "r3", "r4"}) {
		t.Fatalf("suspects(routes, 0, 8) = %v", got)
	}
}

func rev(n uint64, tableIDs ...string) store.RevisionChanges {
	rc := store.RevisionChanges{Revision: n}
	for i := 0; i+1 < len(tableIDs); i += 2 {
		rc.Changes = append(rc.Changes, store.Change{Table: tableIDs[i], ID: tableIDs[i+1]})
	}
	return rc
}

func feedOf(revs ...store.RevisionChanges) []store.RevisionChanges { return revs }

// A NACK of the republish without the suspect (content Envoy ACKed before)
// names no new suspect: the fallback parks the watch, no resend loop, and
// the next write still flows.
func TestServer_NackOfTheQuarantineRepublishDoesNotLoop(t *testing.T) {
	forBothProtocols(t, func(t *testing.T, delta bool) {
		st := newStore(t, walkthrough()...)
		h := startServer(t, st, nil, Options{MinPublishInterval: -1})
		e := dialEnvoy(t, h.addr, "envoy-1", delta)
		h.waitConverged(e)

		e.NackNextN(resourcev3.RouteType, "route rejected: test says no", 2)
		apply(t, st, upsertRoute(kongRoute("r2", "bad_route", "s1", "/bad")))
		e.waitUntil("the second NACK", func() bool { return e.NACKs() == 2 })
		if q := quarantineList(t, h.srv); len(q) != 1 || q[0].ID != "r2" {
			t.Fatalf("quarantined = %+v, want r2 only", q)
		}

		apply(t, st, upsertRoute(kongRoute("r3", "good_route", "s1", "/good")))
		e.waitUntil("the good route", func() bool { return slices.Contains(routeNames(e), "good_route") })
		if n := e.NACKs(); n != 2 {
			t.Fatalf("NACKs = %d, want 2", n)
		}
	})
}
