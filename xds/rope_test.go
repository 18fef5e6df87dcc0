package xds

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
)

// Random edits the way the translator makes them (a changed proto is a new
// pointer, an unchanged one is kept): inserts, removals, replacements and
// moves of virtual hosts and of routes inside large and small ones. After
// each, the ropes' bytes must be proto's, the version the one computed
// from scratch, and the leaves must not fragment.
func TestMarshalRoutes_RandomEdits(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	seq := 0
	route := func() *routev3.Route {
		seq++
		pad := bytes.Repeat([]byte("p"), rnd.IntN(600))
		return &routev3.Route{Name: fmt.Sprintf("r%d-%s", seq, pad), Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: fmt.Sprintf("/%d", seq)}}}
	}
	vhost := func(name string, n int) *routev3.VirtualHost {
		vh := &routev3.VirtualHost{Name: name, Domains: []string{name}}
		for range n {
			vh.Routes = append(vh.Routes, route())
		}
		return vh
	}
	var vhs []*routev3.VirtualHost
	for i := range 300 {
		n := 1 + rnd.IntN(3)
		if i%50 == 0 {
			n = 200 // large: a rope of its own
		}
		vhs = append(vhs, vhost(fmt.Sprintf("h%04d", i), n))
	}
	names := 300
	p := &publisher{}
	for step := range 300 {
		vhs = slices.Clone(vhs)
		for range 1 + rnd.IntN(3) {
			i := rnd.IntN(len(vhs))
			switch rnd.IntN(6) {
			case 0:
				names++
				vhs = slices.Insert(vhs, i, vhost(fmt.Sprintf("h%04d", names), 1+rnd.IntN(2)))
			case 1:
				if len(vhs) > 10 {
					vhs = slices.Delete(vhs, i, i+1)
				}
			case 2:
				j := rnd.IntN(len(vhs))
				vhs[i], vhs[j] = vhs[j], vhs[i]
			default:
				// A route of one virtual host changes: a new one.
				old := vhs[i]
				vh := &routev3.VirtualHost{Name: old.Name, Domains: old.Domains, Routes: slices.Clone(old.Routes)}
				k := rnd.IntN(len(vh.Routes))
				switch rnd.IntN(3) {
				case 0:
					vh.Routes[k] = route()
				case 1:
					vh.Routes = slices.Insert(vh.Routes, k, route())
				default:
					if len(vh.Routes) > 1 {
						vh.Routes = slices.Delete(vh.Routes, k, k+1)
					}
				}
				vhs[i] = vh
			}
		}
		rc := &routev3.RouteConfiguration{Name: "kong", VirtualHosts: vhs}
		w := splicedAsProto(t, p, rc, fmt.Sprintf("step %d", step))
		if step%30 == 0 {
			fresh, err := (&publisher{}).marshalRoutes(proto.Clone(rc).(*routev3.RouteConfiguration), false)
			if err != nil || fresh.version != w.version {
				t.Fatalf("step %d: version %s, from scratch %s (%v)", step, w.version, fresh.version, err)
			}
		}
	}
	c := p.routeBytes["kong"]
	leaves, small := len(c.vhosts.leaves), 0
	for _, l := range c.vhosts.leaves {
		if l.big == nil && len(l.buf) < leafMin/2 {
			small++
		}
	}
	// Small leaves only next to large virtual hosts, which end a leaf.
	if small > 2*len(c.big)+2 {
		t.Fatalf("%d of %d leaves under %d bytes, %d large virtual hosts", small, leaves, leafMin/2, len(c.big))
	}
	if n, items := len(c.vhosts.at), len(vhs); n != items {
		t.Fatalf("index holds %d virtual hosts, the configuration %d", n, items)
	}
}

// One edit anywhere re-packs a few leaves, not every leaf after it, and
// leaves stay large (appends do not leave a leaf each).
func TestRope_EditCopiesAFewLeaves(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	seq := 0
	vhost := func() *routev3.VirtualHost {
		seq++
		name := fmt.Sprintf("h%06d-%s", seq, bytes.Repeat([]byte("p"), 200+rnd.IntN(600)))
		return &routev3.VirtualHost{Name: name, Domains: []string{name}}
	}
	vhs := make([]*routev3.VirtualHost, 4000)
	for i := range vhs {
		vhs[i] = vhost()
	}
	p := &publisher{}
	if _, err := p.marshalRoutes(&routev3.RouteConfiguration{Name: "kong", VirtualHosts: vhs}, false); err != nil {
		t.Fatal(err)
	}
	worst := 0
	for range 500 {
		vhs = slices.Clone(vhs)
		i := rnd.IntN(len(vhs))
		switch rnd.IntN(4) {
		case 0:
			vhs = slices.Insert(vhs, i, vhost())
		case 1:
			vhs = slices.Delete(vhs, i, i+1)
		case 2:
			vhs = append(vhs, vhost()) // the usual new route, after the rest
		default:
			vhs[i] = vhost()
		}
		if _, err := p.marshalRoutes(&routev3.RouteConfiguration{Name: "kong", VirtualHosts: vhs}, false); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, p.routeBytes["kong"].vhosts.built)
	}
	if worst > 3*leafMax {
		t.Fatalf("an edit re-packed %d bytes (leaves of at most %d)", worst, leafMax)
	}
	c := p.routeBytes["kong"]
	w, err := p.marshalRoutes(&routev3.RouteConfiguration{Name: "kong", VirtualHosts: vhs}, false)
	if err != nil {
		t.Fatal(err)
	}
	small := 0
	for _, l := range c.vhosts.leaves {
		if len(l.buf) < leafMin/2 {
			small++
		}
	}
	if avg := w.size / len(c.vhosts.leaves); avg < leafMin || small > 2 {
		t.Fatalf("%d leaves of %d bytes on average, %d under %d", len(c.vhosts.leaves), avg, small, leafMin/2)
	}
}

// splicedAsProto marshals rc through p and fails unless the bytes are
// exactly proto's deterministic marshal of rc.
func splicedAsProto(t *testing.T, p *publisher, rc *routev3.RouteConfiguration, what string) routeWire {
	t.Helper()
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(rc)
	if err != nil {
		t.Fatal(err)
	}
	w, err := p.marshalRoutes(rc, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.flat(); !bytes.Equal(got, want) || w.size != len(want) {
		t.Fatalf("%s: spliced bytes differ from proto.Marshal (%d, %d vs %d bytes)", what, len(got), w.size, len(want))
	}
	return w
}
