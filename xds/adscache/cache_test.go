package adscache

import (
	"slices"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"github.com/google/go-cmp/cmp"
)

const (
	cds = resourcev3.ClusterType
	eds = resourcev3.EndpointType
)

func res(pairs ...string) []Resource {
	var out []Resource
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Resource{Name: pairs[i], Bytes: []byte(pairs[i+1])})
	}
	return out
}

// deltaStream plays go-control-plane's delta server for one type: it owns
// the subscription, stores what each response returned, and cancels and
// re-creates the watch on every request.
type deltaStream struct {
	t      *testing.T
	c      *Cache
	ch     chan cachev3.DeltaResponse
	sub    stream.Subscription
	typ    string
	cancel func()
	opened bool
}

func newDeltaStream(t *testing.T, c *Cache, typ string) *deltaStream {
	return &deltaStream{t: t, c: c, typ: typ, ch: make(chan cachev3.DeltaResponse, 16)}
}

func (s *deltaStream) request(subscribe, unsubscribe []string) {
	s.t.Helper()
	req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: s.typ, ResourceNamesSubscribe: subscribe, ResourceNamesUnsubscribe: unsubscribe}
	if !s.opened {
		s.sub = stream.NewDeltaSubscription(subscribe, unsubscribe, nil, true)
		s.opened = true
	} else {
		s.cancel()
		s.sub.UpdateResourceSubscriptions(subscribe, unsubscribe)
	}
	var err error
	if s.cancel, err = s.c.CreateDeltaWatch(req, s.sub, s.ch); err != nil {
		s.t.Fatal(err)
	}
}

// recv returns the names sent and removed by the next response, or nil
// when there is none.
func (s *deltaStream) recv() (names, removed []string, resp *discoveryv3.DeltaDiscoveryResponse) {
	s.t.Helper()
	select {
	case r := <-s.ch:
		out, _ := r.GetDeltaDiscoveryResponse()
		s.sub.SetReturnedResources(r.GetNextVersionMap())
		for _, x := range out.GetResources() {
			names = append(names, x.GetName())
		}
		return names, out.GetRemovedResources(), out
	default:
		return nil, nil, nil
	}
}

func TestDelta_WildcardAndAck(t *testing.T) {
	c := New(cds)
	c.Update(cds, 1, res("a", "A1", "b", "B1"), nil, nil)
	s := newDeltaStream(t, c, cds)
	s.request(nil, nil)
	if names, _, _ := s.recv(); !cmp.Equal(names, []string{"a", "b"}) {
		t.Fatalf("first response = %v, want a, b", names)
	}
	s.request(nil, nil) // ACK
	if names, rm, r := s.recv(); r != nil {
		t.Fatalf("ACK answered with %v %v", names, rm)
	}
	// Equal bytes are no change.
	if ch := c.Update(cds, 2, res("a", "A1", "b", "B2"), nil, nil); !cmp.Equal(ch, []string{"b"}) {
		t.Errorf("changed = %v, want b", ch)
	}
	names, _, r := s.recv()
	if !cmp.Equal(names, []string{"b"}) {
		t.Fatalf("after b changed: %v", names)
	}
	if rev, ok := c.RevisionOf(cds, r.GetSystemVersionInfo()); !ok || rev != 2 {
		t.Errorf("version %q: revision %d %v, want 2", r.GetSystemVersionInfo(), rev, ok)
	}
	// Versions depend on content only: another cache holding the same
	// resources has the same versions.
	other := New(cds)
	other.Update(cds, 9, res("a", "A1", "b", "B2"), nil, nil)
	if other.Version(cds) != c.Version(cds) {
		t.Errorf("same content, versions %q and %q", other.Version(cds), c.Version(cds))
	}
	// Changes while the response awaits its ACK are sent after the ACK.
	c.Update(cds, 3, nil, []string{"a"}, nil)
	c.Update(cds, 4, res("c", "C1"), nil, nil)
	if _, _, r := s.recv(); r != nil {
		t.Fatal("answered twice before the ACK")
	}
	s.request(nil, nil)
	names, rm, _ := s.recv()
	if !cmp.Equal(names, []string{"c"}) || !cmp.Equal(rm, []string{"a"}) {
		t.Errorf("after ACK: sent %v removed %v, want c and a", names, rm)
	}
	// Touch re-sends unchanged bytes under a new version.
	s.request(nil, nil)
	c.Update(cds, 5, nil, nil, []string{"b"})
	if names, _, _ := s.recv(); !cmp.Equal(names, []string{"b"}) {
		t.Errorf("touch: %v", names)
	}
}

