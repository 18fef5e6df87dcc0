package translator

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-gw/switchboard/store"
)

func rlInstance(id, route, service, consumer string, cfg map[string]any) pluginInstance {
	b, _ := json.Marshal(cfg)
	return pluginInstance{id: id, name: pluginRateLimiting, routeID: route, serviceID: service, consumerID: consumer,
		enabled: true, row: &store.Plugin{ID: id, Name: pluginRateLimiting, Config: b}}
}

// Kong's precedence per request: each consumer gets its most specific
// instance, everybody else the route's; without key-auth consumer-scoped
// instances never apply; an instance with no window is skipped.
func TestRateLimitApplies(t *testing.T) {
	minute := map[string]any{"minute": 5, "policy": "cluster"}
	all := []pluginInstance{
		rlInstance("global", "", "", "", minute),
		rlInstance("route", "r1", "", "", minute),
		rlInstance("alice-any", "", "", "alice", minute),
		rlInstance("alice-route", "r1", "", "alice", minute), // ranks above alice-any
		rlInstance("bob-service", "", "s1", "bob", minute),
		rlInstance("carol-nowindow", "", "", "carol", map[string]any{"policy": "cluster"}),
		{id: "auth", name: pluginKeyAuth, enabled: true, row: &store.Plugin{ID: "auth", Config: json.RawMessage(`{}`)}},
	}
	rp := &routePlan{}
	rp.plugins, rp.perConsumer = resolvePlugins("r1", "s1", all)
	got, err := rateLimitApplies(rp)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ id, consumer, except string }
	var rows []row
	for _, a := range got {
		rows = append(rows, row{a.inst.id, a.consumer, strings.Join(a.except, ",")})
	}
	want := []row{{"alice-route", "alice", ""}, {"bob-service", "bob", ""}, {"route", "", "alice,bob,carol"}}
	if !slices.Equal(rows, want) {
		t.Fatalf("applies %v, want %v", rows, want)
	}
	// carol's instance (no window: the schema never stores one, Kong would
	// pick it and limit nothing) still takes her out of the route's.

	noAuth := &routePlan{}
	noAuth.plugins, noAuth.perConsumer = resolvePlugins("r1", "s1", all[:6])
	got, err = rateLimitApplies(noAuth)
	if err != nil || len(got) != 1 || got[0].inst.id != "route" || len(got[0].except) != 0 || got[0].authenticated {
		t.Fatalf("without key-auth: %+v, %v", got, err)
	}
}
