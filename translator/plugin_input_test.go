package translator

import (
	"testing"

	"github.com/switchboard-gw/switchboard/store"
)

// Plugin rows reach the plan step: a route's instances are resolved from
// the snapshot by Kong's precedence, and a plugin change is a full
// translation for the incremental path.
func TestPlugins_FromSnapshot(t *testing.T) {
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	apply := func(m *store.Mutation) {
		t.Helper()
		if _, err := st.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	name := "s"
	apply(store.Upsert("services", &store.Service{ID: "s1", Name: &name, Host: "h.test", Port: 80, Protocol: "http", Enabled: true}))
	apply(store.Upsert("routes", &store.Route{ID: "r1", Paths: []string{"/"}, Protocols: []string{"http"}, Service: &store.ForeignKey{ID: "s1"}}))
	before := st.Snapshot()
	apply(store.Upsert("plugins", &store.Plugin{ID: "p1", Name: "rate-limiting", Enabled: true, Config: []byte(`{"minute":5}`)}))
	apply(store.Upsert("plugins", &store.Plugin{ID: "p2", Name: "rate-limiting", Enabled: true, Route: &store.ForeignKey{ID: "r1"}, Config: []byte(`{"minute":1}`)}))
	apply(store.Upsert("plugins", &store.Plugin{ID: "p3", Name: "key-auth", Enabled: false, Config: []byte(`{}`)}))
	after := st.Snapshot()

	in, err := FromSnapshot(after, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTranslator(in)
	static, _ := resolvePlugins("r1", "s1", tr.plugins)
	if len(static) != 1 || static[0].id != "p2" || string(static[0].row.Config) != `{"minute":1}` {
		t.Fatalf("route r1 plugins: %+v", static)
	}
	ch, err := ChangesBetween(before, after)
	if err != nil || !ch.All {
		t.Fatalf("plugin change: %+v %v, want All", ch, err)
	}
	if ch, _ := ChangesBetween(after, after); ch.All {
		t.Fatal("no change reported as All")
	}
}