// A reconnecting Envoy that holds every version is still answered once
// (empty), so that it finishes its initial fetch and ACKs a version.
func TestDelta_ReconnectHoldingEverything(t *testing.T) {
	c := New(cds)
	c.Update(cds, 1, res("a", "A1"), nil, nil)
	first := newDeltaStream(t, c, cds)
	first.request(nil, nil)
	_, _, r := first.recv()
	held := map[string]string{"a": r.GetResources()[0].GetVersion()}

	s := newDeltaStream(t, c, cds)
	s.sub = stream.NewDeltaSubscription(nil, nil, held, true)
	s.opened = true
	var err error
	if s.cancel, err = c.CreateDeltaWatch(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: cds, InitialResourceVersions: held}, s.sub, s.ch); err != nil {
		t.Fatal(err)
	}
	names, rm, r := s.recv()
	if r == nil || len(names)+len(rm) != 0 || r.GetSystemVersionInfo() != c.Version(cds) {
		t.Fatalf("reconnect: response %v (names %v, removed %v), want an empty one at version %s", r, names, rm, c.Version(cds))
	}
	s.request(nil, nil)
	if _, _, r := s.recv(); r != nil {
		t.Errorf("ACK of the empty response answered: %v", r)
	}
}

func TestDelta_NamedIndexAndSharing(t *testing.T) {
	c := New(cds)
	c.Update(eds, 1, res("x", "X1", "y", "Y1"), nil, nil)
	sx := newDeltaStream(t, c, eds)
	sx.request([]string{"x"}, nil)
	sy := newDeltaStream(t, c, eds)
	sy.request([]string{"x", "y"}, nil)
	_, _, rx := sx.recv()
	_, _, ry := sy.recv()
	if len(rx.GetResources()) != 1 || len(ry.GetResources()) != 2 {
		t.Fatalf("first responses: %v / %v", rx, ry)
	}
	if rx.GetResources()[0] != ry.GetResources()[0] {
		t.Error("two streams got two copies of x")
	}
	sx.request(nil, nil)
	sy.request(nil, nil)
	c.Update(eds, 2, res("y", "Y2"), nil, nil)
	if _, _, r := sx.recv(); r != nil {
		t.Errorf("x's watcher got y: %v", r)
	}
	if names, _, _ := sy.recv(); !cmp.Equal(names, []string{"y"}) {
		t.Errorf("y's watcher got %v", names)
	}
	// Subscribing later sends the new name only; unsubscribing leaves the
	// index.
	sx.request([]string{"y"}, []string{"x"})
	if names, _, _ := sx.recv(); !cmp.Equal(names, []string{"y"}) {
		t.Errorf("subscribe y: %v", names)
	}
	sx.request(nil, nil)
	c.Update(eds, 3, res("x", "X3"), nil, nil)
	if _, _, r := sx.recv(); r != nil {
		t.Errorf("unsubscribed x still sent: %v", r)
	}
	if got := len(c.types[eds].byName["x"]); got != 1 {
		t.Errorf("x has %d watchers in the index, want 1", got)
	}
}

func TestDelta_ClosedStreamIsDropped(t *testing.T) {
	c := New()
	var timers []func()
	c.after = func(_ time.Duration, f func()) { timers = append(timers, f) }
	c.Update(eds, 1, res("x", "X1"), nil, nil)
	s := newDeltaStream(t, c, eds)
	s.request([]string{"x"}, nil)
	s.recv()
	s.request(nil, nil) // ACK: cancel + re-create, which voids the timer
	for _, f := range timers {
		f()
	}
	if _, n := c.Watches(); n != 1 {
		t.Fatalf("%d delta watches after an ACK, want 1", n)
	}
	s.cancel() // the stream closes
	for _, f := range timers {
		f()
	}
	if _, n := c.Watches(); n != 0 || len(c.types[eds].byName) != 0 {
		t.Errorf("closed stream kept: %d watches, index %v", n, c.types[eds].byName)
	}
}

