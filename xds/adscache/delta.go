package adscache

import (
	"context"
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// deltaKey names one stream's watch of one type: go-control-plane gives
// every delta stream one response channel for all its types, and keeps it
// for the stream's life.
type deltaKey struct {
	ch      chan cachev3.DeltaResponse
	typeURL string
}

// Watch states. go-control-plane treats a watch as one-shot: answered, then
// cancelled and re-created by the stream's next request (the ACK). Here the
// watch, its place in the name index and the names changed meanwhile
// survive that cycle; only a watch of a closed stream (cancelled and never
// re-created) is dropped, after staleWatch.
const (
	watchParked    = iota // may be answered
	watchAnswered         // answered; waits for the stream's next request
	watchCancelled        // cancelled by the server; revived by CreateDeltaWatch
)

type deltaWatch struct {
	key   deltaKey
	ts    *typeState
	state int
	epoch uint64 // bumped on every revival, so that a late GC timer is void

	req *cachev3.DeltaRequest
	// sub is the server's view of the stream; read only while the watch
	// is parked or being created (the server touches it only in between).
	sub cachev3.Subscription

	// wildcard: subscribed to every name. The names subscribed by name
	// are kept only in ts.byName (w in ts.byName[n]): a second set per
	// watch was 1,000 names per endpoint watch, ~5 MB at 100 streams.
	wildcard bool

	pending    map[string]struct{} // names changed while not parked
	pendingAll bool
	// first: no response yet. A stream's first request of a type is always
	// answered, even with nothing new (a reconnecting Envoy holding every
	// version): Envoy waits for that answer to finish its initial fetch,
	// and its ACK names the version it runs (/clustering/data-planes).
	first bool
}

// CreateDeltaWatch implements cache.ConfigWatcher.
func (c *Cache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, ch chan cachev3.DeltaResponse) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := deltaKey{ch: ch, typeURL: req.GetTypeUrl()}
	w := c.delta[key]
	if w == nil {
		w = &deltaWatch{key: key, ts: c.typeLocked(key.typeURL), pending: map[string]struct{}{}}
		c.delta[key] = w
		w.pendingAll, w.first = true, true
		c.indexLocked(w, sub.IsWildcard(), keys(sub.SubscribedResources()), nil)
	} else {
		// The next request on a live stream: apply only what it changes.
		w.epoch++
		var added []string
		for _, n := range req.GetResourceNamesSubscribe() {
			if n != "*" {
				added = append(added, n)
			}
		}
		if sub.IsWildcard() && !w.wildcard {
			w.pendingAll = true
		}
		c.indexLocked(w, sub.IsWildcard(), added, req.GetResourceNamesUnsubscribe())
		for _, n := range added {
			w.pending[n] = struct{}{}
		}
	}
	w.req, w.sub, w.state = req, sub, watchParked
	c.deltaRespondLocked(w)
	epoch := w.epoch
	return func() { c.cancelDelta(w, epoch) }, nil
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// indexLocked moves w in its type's index: wildcard set, names added and
// removed.
func (c *Cache) indexLocked(w *deltaWatch, wildcard bool, add, remove []string) {
	ts := w.ts
	if wildcard {
		ts.wildcard[w] = struct{}{}
	} else {
		delete(ts.wildcard, w)
	}
	w.wildcard = wildcard
	for _, n := range add {
		set := ts.byName[n]
		if set == nil {
			set = map[*deltaWatch]struct{}{}
			ts.byName[n] = set
		}
		set[w] = struct{}{}
	}
	for _, n := range remove {
		ts.unindexLocked(w, n)
	}
}

func (ts *typeState) unindexLocked(w *deltaWatch, n string) {
	if set := ts.byName[n]; set != nil {
		delete(set, w)
		if len(set) == 0 {
			delete(ts.byName, n)
		}
	}
}

// subscribedLocked reports whether w subscribed to n by name.
func (w *deltaWatch) subscribedLocked(n string) bool {
	_, ok := w.ts.byName[n][w]
	return ok
}

// namesLocked lists the names w subscribed to by name, unsorted: a walk of
// the type's index, done when a watch is created or dropped, never per
// change.
func (w *deltaWatch) namesLocked() []string {
	var out []string
	for n, set := range w.ts.byName {
		if _, ok := set[w]; ok {
			out = append(out, n)
		}
	}
	return out
}

func (c *Cache) cancelDelta(w *deltaWatch, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.epoch != epoch || w.state == watchCancelled || c.delta[w.key] != w {
		return
	}
	w.state = watchCancelled
	c.after(staleWatch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if w.epoch == epoch && w.state == watchCancelled && c.delta[w.key] == w {
			c.dropLocked(w)
		}
	})
}

