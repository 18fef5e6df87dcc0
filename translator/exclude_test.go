package translator

import (
	"errors"
	"testing"

	"github.com/switchboard-gw/switchboard/store"
)

// TestTranslate_Exclude checks that a quarantined entity is left out like
// one that cannot be translated, and nothing else moves.
func TestTranslate_Exclude(t *testing.T) {
	up := defaultUpstream()
	up.ID, up.Name = "u1", "up"
	plain, onUp := defaultService(), defaultService()
	plain.ID, plain.Host = "s-plain", "10.0.0.1"
	onUp.ID, onUp.Host = "s-up", "up"
	route := func(id, svc, path string) *store.Route {
		r := defaultRoute()
		r.ID, r.Paths, r.Service = id, []string{path}, &store.ForeignKey{ID: svc}
		return r
	}
	in := &Input{
		Services:  []*store.Service{plain, onUp},
		Upstreams: []*store.Upstream{up},
		Targets: []*store.Target{
			{ID: "t1", Upstream: store.ForeignKey{ID: "u1"}, Target: "10.0.1.1:80", Weight: 100},
			{ID: "t2", Upstream: store.ForeignKey{ID: "u1"}, Target: "10.0.1.2:80", Weight: 100},
		},
		Routes: []*store.Route{route("r-plain", "s-plain", "/p"), route("r-up", "s-up", "/u"), route("r-other", "s-plain", "/o")},
	}
	routeNames := func(res *Resources) map[string]bool {
		out := map[string]bool{}
		for _, vh := range res.Routes[0].GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				out[r.GetName()] = true
			}
		}
		return out
	}
	for _, tc := range []struct {
		exclude    string
		goneRoutes []string
		clusters   int
		endpoints  int // of the upstream's cluster, -1 when it is gone
	}{
		{"", nil, 2, 2},
		{"r-plain", []string{"r-plain"}, 2, 2},
		{"s-plain", []string{"r-plain", "r-other"}, 1, 2},
		{"u1", []string{"r-up"}, 1, -1},
		{"t2", nil, 2, 1},
	} {
		in.Exclude = nil
		if tc.exclude != "" {
			in.Exclude = map[string]string{tc.exclude: "NACKed"}
		}
		res, err := Translate(in)
		if tc.exclude != "" && !errors.Is(err, ErrExcluded) && tc.exclude != "t2" {
			t.Errorf("exclude %s: error %v does not wrap ErrExcluded", tc.exclude, err)
		}
		got := routeNames(res)
		for _, name := range []string{"r-plain", "r-up", "r-other"} {
			gone := false
			for _, g := range tc.goneRoutes {
				gone = gone || g == name
			}
			if got[name] == gone {
				t.Errorf("exclude %q: route %s present = %v", tc.exclude, name, got[name])
			}
		}
		if len(res.Clusters) != tc.clusters {
			t.Errorf("exclude %q: %d clusters, want %d", tc.exclude, len(res.Clusters), tc.clusters)
		}
		n := -1
		for _, cla := range res.Endpoints {
			if res.ClusterUpstream[cla.GetClusterName()] == "up" {
				n = len(cla.GetEndpoints()[0].GetLbEndpoints())
			}
		}
		if n != tc.endpoints {
			t.Errorf("exclude %q: upstream endpoints %d, want %d", tc.exclude, n, tc.endpoints)
		}
	}
}
