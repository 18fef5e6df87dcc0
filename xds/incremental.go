package xds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
	"github.com/switchboard-gw/switchboard/xds/adscache"
)

// modeIncremental is a publish from the store's change feed through the
// translator's incremental API (also a "mode" label value).
const modeIncremental = "incremental"

// incTranslator is a Translator that can also translate only what changed
// (the default one does, with translator.Incremental). Resources is the
// whole current translation, equal to Translate of the same snapshot.
type incTranslator interface {
	Update(snap *store.Snapshot, dns map[string]translator.DNSAnswer, ch translator.Changes) (*translator.Delta, error)
	Resources() *translator.Resources
	ClusterUpstream(cluster string) string
}

// The O(change) path.
//
//	snap.ChangesSince(last published revision) ─► translator.ChangesFromFeed
//	   ─► Incremental.Update ─► Delta (changed protos, removed names)
//	   ─► validate and marshal only those ─► cache.Update in Envoy's order
//
// It falls back to diffing the whole current translation (incremental's
// Resources, which equals a full Translate) against the cache when the
// feed cannot say what changed (first publish, history truncated, a table
// the feed does not map), when a delta resource is invalid (sanitize's
// repairs apply) or inconsistent, and after any failure (stale), so the
// cache never drifts from the translation.
func (p *publisher) incremental(ctx context.Context, snap *store.Snapshot) (string, error) {
	all := !p.published || p.incStale
	ch := translator.Changes{All: all}
	if p.published {
		// Read even when everything is translated again (stale): the
		// feed still says which quarantined entities were written.
		revs, err := snap.ChangesSince(p.revision)
		switch {
		case errors.Is(err, store.ErrChangesTruncated):
			ch.All = true
		case err != nil && !all:
			return modeIncremental, fmt.Errorf("change feed: %w", err)
		case err == nil:
			if !all {
				ch = translator.ChangesFromFeed(revs)
			}
			for _, e := range p.quarantine.release(revs) {
				p.log.Info("xds: quarantined entity written again, released", "entity", e.Table, "id", e.ID)
			}
			p.m.quarantined.Set(float64(p.quarantine.len()))
		}
	}

	var names []string
	var err error
	if ch.All {
		names, err = dnsNames(snap)
	} else {
		names, err = changedNames(snap, ch)
	}
	if err != nil {
		return modeIncremental, err
	}
	dns := p.resolve(ctx, names, ch.All)
	if ch.All || p.dnsDirty {
		ch.DNS = movedNames(p.lastDNS, dns, nil)
	} else {
		ch.DNS = movedNames(p.lastDNS, dns, names)
	}
	p.dnsDirty = false
	// Read last: nothing between here and Update can fail.
	ch.Exclude = p.quarantine.exclude()
	if ch.Empty() {
		p.lastDNS = dns
		return modeNoop, nil
	}

	// From here on the translation moves ahead of the cache: any failure
	// leaves it stale, and the next publish diffs everything.
	p.incStale = true
	start := time.Now()
	d, terr := p.inc.Update(snap, dns, ch)
	mode := modeIncremental
	if ch.All {
		mode = modeFull
	}
	p.m.translation.WithLabelValues(mode).Observe(time.Since(start).Seconds())
	if d == nil {
		return mode, fmt.Errorf("translate revision %d: %w", snap.Revision(), terr)
	}
	if terr != nil {
		p.m.errors.WithLabelValues("translate").Inc()
		p.log.Warn("xds: translation problems (published best effort)", "revision", snap.Revision(), "error", terr)
	}
	p.lastDNS = dns
	if ch.All || !p.applyDelta(snap, d) {
		if err := p.apply(snap, p.inc.Resources()); err != nil {
			return mode, err
		}
		mode = modeFull
	}
	p.incStale = false
	return mode, nil
}

