package xds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// Publish modes, also the "mode" label of the metrics.
const (
	modeFull      = "full"
	modeEndpoints = "endpoints"
	modeNoop      = "noop"
)

// snapshotTypes are the types the snapshot cache holds, with one version
// each; EDS is in the LinearCache.
var snapshotTypes = []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.RouteType}

// publisher turns store snapshots into cache contents. Only the publish
// loop goroutine calls it, so its fields need no lock.
type publisher struct {
	settle func() // store.SettleWatches; nil in tests without a Store
	caches *caches
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

	// hashes holds, per type URL, resource name → content hash of what the
	// caches hold; versions the per-type versions of the snapshot types.
	hashes    map[string]map[string]string
	versions  map[string]string
	listeners map[string]*listenerv3.Listener
	// edsCount mirrors the LinearCache's version counter (one step per
	// UpdateResources, see updateEDS); edsUpserted is its value after the
	// last CLA upsert, what an Envoy must have ACKed to hold every CLA.
	edsCount, edsUpserted uint64
	routes                map[string]*routev3.RouteConfiguration

	buf []byte // reused marshal buffer

	// checked lists, sorted, the upstreams whose clusters carry active or
	// passive health checks in the last full publish (read by the health
	// poller from another goroutine).
	checked atomic.Pointer[[]string]
}

func newPublisher(c *caches, tr Translator, res Resolver, log *slog.Logger, m *metrics) *publisher {
	return &publisher{
		caches: c, tr: tr, res: res, log: log, m: m,
		tables:   map[string]uint64{},
		hashes:   map[string]map[string]string{},
		versions: map[string]string{},
	}
}