func (c *Cache) dropLocked(w *deltaWatch) {
	c.indexLocked(w, false, nil, w.namesLocked())
	delete(c.delta, w.key)
}

func (c *Cache) deltaNotifyLocked(_ *typeState, w *deltaWatch, names []string) {
	if w.state != watchParked {
		if !w.pendingAll {
			for _, n := range names {
				w.pending[n] = struct{}{}
			}
		}
		return
	}
	for _, n := range names {
		w.pending[n] = struct{}{}
	}
	c.deltaRespondLocked(w)
}

// deltaRespondLocked answers a parked watch with what is pending, if
// anything differs from what the stream holds.
func (c *Cache) deltaRespondLocked(w *deltaWatch) {
	ts := w.ts
	if !ts.set {
		return // nothing published for this type yet: wait for it
	}
	returned := w.sub.ReturnedResources()
	var names []string
	if w.pendingAll {
		if w.wildcard {
			for n := range ts.entries {
				names = append(names, n)
			}
		} else {
			names = w.namesLocked()
		}
		for n := range returned {
			if _, ok := ts.entries[n]; !ok {
				names = append(names, n) // held by the client, gone here
			}
		}
	} else {
		names = keys(w.pending)
	}
	clear(w.pending)
	w.pendingAll = false
	slices.Sort(names)
	names = slices.Compact(names)

	var res []*discoveryv3.Resource
	var removed []string
	for _, n := range names {
		v, held := returned[n]
		e, ok := ts.entries[n]
		subscribed := w.subscribedLocked(n)
		switch {
		case ok && (subscribed || w.wildcard):
			if held && v == e.version {
				continue
			}
			res = append(res, e.delta)
			returned[n] = e.version
		case held && !ok:
			removed = append(removed, n)
			delete(returned, n)
		}
	}
	if len(res) == 0 && len(removed) == 0 && !w.first {
		return
	}
	w.state, w.first = watchAnswered, false
	// The channel holds two responses per type; one watch has at most one
	// outstanding, so this never blocks.
	w.key.ch <- &deltaResponse{req: w.req, returned: returned, resp: &discoveryv3.DeltaDiscoveryResponse{
		SystemVersionInfo: ts.version, TypeUrl: ts.url, Resources: res, RemovedResources: removed,
	}}
}

// deltaResponse is one delta response. resp is fresh per stream (the server
// sets its nonce); the Resources in it are shared by every stream.
//
// returned is the subscription's own map, updated in place rather than
// copied per response (a copy is O(subscribed names) per change per
// client): the server stores it back into the subscription and touches it
// only while the watch is not parked, when this cache does not.
type deltaResponse struct {
	req      *cachev3.DeltaRequest
	returned map[string]string
	resp     *discoveryv3.DeltaDiscoveryResponse
}

func (r *deltaResponse) GetDeltaDiscoveryResponse() (*discoveryv3.DeltaDiscoveryResponse, error) {
	return r.resp, nil
}
func (r *deltaResponse) GetDeltaRequest() *discoveryv3.DeltaDiscoveryRequest { return r.req }
func (r *deltaResponse) GetSystemVersion() (string, error)                   { return r.resp.GetSystemVersionInfo(), nil }
func (r *deltaResponse) GetResponseVersion() string                          { return r.resp.GetSystemVersionInfo() }
func (r *deltaResponse) GetNextVersionMap() map[string]string                { return r.returned }
func (r *deltaResponse) GetReturnedResources() map[string]string             { return r.returned }
func (r *deltaResponse) GetContext() context.Context                         { return context.Background() }