// applyDelta hands the cache what d changed. It returns false, having
// changed nothing, when d needs the whole-set path: an invalid resource
// (sanitize repairs it there) or a reference the delta leaves dangling.
func (p *publisher) applyDelta(snap *store.Snapshot, d *translator.Delta) bool {
	byType := map[string][]types.Resource{
		resourcev3.ClusterType:  asResources(d.Clusters),
		resourcev3.EndpointType: asResources(d.Endpoints),
		resourcev3.ListenerType: asResources(d.Listeners),
		resourcev3.RouteType:    asResources(d.Routes),
		resourcev3.SecretType:   asResources(d.Secrets),
	}
	// Route configurations are validated as they are marshalled: only
	// the virtual hosts and routes the translator re-built are new.
	wires := map[*routev3.RouteConfiguration]routeWire{}
	for t, rs := range byType {
		for _, r := range rs {
			if rc, ok := r.(*routev3.RouteConfiguration); ok && t == resourcev3.RouteType {
				w, err := p.marshalRoutes(rc, true)
				if err != nil {
					return false
				}
				wires[rc] = w
				continue
			}
			if v, ok := r.(interface{ ValidateAll() error }); ok && v.ValidateAll() != nil {
				return false
			}
		}
	}
	if err := p.deltaConsistent(d); err != nil {
		p.log.Debug("xds: delta inconsistent, diffing the whole translation", "revision", snap.Revision(), "error", err)
		return false
	}
	ups := map[string][]adscache.Resource{}
	replaced := map[string]bool{}
	for t, rs := range byType {
		held := p.held[t]
		for _, r := range rs {
			name := cachev3.GetResourceName(r)
			_, ok := held[name]
			if rc, isRC := r.(*routev3.RouteConfiguration); isRC {
				// Compared by version: its bytes are megabytes at scale.
				w := wires[rc]
				if !ok || p.rcVersion[name] != w.version {
					ups[t] = append(ups[t], adscache.Resource{Name: name, Pieces: w.pieces, Version: w.version})
				}
				continue
			}
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
			if err != nil {
				return false
			}
			if ok && bytes.Equal(held[name], b) {
				continue
			}
			if ok && t == resourcev3.ClusterType {
				replaced[name] = true
			}
			ups[t] = append(ups[t], adscache.Resource{Name: name, Bytes: b})
		}
	}
	rev := snap.Revision()
	update := func(t string, up []adscache.Resource, del, touch []string) {
		if len(up)+len(del)+len(touch) == 0 {
			return
		}
		p.cache.Update(t, rev, up, del, touch)
		held := p.held[t]
		if held == nil {
			held = map[string][]byte{}
			p.held[t] = held
		}
		p.noteRouteVersions(t, up, del)
		for _, r := range up {
			held[r.Name] = r.Bytes
		}
		for _, n := range del {
			delete(held, n)
		}
		if t == resourcev3.EndpointType && len(up)+len(touch) > 0 {
			p.edsUpserted = p.cache.Version(t)
		}
	}
	// Secrets before what names them, withdrawn after (as apply).
	update(resourcev3.SecretType, ups[resourcev3.SecretType], nil, nil)
	update(resourcev3.EndpointType, ups[resourcev3.EndpointType], nil, nil)
	update(resourcev3.ClusterType, ups[resourcev3.ClusterType], nil, nil)
	update(resourcev3.EndpointType, nil, nil, changedClusterEndpoints(d.Clusters, replaced, ups[resourcev3.EndpointType]))
	update(resourcev3.ListenerType, ups[resourcev3.ListenerType], d.RemovedListeners, nil)
	update(resourcev3.RouteType, ups[resourcev3.RouteType], d.RemovedRoutes, nil)
	update(resourcev3.ClusterType, nil, d.RemovedClusters, nil)
	update(resourcev3.EndpointType, nil, d.RemovedEndpoints, nil)
	update(resourcev3.SecretType, nil, d.RemovedSecrets, nil)
	p.refs.apply(d)
	if len(d.Clusters)+len(d.RemovedClusters) > 0 {
		p.updateChecked(d)
	}
	return true
}