// publish brings the caches to snap. It picks the cheapest correct path:
// a full translation when anything but targets changed (or DNS answers
// moved, or nothing was published yet), the endpoints-only path when only
// targets or target health did, and nothing at all otherwise. On error the
// caches keep the last good configuration.
func (p *publisher) publish(ctx context.Context, snap *store.Snapshot) (string, error) {
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

// full translates the whole snapshot, validates it and publishes what
// changed: CLAs whose hash moved go to the LinearCache, and the snapshot
// cache gets a new snapshot only if a CDS/LDS/RDS version moved.
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
	res, verr := sanitize(res, p.listeners, p.routes)
	if verr != nil {
		p.m.errors.WithLabelValues("validate").Inc()
		p.log.Error("xds: invalid resources repaired or left out", "revision", snap.Revision(), "error", verr)
	}
	if err := consistent(res); err != nil {
		p.m.errors.WithLabelValues("consistency").Inc()
		return fmt.Errorf("revision %d: %w", snap.Revision(), err)
	}
	changes, err := watchEndpoints(snap)
	if err != nil {
		return err
	}

	hashes := hashTypes(map[string][]types.Resource{
		resourcev3.ClusterType:  asResources(res.Clusters),
		resourcev3.EndpointType: asResources(res.Endpoints),
		resourcev3.ListenerType: asResources(res.Listeners),
		resourcev3.RouteType:    asResources(res.Routes),
	})
	versions := map[string]string{}
	snapshotMoved := !p.published
	for _, t := range snapshotTypes {
		versions[t] = typeVersion(hashes[t])
		snapshotMoved = snapshotMoved || versions[t] != p.versions[t]
	}

	// New and changed CLAs first, so that a cluster arriving over CDS finds
	// its endpoints waiting; removed ones last, once no cluster names them.
	oldEDS := p.hashes[resourcev3.EndpointType]
	upd := map[string]types.Resource{}
	for _, cla := range res.Endpoints {
		if oldEDS[cla.GetClusterName()] != hashes[resourcev3.EndpointType][cla.GetClusterName()] {
			upd[cla.GetClusterName()] = cla
		}
	}
	var del []string
	for name := range oldEDS {
		if _, ok := hashes[resourcev3.EndpointType][name]; !ok {
			del = append(del, name)
		}
	}
	if len(upd) > 0 {
		if err := p.updateEDS(upd, nil); err != nil {
			return fmt.Errorf("eds update: %w", err)
		}
	}
	if snapshotMoved {
		s := &cachev3.Snapshot{VersionMap: map[string]map[string]string{}}
		s.Resources[types.Cluster] = cachev3.NewResources(versions[resourcev3.ClusterType], asResources(res.Clusters))
		s.Resources[types.Listener] = cachev3.NewResources(versions[resourcev3.ListenerType], asResources(res.Listeners))
		s.Resources[types.Route] = cachev3.NewResources(versions[resourcev3.RouteType], asResources(res.Routes))
		for _, t := range snapshotTypes {
			// Our hashes double as the delta per-resource versions, so
			// the cache need not marshal everything a second time.
			s.VersionMap[t] = hashes[t]
		}
		if err := p.caches.snapshot.SetSnapshot(ctx, p.caches.group, s); err != nil {
			return fmt.Errorf("set snapshot: %w", err)
		}
		// Envoy re-creates a cluster whose definition changed and keeps
		// the new one warming until its endpoints arrive, but the
		// LinearCache never re-sends endpoints a client already holds.
		// Touch those CLAs after the clusters, so the (ordered) ADS stream
		// carries them right behind the CDS update instead of Envoy waiting
		// for its EDS initial_fetch_timeout.
		if touch := changedClusterEndpoints(p.hashes[resourcev3.ClusterType], hashes[resourcev3.ClusterType], res.Endpoints, upd); len(touch) > 0 {
			if err := p.updateEDS(touch, nil); err != nil {
				return fmt.Errorf("eds refresh: %w", err)
			}
		}
	}
	if len(del) > 0 {
		slices.Sort(del)
		if err := p.updateEDS(nil, del); err != nil {
			return fmt.Errorf("eds delete: %w", err)
		}
	}

	p.hashes, p.versions, p.changes = hashes, versions, changes
	checked := checkedUpstreams(res.Clusters)
	p.checked.Store(&checked)
	p.clusters = map[string][]string{}
	for _, cla := range res.Endpoints {
		if u := res.ClusterUpstream[cla.GetClusterName()]; u != "" {
			p.clusters[u] = append(p.clusters[u], cla.GetClusterName())
		}
	}
	p.listeners = make(map[string]*listenerv3.Listener, len(res.Listeners))
	for _, l := range res.Listeners {
		p.listeners[l.GetName()] = l
	}
	p.routes = make(map[string]*routev3.RouteConfiguration, len(res.Routes))
	for _, r := range res.Routes {
		p.routes[r.GetName()] = r
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
	known := p.hashes[resourcev3.EndpointType]
	upd := map[string]types.Resource{}
	for _, cla := range clas {
		name := cla.GetClusterName()
		old, ok := known[name]
		if !ok {
			// Not a cluster of the last full translation: only a full
			// translation may add one.
			return fmt.Errorf("%w: endpoints for unknown cluster %q", ErrFullRebuild, name)
		}
		if h := p.hash(cla); h != old {
			upd[name] = cla
			known[name] = h
		}
	}
	if len(upd) > 0 {
		if err := p.updateEDS(upd, nil); err != nil {
			return fmt.Errorf("eds update: %w", err)
		}
	}
	return p.changes.commit(snap, ids)
}

// hash is a short content hash over the deterministic wire form (map
// fields sorted), so equal protos always hash alike.
func (p *publisher) hash(m proto.Message) string { return contentHash(&p.buf, m) }

func contentHash(buf *[]byte, m proto.Message) string {
	b, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend((*buf)[:0], m)
	if err != nil {
		// Marshalling a validated Envoy proto cannot fail; if it does,
		// a unique value forces a push rather than hiding a change.
		return "unmarshalable-" + time.Now().String()
	}
	*buf = b
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// hashTypes hashes every resource, one goroutine per type: marshalling is
// most of a full publish's own cost (the rest is the translator's).
func hashTypes(byType map[string][]types.Resource) map[string]map[string]string {
	out := make(map[string]map[string]string, len(byType))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for typeURL, rs := range byType {
		wg.Go(func() {
			var buf []byte
			m := make(map[string]string, len(rs))
			for _, r := range rs {
				m[cachev3.GetResourceName(r)] = contentHash(&buf, r)
			}
			mu.Lock()
			out[typeURL] = m
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// typeVersion derives a type's version from its resources' hashes: equal
// content, equal version, whatever the store revision.
func typeVersion(hashes map[string]string) string {
	names := make([]string, 0, len(hashes))
	for n := range hashes {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(hashes[n]))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// changedClusterEndpoints returns the CLAs of clusters that existed before
// and whose definition changed, leaving out those already being updated.
func changedClusterEndpoints(oldCDS, newCDS map[string]string, clas []*endpointv3.ClusterLoadAssignment, updating map[string]types.Resource) map[string]types.Resource {
	touch := map[string]types.Resource{}
	for _, cla := range clas {
		name := cla.GetClusterName()
		if _, busy := updating[name]; busy {
			continue
		}
		if old, ok := oldCDS[name]; ok && old != newCDS[name] {
			touch[name] = cla
		}
	}
	return touch
}

// checkedUpstreams lists, sorted and unique, the upstreams of the clusters
// that have active health checks or outlier detection: the only ones whose
// host health Envoy decides on its own.
func checkedUpstreams(clusters []*clusterv3.Cluster) []string {
	var out []string
	for _, c := range clusters {
		if len(c.GetHealthChecks()) == 0 && c.GetOutlierDetection() == nil {
			continue
		}
		if ref, ok := translator.ParseClusterName(c.GetName()); ok && ref.Upstream != "" {
			out = append(out, ref.Upstream)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
