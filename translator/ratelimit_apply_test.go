package translator

import (
	"encoding/json"
	"fmt"
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

// BenchmarkTranslate_RateLimitingGlobal: 2000 routes under a global
// key-auth, a global rate-limiting instance and a consumer's own one (every
// rate-limit filter of the chain asks which instances apply, per route).
func BenchmarkTranslate_RateLimitingGlobal(b *testing.B) {
	in := keyAuthInput(b, `{"key_names":["apikey"],"key_in_header":true,"run_on_preflight":true}`)
	in.Plugins[0].Route = nil
	in.Plugins = append(in.Plugins,
		&store.Plugin{ID: "rl", Name: pluginRateLimiting, Enabled: true, Config: []byte(`{"minute":5,"hour":100,"policy":"local","limit_by":"consumer"}`)},
		&store.Plugin{ID: "rl-c1", Name: pluginRateLimiting, Enabled: true, Consumer: &store.ForeignKey{ID: "c1"},
			Config: []byte(`{"minute":50,"policy":"cluster","limit_by":"consumer"}`)})
	base := in.Routes[0]
	for i := 0; i < 2000; i++ {
		r := *base
		r.ID, r.Paths = fmt.Sprintf("r%d", i), []string{fmt.Sprintf("/r%d", i)}
		in.Routes = append(in.Routes, &r)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Translate(in); err != nil {
			b.Fatal(err)
		}
	}
}
