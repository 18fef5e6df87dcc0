package xds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
	"github.com/switchboard-gw/switchboard/xds/adscache"
)

// Publish modes, also the "mode" label of the metrics.
const (
	modeFull      = "full"
	modeEndpoints = "endpoints"
	modeNoop      = "noop"
)

// publisher turns store snapshots into cache contents. Only the publish
// loop goroutine calls it, so its fields need no lock.
type publisher struct {
	settle func() // store.SettleWatches; nil in tests without a Store
	cache  *adscache.Cache
	tr     Translator
	res    Resolver
	log    *slog.Logger
	m      *metrics

	published bool
	revision  uint64
	tables    map[string]uint64   // store table indexes at the last publish
	changes   *endpointChanges    // which upstreams a commit touched
	clusters  map[string][]string // upstream name → its clusters' CLA names
	dnsDirty  bool                // resolver answers moved since the last full publish

	// held is, per type URL, resource name → the bytes the cache holds
	// (the same slices): a publish marshals into scratch buffers and hands
	// the cache only what differs. No proto tree outlives a publish.
	held    map[string]map[string][]byte
	scratch [][]byte // one reusable marshal buffer per type
	// edsUpserted is the EDS version after the last CLA upsert or touch:
	// what an Envoy must have ACKed to hold every CLA (acked_revision.go).
	edsUpserted string

	// checked lists, sorted, the upstreams whose clusters carry active or
	// passive health checks (read by the health poller from another
	// goroutine); checkedBy is the same by cluster name.
	checked   atomic.Pointer[[]string]
	checkedBy map[string]string

	// inc is the translator's incremental API when it has one (the
	// default translator): publishes then take the O(change) path
	// (incremental.go). incStale: the translation may be ahead of the
	// cache (a failed publish), so the next publish diffs everything.
	// lastDNS are the answers of the last translation.
	inc      incTranslator
	incStale bool
	lastDNS  map[string]translator.DNSAnswer
	// routeBytes are, per route configuration, its wire form as ropes of
	// marshalled parts (marshalRoutes).
	routeBytes map[string]*routeChunks
	// rcVersion is the version of every route configuration in the cache
	// (marshalRoutes's), compared instead of its bytes.
	rcVersion map[string]string

	// refs are the secret names each held listener and cluster refers
	// to (secretrefs.go), so that a delta never withdraws a secret in use.
	refs secretRefs

	// quarantine holds the entities left out after a NACK (quarantine.go).
	quarantine *quarantine
}

func newPublisher(c *adscache.Cache, tr Translator, res Resolver, log *slog.Logger, m *metrics) *publisher {
	p := &publisher{
		cache: c, tr: tr, res: res, log: log, m: m,
		tables:  map[string]uint64{},
		held:    map[string]map[string][]byte{},
		scratch: make([][]byte, len(publishTypes)),

		refs:       secretRefs{},
		quarantine: newQuarantine(),
	}
	p.inc, _ = tr.(incTranslator)
	return p
}

// publish brings the caches to snap. It picks the cheapest correct path:
// a full translation when anything but targets changed (or DNS answers
// moved, or nothing was published yet), the endpoints-only path when only
// targets or target health did, and nothing at all otherwise. On error the
// caches keep the last good configuration.
func (p *publisher) publish(ctx context.Context, snap *store.Snapshot) (string, error) {
	if p.inc != nil {
		mode, err := p.incremental(ctx, snap)
		if err != nil {
			return mode, err
		}
		p.published, p.revision = true, snap.Revision()
		p.m.publishes.WithLabelValues(mode).Inc()
		p.m.revision.Set(float64(p.revision))
		return mode, nil
	}
	tables := tableIndexes(snap)
	structural, endpoints := changedTables(p.tables, tables)
	mode := modeNoop
	var err error
	switch {
	case !p.published || p.dnsDirty || structural:
		mode, err = modeFull, p.full(ctx, snap)
	case endpoints:
		mode, err = modeEndpoints, p.endpoints(ctx, snap)
		if errors.Is(err, ErrFullRebuild) {
			mode, err = modeFull, p.full(ctx, snap)
		}
	}
	if err != nil {
		return mode, err
	}
	p.published, p.revision, p.tables = true, snap.Revision(), tables
	p.m.publishes.WithLabelValues(mode).Inc()
	p.m.revision.Set(float64(p.revision))
	return mode, nil
}

