package adscache

import (
	"context"
	"maps"
	"slices"
	"strings"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// sotwWatch is one state-of-the-world watch. SotW is the fallback path
// (delta is the default), so its watches stay one-shot, as go-control-plane
// expects: answered once, then forgotten until the next request.
type sotwWatch struct {
	req *cachev3.Request
	sub cachev3.Subscription
	ch  chan cachev3.Response
}

// CreateWatch implements cache.ConfigWatcher.
//
// Listeners and clusters (full-state types): answered at once with every
// resource when the request's version differs from the type's, else parked
// until the type changes. Other types: answered with the requested
// resources whose version differs from what the stream was last sent, else
// parked. A NACKed response therefore is not re-sent until the resource
// changes (for full-state types xds.registry rewrites the NACK's version to
// the rejected one).
func (c *Cache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.typeLocked(req.GetTypeUrl())
	w := &sotwWatch{req: req, sub: sub, ch: ch}
	if ts.set && c.sotwRespondLocked(ts, w, nil) {
		return func() {}, nil
	}
	ts.sotw[w] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(ts.sotw, w)
		c.mu.Unlock()
	}, nil
}

func (c *Cache) sotwNotifyLocked(ts *typeState, w *sotwWatch, changed []string) {
	if c.sotwRespondLocked(ts, w, changed) {
		delete(ts.sotw, w)
	}
}

// sotwRespondLocked answers w if there is something to send; changed nil
// means "consider every subscribed name".
func (c *Cache) sotwRespondLocked(ts *typeState, w *sotwWatch, changed []string) bool {
	// A copy: the subscription's map is what the client is known to hold,
	// and this response may be dropped unsent (the server cancels a watch
	// whose stream sent a newer request first). Writing the versions into
	// the subscription's own map would make the next watch believe the
	// client already has them, and the change would never be sent.
	returned := maps.Clone(w.sub.ReturnedResources())
	if ts.full {
		if w.req.GetVersionInfo() == ts.version {
			return false
		}
		w.ch <- &sotwResponse{req: w.req, returned: returned, resp: &discoveryv3.DiscoveryResponse{
			VersionInfo: ts.version, TypeUrl: ts.url, Resources: ts.allLocked(),
		}}
		return true
	}
	subscribed := w.sub.SubscribedResources()
	var names []string
	if changed == nil {
		if w.sub.IsWildcard() {
			for n := range ts.entries {
				names = append(names, n)
			}
		} else {
			for n := range subscribed {
				names = append(names, n)
			}
		}
		slices.Sort(names)
	} else {
		names = changed
	}
	var out []*anypb.Any
	for _, n := range names {
		e, ok := ts.entries[n]
		if !ok {
			continue
		}
		if _, sub := subscribed[n]; !sub && !w.sub.IsWildcard() {
			continue
		}
		if v, sent := returned[n]; sent && v == e.version {
			continue
		}
		out = append(out, e.any)
		if returned != nil {
			// The server stores this map into the subscription when it
			// sends the response.
			returned[n] = e.version
		}
	}
	if len(out) == 0 {
		return false
	}
	w.ch <- &sotwResponse{req: w.req, returned: returned, resp: &discoveryv3.DiscoveryResponse{
		VersionInfo: ts.version, TypeUrl: ts.url, Resources: out,
	}}
	return true
}

// allLocked is every resource of the type, sorted by name, shared by every
// full-state response of this version.
func (ts *typeState) allLocked() []*anypb.Any {
	if ts.sotwAll == nil {
		names := make([]string, 0, len(ts.entries))
		for n := range ts.entries {
			names = append(names, n)
		}
		slices.SortFunc(names, strings.Compare)
		ts.sotwAll = make([]*anypb.Any, 0, len(names))
		for _, n := range names {
			ts.sotwAll = append(ts.sotwAll, ts.entries[n].any)
		}
	}
	return ts.sotwAll
}

// sotwResponse is one SotW response. resp is fresh per stream (the server
// sets its nonce); the Any values in it are shared by every stream.
type sotwResponse struct {
	req      *cachev3.Request
	returned map[string]string
	resp     *discoveryv3.DiscoveryResponse
}

func (r *sotwResponse) GetDiscoveryResponse() (*discoveryv3.DiscoveryResponse, error) {
	return r.resp, nil
}
func (r *sotwResponse) GetRequest() *discoveryv3.DiscoveryRequest { return r.req }
func (r *sotwResponse) GetVersion() (string, error)               { return r.resp.GetVersionInfo(), nil }
func (r *sotwResponse) GetResponseVersion() string                { return r.resp.GetVersionInfo() }
func (r *sotwResponse) GetReturnedResources() map[string]string   { return r.returned }
func (r *sotwResponse) GetContext() context.Context               { return context.Background() }