// deltaConsistent checks what Snapshot.Consistent checks, for the part a
// delta touches: every EDS cluster keeps a CLA, no CLA outlives its
// cluster, every route configuration a listener names exists.
func (p *publisher) deltaConsistent(d *translator.Delta) error {
	newCLA := map[string]bool{}
	for _, cla := range d.Endpoints {
		newCLA[cla.GetClusterName()] = true
	}
	goneCLA := map[string]bool{}
	for _, n := range d.RemovedEndpoints {
		goneCLA[n] = true
	}
	goneCluster := map[string]bool{}
	for _, n := range d.RemovedClusters {
		goneCluster[n] = true
	}
	heldCLA, heldCluster := p.held[resourcev3.EndpointType], p.held[resourcev3.ClusterType]
	edsOf := map[string]bool{} // EDS names of the delta's clusters
	for _, c := range d.Clusters {
		if c.GetType() != clusterv3.Cluster_EDS {
			continue
		}
		n := edsName(c)
		edsOf[n] = true
		if _, held := heldCLA[n]; !newCLA[n] && (!held || goneCLA[n]) {
			return fmt.Errorf("cluster %q has no endpoints %q", c.GetName(), n)
		}
	}
	for n := range goneCLA {
		// Cluster and CLA share the name in our translation.
		if _, held := heldCluster[n]; (held && !goneCluster[n]) || edsOf[n] {
			return fmt.Errorf("endpoints %q removed, cluster kept", n)
		}
	}
	for n := range goneCluster {
		if _, held := heldCLA[n]; held && !goneCLA[n] {
			return fmt.Errorf("cluster %q removed, endpoints kept", n)
		}
	}
	if err := p.refs.deltaConsistent(d, p.held[resourcev3.SecretType]); err != nil {
		return err
	}
	if len(d.Listeners) > 0 {
		ls := map[string]types.ResourceWithTTL{}
		for _, l := range d.Listeners {
			ls[l.GetName()] = types.ResourceWithTTL{Resource: l}
		}
		newRC := map[string]bool{}
		for _, rc := range d.Routes {
			newRC[rc.GetName()] = true
		}
		for n := range cachev3.GetResourceReferences(ls)[resourcev3.RouteType] {
			if _, held := p.held[resourcev3.RouteType][n]; !held && !newRC[n] {
				return fmt.Errorf("listener names route configuration %q, which does not exist", n)
			}
		}
	}
	return nil
}

// updateChecked follows the health-checked upstreams through a delta.
func (p *publisher) updateChecked(d *translator.Delta) {
	if p.checkedBy == nil {
		p.checkedBy = map[string]string{}
	}
	for _, c := range d.Clusters {
		if len(c.GetHealthChecks()) > 0 || c.GetOutlierDetection() != nil {
			if u := p.inc.ClusterUpstream(c.GetName()); u != "" {
				p.checkedBy[c.GetName()] = u
				continue
			}
		}
		delete(p.checkedBy, c.GetName())
	}
	for _, n := range d.RemovedClusters {
		delete(p.checkedBy, n)
	}
	out := make([]string, 0, len(p.checkedBy))
	for _, u := range p.checkedBy {
		out = append(out, u)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	p.checked.Store(&out)
}

// changedNames lists the hostnames of the entities a change touched: the
// hosts of changed services (unless they name an upstream) and the target
// hostnames of changed upstreams. Only these can be new to the resolver.
func changedNames(snap *store.Snapshot, ch translator.Changes) ([]string, error) {
	var out []string
	for _, id := range ch.Services {
		s, err := snap.ServiceByID(id)
		if err != nil || s == nil || s.Host == "" {
			continue // deleted
		}
		if _, err := netip.ParseAddr(trimBrackets(s.Host)); err == nil {
			continue
		}
		if u, err := snap.UpstreamByName(s.Host); err == nil && u != nil {
			continue
		}
		out = append(out, s.Host)
	}
	ups := append(slices.Clone(ch.EndpointUpstreams), ch.Upstreams...)
	names, err := targetNames(snap, ups)
	if err != nil {
		return nil, err
	}
	out = append(out, names...)
	slices.Sort(out)
	return slices.Compact(out), nil
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

// movedNames lists the names whose answer differs between before and
// after: among only when only is non-nil, else over both maps.
func movedNames(before, after map[string]translator.DNSAnswer, only []string) []string {
	var out []string
	differs := func(n string) bool {
		a, ok := after[n]
		b, was := before[n]
		return ok != was || !reflect.DeepEqual(a, b)
	}
	if only != nil {
		for _, n := range only {
			if differs(n) {
				out = append(out, n)
			}
		}
		return out
	}
	for n := range after {
		if differs(n) {
			out = append(out, n)
		}
	}
	for n := range before {
		if _, ok := after[n]; !ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