// resolve makes sure names are tracked and returns the current answers.
func (p *publisher) resolve(ctx context.Context, names []string, retain bool) map[string]translator.DNSAnswer {
	if p.res == nil {
		return map[string]translator.DNSAnswer{}
	}
	p.res.Ensure(ctx, names)
	if retain {
		p.res.Retain(names)
	}
	return p.res.Answers()
}

// full translates the whole snapshot, validates it and hands the cache the
// resources whose bytes changed, in Envoy's order: new endpoints, clusters
// (then the endpoints of changed clusters again), listeners, routes, and
// only then removed clusters and endpoints.
func (p *publisher) full(ctx context.Context, snap *store.Snapshot) error {
	names, err := dnsNames(snap)
	if err != nil {
		return err
	}
	p.dnsDirty = false
	dns := p.resolve(ctx, names, true)

	start := time.Now()
	res, terr := p.tr.Translate(snap, dns)
	p.m.translation.WithLabelValues(modeFull).Observe(time.Since(start).Seconds())
	if terr != nil {
		p.m.errors.WithLabelValues("translate").Inc()
		p.log.Warn("xds: translation problems (published best effort)", "revision", snap.Revision(), "error", terr)
	}
	if res == nil {
		return fmt.Errorf("translate revision %d: no resources: %w", snap.Revision(), terr)
	}
	return p.apply(snap, res)
}

// apply validates a whole translation and hands the cache what differs
// from what it holds.
func (p *publisher) apply(snap *store.Snapshot, res *translator.Resources) error {
	// Marshal and compare first: only what changed needs validating.
	diffs, err := p.diff(byType(res))
	if err != nil {
		return err
	}
	held := func(t, name string) bool { return !diffs[t].changed[name] }
	routes := res.Routes
	res, verr := sanitize(res, held, p.previousListener, p.previousRoute)
	if verr != nil {
		p.forgetRoutes(routes, res.Routes)
		p.m.errors.WithLabelValues("validate").Inc()
		p.log.Error("xds: invalid resources repaired or left out", "revision", snap.Revision(), "error", verr)
		// Repairs replaced or dropped resources: compare again.
		if diffs, err = p.diff(byType(res)); err != nil {
			return err
		}
	}
	if err := consistent(res); err != nil {
		p.m.errors.WithLabelValues("consistency").Inc()
		return fmt.Errorf("revision %d: %w", snap.Revision(), err)
	}
	changes, err := watchEndpoints(snap)
	if err != nil {
		return err
	}
	rev := snap.Revision()
	first := !p.published
	update := func(t string, up []adscache.Resource, del, touch []string) []string {
		if len(up) == 0 && len(del) == 0 && len(touch) == 0 && !first {
			return nil
		}
		changed := p.cache.Update(t, rev, up, del, touch)
		p.noteRouteVersions(t, up, del)
		if t == resourcev3.EndpointType && (len(up) > 0 || len(touch) > 0 || first) {
			p.edsUpserted = p.cache.Version(t)
		}
		return changed
	}
	cds, eds, sds := diffs[resourcev3.ClusterType], diffs[resourcev3.EndpointType], diffs[resourcev3.SecretType]
	// Secrets first: a listener or cluster naming a secret Envoy cannot
	// fetch warms until its initial_fetch_timeout, then fails handshakes.
	update(resourcev3.SecretType, sds.upserts, nil, nil)
	update(resourcev3.EndpointType, eds.upserts, nil, nil)
	update(resourcev3.ClusterType, cds.upserts, nil, nil)
	// Envoy re-creates a cluster whose definition changed and keeps it
	// warming until its endpoints arrive, but a stream is never re-sent
	// endpoints it holds. Touch those CLAs right after the clusters, so that
	// the ADS stream carries them behind the CDS update instead of Envoy
	// waiting for its EDS initial_fetch_timeout.
	update(resourcev3.EndpointType, nil, nil, changedClusterEndpoints(res.Clusters, cds.replaced, eds.upserts))
	for _, t := range []string{resourcev3.ListenerType, resourcev3.RouteType} {
		update(t, diffs[t].upserts, diffs[t].deletes, nil)
	}
	update(resourcev3.ClusterType, nil, cds.deletes, nil)
	update(resourcev3.EndpointType, nil, eds.deletes, nil)
	update(resourcev3.SecretType, nil, sds.deletes, nil)
	for t, d := range diffs {
		p.held[t] = d.held
	}
	p.refs = secretRefsOf(res)

	p.changes = changes
	p.clusters = map[string][]string{}
	for _, cla := range res.Endpoints {
		if u := res.ClusterUpstream[cla.GetClusterName()]; u != "" {
			p.clusters[u] = append(p.clusters[u], cla.GetClusterName())
		}
	}
	checked := checkedUpstreams(res.Clusters, res.ClusterUpstream)
	p.checked.Store(&checked)
	p.checkedBy = map[string]string{}
	for _, c := range res.Clusters {
		if len(c.GetHealthChecks()) > 0 || c.GetOutlierDetection() != nil {
			if u := res.ClusterUpstream[c.GetName()]; u != "" {
				p.checkedBy[c.GetName()] = u
			}
		}
	}
	return nil
}