func TestSotw(t *testing.T) {
	c := New(cds)
	c.Update(cds, 1, res("a", "A1", "b", "B1"), nil, nil)
	c.Update(eds, 1, res("x", "X1", "y", "Y1"), nil, nil)
	ch := make(chan cachev3.Response, 4)

	// Full state: everything, again only when the version moves.
	sub := stream.NewSotwSubscription(nil, true)
	if _, err := c.CreateWatch(&discoveryv3.DiscoveryRequest{TypeUrl: cds}, &sub, ch); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	out, _ := r.GetDiscoveryResponse()
	if len(out.GetResources()) != 2 || out.GetVersionInfo() != c.Version(cds) {
		t.Fatalf("cds = %v", out)
	}
	cancel, _ := c.CreateWatch(&discoveryv3.DiscoveryRequest{TypeUrl: cds, VersionInfo: out.GetVersionInfo()}, &sub, ch)
	if len(ch) != 0 {
		t.Fatal("same version answered")
	}
	c.Update(cds, 2, nil, []string{"a"}, nil)
	out, _ = (<-ch).GetDiscoveryResponse()
	if len(out.GetResources()) != 1 {
		t.Errorf("after delete: %d clusters", len(out.GetResources()))
	}
	cancel()

	// Named: the requested resources that changed.
	esub := stream.NewSotwSubscription([]string{"x", "y"}, true)
	c.CreateWatch(&discoveryv3.DiscoveryRequest{TypeUrl: eds, ResourceNames: []string{"x", "y"}}, &esub, ch)
	r = <-ch
	esub.SetReturnedResources(r.GetReturnedResources())
	if out, _ := r.GetDiscoveryResponse(); len(out.GetResources()) != 2 {
		t.Fatalf("eds = %v", out)
	}
	c.CreateWatch(&discoveryv3.DiscoveryRequest{TypeUrl: eds, ResourceNames: []string{"x", "y"}, VersionInfo: r.GetResponseVersion()}, &esub, ch)
	if len(ch) != 0 {
		t.Fatal("ACK answered")
	}
	c.Update(eds, 2, res("y", "Y2"), nil, nil)
	out, _ = (<-ch).GetDiscoveryResponse()
	if len(out.GetResources()) != 1 {
		t.Errorf("after y changed: %d endpoints, want 1", len(out.GetResources()))
	}
	if got := c.Names(eds); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("Names = %v", got)
	}
}

// TestSotw_DroppedResponseIsResent: go-control-plane's server drops a
// response still queued for a watch it cancels (the stream sent a newer
// request first) and records returned resources only for responses it sends.
// The next watch must therefore still see the change as unsent. It was lost
// while the cache wrote the versions into the subscription's own map.
func TestSotw_DroppedResponseIsResent(t *testing.T) {
	c := New(cds)
	c.Update(eds, 1, res("x", "X1"), nil, nil)
	ch := make(chan cachev3.Response, 4)
	sub := stream.NewSotwSubscription([]string{"x"}, true)
	req := &discoveryv3.DiscoveryRequest{TypeUrl: eds, ResourceNames: []string{"x"}}
	c.CreateWatch(req, &sub, ch)
	r := <-ch
	sub.SetReturnedResources(r.GetReturnedResources()) // sent and held
	ack := &discoveryv3.DiscoveryRequest{TypeUrl: eds, ResourceNames: []string{"x"}, VersionInfo: r.GetResponseVersion()}
	cancel, _ := c.CreateWatch(ack, &sub, ch)

	c.Update(eds, 2, res("x", "X2"), nil, nil)
	<-ch     // queued for the old watch ...
	cancel() // ... and dropped: a newer request replaced the watch
	c.CreateWatch(ack, &sub, ch)
	select {
	case r := <-ch:
		if out, _ := r.GetDiscoveryResponse(); len(out.GetResources()) != 1 {
			t.Fatalf("resent %d resources, want x", len(out.GetResources()))
		}
	default:
		t.Fatal("the change to x was never re-sent after its response was dropped")
	}
}