// publishTypes are the types a full publish diffs, in a fixed order (each
// has its scratch buffer).
var publishTypes = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.SecretType}

// byType groups a translation's resources by type URL.
func byType(res *translator.Resources) map[string][]types.Resource {
	return map[string][]types.Resource{
		resourcev3.ClusterType:  asResources(res.Clusters),
		resourcev3.EndpointType: asResources(res.Endpoints),
		resourcev3.ListenerType: asResources(res.Listeners),
		resourcev3.RouteType:    asResources(res.Routes),
		resourcev3.SecretType:   asResources(res.Secrets),
	}
}

// typeDiff is one type's difference between a translation and the cache.
type typeDiff struct {
	upserts  []adscache.Resource
	changed  map[string]bool // names of upserts
	replaced map[string]bool // upserted names that existed before
	deletes  []string
	held     map[string][]byte // every name of the translation → bytes
}

// diff marshals every resource (deterministic wire form, one goroutine per
// type: marshalling is most of a full publish's own cost) and compares it
// with what the cache holds; only resources whose bytes differ are copied.
func (p *publisher) diff(byType map[string][]types.Resource) (map[string]typeDiff, error) {
	out := make(map[string]typeDiff, len(byType))
	errs := make([]error, len(publishTypes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, t := range publishTypes {
		old := p.held[t]
		wg.Go(func() {
			d := typeDiff{replaced: map[string]bool{}, changed: map[string]bool{}, held: make(map[string][]byte, len(byType[t]))}
			buf := p.scratch[i]
			for _, r := range byType[t] {
				name := cachev3.GetResourceName(r)
				if rc, ok := r.(*routev3.RouteConfiguration); ok && t == resourcev3.RouteType {
					// Only this goroutine touches routeBytes and
					// rcVersion. Validated by sanitize afterwards.
					w, err := p.marshalRoutes(rc, false)
					if err != nil {
						errs[i] = fmt.Errorf("marshal %s %q: %w", typeName(t), name, err)
						return
					}
					_, ok := old[name]
					d.held[name] = nil
					if ok && p.rcVersion[name] == w.version {
						continue
					}
					d.upserts = append(d.upserts, adscache.Resource{Name: name, Pieces: w.pieces, Version: w.version})
					d.changed[name] = true
					if ok {
						d.replaced[name] = true
					}
					continue
				}
				b, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(buf[:0], r)
				if err != nil {
					errs[i] = fmt.Errorf("marshal %s %q: %w", typeName(t), name, err)
					return
				}
				buf = b
				prev, ok := old[name]
				if ok && bytes.Equal(prev, b) {
					d.held[name] = prev
					continue
				}
				c := bytes.Clone(b)
				d.held[name] = c
				d.upserts = append(d.upserts, adscache.Resource{Name: name, Bytes: c})
				d.changed[name] = true
				if ok {
					d.replaced[name] = true
				}
			}
			for name := range old {
				if _, ok := d.held[name]; !ok {
					d.deletes = append(d.deletes, name)
				}
			}
			slices.Sort(d.deletes)
			p.scratch[i] = buf
			mu.Lock()
			out[t] = d
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// previousListener and previousRoute decode what the cache holds under a
// name: sanitize keeps the last good version of an invalid resource.
func (p *publisher) previousListener(name string) *listenerv3.Listener {
	l := &listenerv3.Listener{}
	if b, ok := p.held[resourcev3.ListenerType][name]; ok && proto.Unmarshal(b, l) == nil {
		return l
	}
	return nil
}

func (p *publisher) previousRoute(name string) *routev3.RouteConfiguration {
	r := &routev3.RouteConfiguration{}
	// held keeps no route bytes: the cache has them, as pieces.
	if b, _, ok := p.cache.Get(resourcev3.RouteType, name); ok && proto.Unmarshal(b, r) == nil {
		return r
	}
	return nil
}

// endpoints rebuilds the CLAs of the upstreams whose targets or health
// overrides changed, and updates only those whose content moved.
func (p *publisher) endpoints(ctx context.Context, snap *store.Snapshot) error {
	if p.settle != nil {
		// Every commit up to snap has now closed its watch channels.
		p.settle()
	}
	ids, err := p.changes.changed(snap)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return p.changes.commit(snap, nil)
	}
	var clusters []string
	for _, id := range ids {
		clusters = append(clusters, p.clusters[p.changes.names[id]]...)
	}
	if len(clusters) == 0 {
		// Upstreams no cluster balances over: nothing Envoy sees moved.
		return p.changes.commit(snap, ids)
	}
	names, err := targetNames(snap, ids)
	if err != nil {
		return err
	}
	dns := p.resolve(ctx, names, false)

	start := time.Now()
	clas, terr := p.tr.Endpoints(snap, dns, clusters)
	p.m.translation.WithLabelValues(modeEndpoints).Observe(time.Since(start).Seconds())
	if errors.Is(terr, ErrFullRebuild) {
		return terr
	}
	if terr != nil {
		p.m.errors.WithLabelValues("translate").Inc()
		p.log.Warn("xds: endpoint translation problems (published best effort)", "revision", snap.Revision(), "error", terr)
	}
	clas, verr := validateEndpoints(clas)
	if verr != nil {
		p.m.errors.WithLabelValues("validate").Inc()
		p.log.Error("xds: invalid endpoints replaced by empty ones", "revision", snap.Revision(), "error", verr)
	}
	known := p.held[resourcev3.EndpointType]
	var upd []adscache.Resource
	for _, cla := range clas {
		name := cla.GetClusterName()
		old, ok := known[name]
		if !ok {
			// Not a cluster of the last full translation: only a full
			// translation may add one.
			return fmt.Errorf("%w: endpoints for unknown cluster %q", ErrFullRebuild, name)
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(cla)
		if err != nil {
			return fmt.Errorf("marshal endpoints %q: %w", name, err)
		}
		if !bytes.Equal(old, b) {
			upd = append(upd, adscache.Resource{Name: name, Bytes: b})
			known[name] = b
		}
	}
	if len(upd) > 0 {
		p.cache.Update(resourcev3.EndpointType, snap.Revision(), upd, nil, nil)
		p.edsUpserted = p.cache.Version(resourcev3.EndpointType)
	}
	return p.changes.commit(snap, ids)
}

// changedClusterEndpoints names the CLAs of clusters that existed before
// and whose definition changed, leaving out those being updated anyway.
func changedClusterEndpoints(clusters []*clusterv3.Cluster, replaced map[string]bool, updating []adscache.Resource) []string {
	busy := make(map[string]bool, len(updating))
	for _, r := range updating {
		busy[r.Name] = true
	}
	var out []string
	for _, c := range clusters {
		if replaced[c.GetName()] && c.GetType() == clusterv3.Cluster_EDS && !busy[edsName(c)] {
			out = append(out, edsName(c))
		}
	}
	slices.Sort(out)
	return out
}

// checkedUpstreams lists, sorted and unique, the upstreams of the clusters
// that have active health checks or outlier detection: the only ones whose
// host health Envoy decides on its own.
func checkedUpstreams(clusters []*clusterv3.Cluster, upstreamOf map[string]string) []string {
	var out []string
	for _, c := range clusters {
		if len(c.GetHealthChecks()) == 0 && c.GetOutlierDetection() == nil {
			continue
		}
		if u := upstreamOf[c.GetName()]; u != "" {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
