package translator

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-gw/switchboard/store"
)

// Reader is what an Incremental reads from a store snapshot: the rows a
// revision changed, by id, and every row on a reset. *store.Snapshot
// implements it.
type Reader interface {
	ServiceByID(id string) (*store.Service, error)
	RouteByID(id string) (*store.Route, error)
	UpstreamByID(id string) (*store.Upstream, error)
	TargetsByUpstream(upstreamID string) ([]*store.Target, error)
	TargetHealthByUpstream(upstreamID string) ([]*store.TargetHealth, error)

	Services() ([]*store.Service, error)
	Routes() ([]*store.Route, error)
	Upstreams() ([]*store.Upstream, error)
	Targets() ([]*store.Target, error)
	TargetHealth() ([]*store.TargetHealth, error)
}

// Changes says which entities a revision (or several) touched: created,
// updated or deleted, by id. ChangesBetween computes it from two
// snapshots; the store's change feed can give it directly.
type Changes struct {
	Services  []string
	Routes    []string
	Upstreams []string
	// EndpointUpstreams are upstreams whose targets or manual health
	// overrides changed; only their ClusterLoadAssignments move.
	EndpointUpstreams []string
	// DNS lists hostnames whose answers moved; every CLA is rebuilt.
	DNS []string
	// Certificates, SNIs and CACertificates are the TLS entities written:
	// a certificate moves only its own secrets.
	Certificates   []string
	SNIs           []string
	CACertificates []string
	// DefaultCertificate: the cluster's default pair was written.
	DefaultCertificate bool
	// All asks for a reset: everything is read and translated again (the
	// first Update always is one).
	All bool
	// Exclude, when not nil, is the new quarantine set (Input.Exclude):
	// the entities whose membership changed are translated again. nil
	// keeps the current set; an empty map clears it.
	Exclude map[string]string
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return !c.All && c.Exclude == nil && len(c.Services)+len(c.Routes)+len(c.Upstreams)+len(c.EndpointUpstreams)+len(c.DNS)+
		len(c.Certificates)+len(c.SNIs)+len(c.CACertificates) == 0 && !c.DefaultCertificate
}

// Delta is what one Update changed in the Envoy configuration: resources
// whose content changed (or are new), by type, and names that are gone.
// A resource not listed keeps its previous proto, pointer included.
type Delta struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret
	// RemovedClusters and RemovedEndpoints name resources to withdraw
	// (a cluster and its CLA go together); RemovedSecrets are withdrawn
	// after the listeners and clusters that stopped naming them.
	RemovedClusters  []string
	RemovedEndpoints []string
	RemovedSecrets   []string
	// RemovedListeners and RemovedRoutes: a listener that can no longer be
	// built goes with its route configuration.
	RemovedListeners []string
	RemovedRoutes    []string
}

// Empty reports whether the configuration did not move.
func (d *Delta) Empty() bool {
	return len(d.Listeners)+len(d.Routes)+len(d.Clusters)+len(d.Endpoints)+len(d.Secrets)+
		len(d.RemovedClusters)+len(d.RemovedEndpoints)+len(d.RemovedSecrets)+len(d.RemovedListeners)+len(d.RemovedRoutes) == 0
}

// Incremental keeps a translation and updates it from what changed, with
// dependency indexes: a route change re-translates that route; a service
// change its routes and cluster; an upstream change its clusters and the
// routes of the services that name it; a target or health change that
// upstream's ClusterLoadAssignments only. Resources() always equals
// Translate of the same snapshot, resource by resource (the property test
// TestIncremental_MatchesTranslate checks random mutation sequences).
//
// An Incremental is not safe for concurrent use; the xds loop owns one.
type Incremental struct {
	opts    Options
	t       *translator
	init    bool
	exclude map[string]string

	upstreamsByID   map[string]*store.Upstream
	routes          map[string]*store.Route
	routesByService map[string]map[string]bool // service id → route ids
	servicesByHost  map[string]map[string]bool // service host → service ids

	out          map[string]*routeState     // by route id
	planRefs     map[string]int             // cluster name → routes resolved to it (per listener)
	upstreamPlns map[string]map[string]bool // upstream id → its plans' names

	// ls are the proxy listeners (plain first), each with its route table
	// and what it last emitted; tls is what the TLS listener is built from.
	ls  []*listenerState
	tls tlsState
	// nonNeutral counts the routes that translate differently per
	// listener; while there is none the TLS listener shares the plain
	// table (listeners.go, Sharing). shared is what the listeners were
	// last built with.
	nonNeutral int
	shared     bool
	// cacheLoop: a proxy-cache instance is enabled, so the TLS cache
	// loop's table follows the TLS one; loopRC is its last emission (nil
	// without a TLS listener spec).
	cacheLoop bool
	loopRC    *routev3.RouteConfiguration

	// What was last emitted, by name.
	clusters map[string]*clusterv3.Cluster
	clas     map[string]*endpointv3.ClusterLoadAssignment
	claErrs  map[string]error
	// secrets by owner (secretSet), and the owners whose secrets could
	// not be built.
	secrets    secretSet
	secretErrs map[string]error
}

// routeState is one route's translation, per listener (x.ls order).
type routeState struct {
	per  []routeOut
	errs []error
}

// routeOut is one route's translation on one listener.
type routeOut struct {
	tr   *translatedRoute // nil: left out
	plan *clusterPlan     // the plan routeTarget resolved, nil for none
}

// listenerState is one proxy listener's part of the translation.
type listenerState struct {
	spec     listenerSpec
	table    *routeTable
	rc       *routev3.RouteConfiguration // the table's last rendering
	listener *listenerv3.Listener        // last emitted; nil: none (no RC either)
	err      error
}

func newListenerStates(opts Options) []*listenerState {
	var out []*listenerState
	for _, spec := range opts.withDefaults().listenerSpecs() {
		out = append(out, &listenerState{spec: spec, table: newRouteTable(spec.routeConfig, nil)})
	}
	return out
}

// NewIncremental starts an empty translation for opts; the first Update
// reads everything.
func NewIncremental(opts Options) *Incremental {
	return &Incremental{opts: opts}
}

// Update brings the translation to r (a snapshot at a later revision) given
// what changed since the previous Update, and returns what moved. dns are
// the current answers; Changes.DNS must name the hostnames whose answers
// differ from the previous call's. The error joins the problems of the
// entities translated in this call (best effort, as Translate); Err has
// all current ones.
//
// What an Update returns, and Resources after it, stays valid until the
// Update after next: the lists of large route configurations are reused
// then (handout), so read a result before asking for the next but one.
func (x *Incremental) Update(r Reader, dns map[string]DNSAnswer, ch Changes) (*Delta, error) {
	var moved []string
	if ch.Exclude != nil {
		moved = exclusionMoves(x.exclude, ch.Exclude)
		x.exclude = ch.Exclude
	}
	if !x.init || ch.All {
		return x.reset(r, dns)
	}
	x.t.in = &Input{DNS: dns, Options: x.opts, Exclude: x.exclude}
	w := x.newWork()
	if err := x.markExcluded(r, moved, w); err != nil {
		return nil, err
	}

	// Services first, then upstreams: both decide which cluster a route
	// resolves to.
	for _, id := range ch.Services {
		s, err := r.ServiceByID(id)
		if err != nil {
			return nil, fmt.Errorf("translator: service %s: %w", id, err)
		}
		x.setService(id, s, w)
	}
	var newUpstreams []*store.Upstream
	for _, id := range ch.Upstreams {
		u, err := r.UpstreamByID(id)
		if err != nil {
			return nil, fmt.Errorf("translator: upstream %s: %w", id, err)
		}
		x.dropUpstream(id, w)
		if u != nil {
			newUpstreams = append(newUpstreams, u)
		}
	}
	for _, u := range newUpstreams {
		if err := x.addUpstream(r, u, w); err != nil {
			return nil, err
		}
	}
	for _, id := range ch.EndpointUpstreams {
		if err := x.loadEndpoints(r, id); err != nil {
			return nil, err
		}
		w.claUpstreams[id] = true
	}
	for _, id := range ch.Routes {
		rt, err := r.RouteByID(id)
		if err != nil {
			return nil, fmt.Errorf("translator: route %s: %w", id, err)
		}
		x.setRoute(id, rt)
		w.routes[id] = true
	}
	w.allCLAs = len(ch.DNS) > 0
	caServices, err := x.markTLS(r, ch, w)
	if err != nil {
		return nil, err
	}
	d := &Delta{}
	err = x.finish(w, d)
	if serr := x.updateTLS(r, ch, d); serr != nil {
		return nil, serr
	}
	x.updateCASecrets(caServices, d)
	return d, err
}

// work collects what one Update must redo.
type work struct {
	routes       map[string]bool // route ids to re-translate
	upstreams    map[string]bool // upstream ids whose plans to settle
	claUpstreams map[string]bool // upstream ids whose CLAs to rebuild
	plans        map[string]bool // plan names whose cluster and CLA to (re)emit or withdraw
	allCLAs      bool
	errs         []error
}

func (x *Incremental) newWork() *work {
	return &work{
		routes: map[string]bool{}, upstreams: map[string]bool{}, claUpstreams: map[string]bool{}, plans: map[string]bool{},
	}
}

// reset translates r from scratch with the same machinery as Update.
func (x *Incremental) reset(r Reader, dns map[string]DNSAnswer) (*Delta, error) {
	in, err := readAll(r, dns, x.opts)
	if err != nil {
		return nil, err
	}
	in.Exclude = x.exclude
	prevClusters, prevCLAs, prevLs, prevSecrets := x.clusters, x.clas, x.ls, x.secrets
	*x = Incremental{
		opts: x.opts, t: newTranslator(in), init: true, exclude: x.exclude,
		upstreamsByID: map[string]*store.Upstream{}, routes: map[string]*store.Route{},
		routesByService: map[string]map[string]bool{}, servicesByHost: map[string]map[string]bool{},
		out: map[string]*routeState{}, planRefs: map[string]int{}, upstreamPlns: map[string]map[string]bool{},
		ls:       newListenerStates(x.opts),
		clusters: map[string]*clusterv3.Cluster{}, clas: map[string]*endpointv3.ClusterLoadAssignment{},
		claErrs: map[string]error{}, secrets: secretSet{}, secretErrs: map[string]error{},
	}
	x.t.in = &Input{DNS: dns, Options: x.opts, Exclude: x.exclude}
	w := x.newWork()
	for _, s := range in.Services {
		addTo(x.servicesByHost, s.Host, s.ID)
	}
	for _, u := range in.Upstreams {
		x.upstreamsByID[u.ID] = u
		w.upstreams[u.ID] = true
	}
	for _, rt := range in.Routes {
		x.setRoute(rt.ID, rt)
		w.routes[rt.ID] = true
	}
	// Carry the previous protos over so that equal resources keep their
	// pointers and do not show in the delta, and withdraw what is gone.
	x.clusters, x.clas = orEmpty(prevClusters), orEmptyCLA(prevCLAs)
	for name := range x.clusters {
		w.plans[name] = true
	}
	for name := range x.clas {
		w.plans[name] = true
	}
	// The rate-limit service's cluster depends on the options alone: set
	// once here, never withdrawn by a plan (there is none for it).
	delete(w.plans, rateLimitServiceCluster)
	d := &Delta{}
	x.resetSecrets(in, prevSecrets, d, w)
	x.tls = newTLSState(in.Certificates, in.SNIs, x.secrets[defaultCertificateOwner])
	x.shared = x.nonNeutral == 0
	x.cacheLoop = cacheLoopInUse(in.Plugins)
	for i, l := range x.ls {
		var prev *listenerv3.Listener
		if i < len(prevLs) && prevLs[i].spec == l.spec {
			prev = prevLs[i].listener
		}
		l.listener = prev
		x.buildListener(l, d)
		if prev != nil && l.listener == nil {
			d.RemovedListeners = append(d.RemovedListeners, l.spec.name)
			d.RemovedRoutes = append(d.RemovedRoutes, l.spec.routeConfig)
		}
	}
	_ = x.finish(w, d) // its error is w.errs, joined below
	if c, cla, err := rateLimitServiceResources(x.opts); err != nil {
		w.errs = append(w.errs, err)
	} else if c != nil {
		if old, ok := x.clusters[c.Name]; !ok || !proto.Equal(old, c) {
			x.clusters[c.Name] = c
			d.Clusters = append(d.Clusters, c)
		}
		if old, ok := x.clas[c.Name]; !ok || !proto.Equal(old, cla) {
			x.clas[c.Name] = cla
			d.Endpoints = append(d.Endpoints, cla)
		}
	}
	for _, l := range x.ls {
		if l.listener != nil && !slices.Contains(d.Routes, l.rc) {
			d.Routes = append(d.Routes, l.rc)
		}
	}
	if len(x.ls) > 1 && x.loopRC == nil {
		x.emitCacheLoop(d) // finish did when the TLS table moved
	}
	return d, errors.Join(w.errs...)
}

// emitCacheLoop renders the TLS cache loop's table from the TLS listener's
// and adds it to d.
func (x *Incremental) emitCacheLoop(d *Delta) {
	x.loopRC = cacheLoopRoutes(x.ls[len(x.ls)-1].rc, x.cacheLoop)
	d.Routes = append(d.Routes, x.loopRC)
}

// reshare rebuilds the TLS listener when the routes written since the last
// build started or ended the sharing of the plain table.
func (x *Incremental) reshare(d *Delta) {
	if shared := x.nonNeutral == 0; shared != x.shared {
		x.shared = shared
		for _, l := range x.ls {
			if l.spec.tls && l.listener != nil {
				x.buildListener(l, d)
			}
		}
	}
}

// buildListener rebuilds l's listener and adds it to d when it changed.
// A listener that appears brings its route configuration; one that goes
// (the TLS listener without a default certificate) is the caller's to
// withdraw.
func (x *Incremental) buildListener(l *listenerState, d *Delta) {
	nl, err := buildProxyListener(l.spec, x.tls, x.shared)
	l.err = err
	switch {
	case nl == nil:
		l.listener = nil
	case l.listener != nil && proto.Equal(l.listener, nl):
	default:
		if l.listener == nil {
			if l.rc == nil {
				l.rc = l.table.build()
			}
			d.Routes = append(d.Routes, l.rc)
		}
		l.listener = nl
		d.Listeners = append(d.Listeners, nl)
	}
}

func orEmpty(m map[string]*clusterv3.Cluster) map[string]*clusterv3.Cluster {
	if m == nil {
		return map[string]*clusterv3.Cluster{}
	}
	return m
}

func orEmptyCLA(m map[string]*endpointv3.ClusterLoadAssignment) map[string]*endpointv3.ClusterLoadAssignment {
	if m == nil {
		return map[string]*endpointv3.ClusterLoadAssignment{}
	}
	return m
}

func readAll(r Reader, dns map[string]DNSAnswer, opts Options) (*Input, error) {
	in := &Input{DNS: dns, Options: opts}
	var err error
	if in.Services, err = r.Services(); err != nil {
		return nil, fmt.Errorf("translator: read services: %w", err)
	}
	if in.Routes, err = r.Routes(); err != nil {
		return nil, fmt.Errorf("translator: read routes: %w", err)
	}
	if in.Upstreams, err = r.Upstreams(); err != nil {
		return nil, fmt.Errorf("translator: read upstreams: %w", err)
	}
	if in.Targets, err = r.Targets(); err != nil {
		return nil, fmt.Errorf("translator: read targets: %w", err)
	}
	if in.TargetHealth, err = r.TargetHealth(); err != nil {
		return nil, fmt.Errorf("translator: read target health: %w", err)
	}
	if err := readPluginEntities(r, in); err != nil {
		return nil, err
	}
	if err := readTLSEntities(r, in); err != nil {
		return nil, err
	}
	return in, nil
}

func addTo(index map[string]map[string]bool, key, id string) {
	set := index[key]
	if set == nil {
		set = map[string]bool{}
		index[key] = set
	}
	set[id] = true
}

func removeFrom(index map[string]map[string]bool, key, id string) {
	if set := index[key]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(index, key)
		}
	}
}

// exclusionMoves lists the ids whose quarantine changed (added, removed
// or given another reason).
func exclusionMoves(before, after map[string]string) []string {
	var out []string
	for id, reason := range after {
		if old, ok := before[id]; !ok || old != reason {
			out = append(out, id)
		}
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// markExcluded marks what depends on entities whose quarantine moved, as
// if each had been written again.
func (x *Incremental) markExcluded(r Reader, ids []string, w *work) error {
	if len(ids) == 0 {
		return nil
	}
	targetOwner := map[string]string{}
	for uid, ts := range x.t.targets {
		for _, tg := range ts {
			targetOwner[tg.ID] = uid
		}
	}
	for _, id := range ids {
		if x.routes[id] != nil {
			w.routes[id] = true
		}
		if s := x.t.services[id]; s != nil {
			x.setService(id, s, w)
		}
		if u := x.upstreamsByID[id]; u != nil {
			x.dropUpstream(id, w)
			if err := x.addUpstream(r, u, w); err != nil {
				return err
			}
		}
		if uid, ok := targetOwner[id]; ok {
			w.claUpstreams[uid] = true
		}
	}
	return nil
}

// setService records s (nil: deleted) and marks its routes. Its own
// cluster (service/<id>) is rebuilt when a route resolves to it again.
func (x *Incremental) setService(id string, s *store.Service, w *work) {
	if old := x.t.services[id]; old != nil {
		removeFrom(x.servicesByHost, old.Host, id)
	}
	if s != nil {
		x.t.services[id] = s
		addTo(x.servicesByHost, s.Host, id)
	} else {
		delete(x.t.services, id)
	}
	for _, name := range []string{serviceClusterPrefix + id, serviceClusterPrefix + id + "/" + preserveHostPart} {
		if plan := x.t.plans[name]; plan != nil {
			delete(x.t.plans, name)
			w.plans[name] = true
		}
	}
	for rid := range x.routesByService[id] {
		w.routes[rid] = true
	}
}

// dropUpstream forgets upstream id and its plans; the routes of services
// naming it are marked.
func (x *Incremental) dropUpstream(id string, w *work) {
	w.upstreams[id] = true
	old := x.upstreamsByID[id]
	if old == nil {
		return
	}
	delete(x.upstreamsByID, id)
	if x.t.upstreams[old.Name] == old {
		delete(x.t.upstreams, old.Name)
	}
	delete(x.t.targets, id)
	delete(x.t.health, id)
	for name := range x.upstreamPlns[id] {
		if plan := x.t.plans[name]; plan != nil {
			delete(x.t.upstreamPlans, upstreamPlanKey{plan.upstream, plan.variant})
			delete(x.t.plans, name)
		}
		w.plans[name] = true
	}
	delete(x.upstreamPlns, id)
	x.markServicesOf(old.Name, w)
}

func (x *Incremental) addUpstream(r Reader, u *store.Upstream, w *work) error {
	x.upstreamsByID[u.ID] = u
	x.t.upstreams[u.Name] = u
	w.upstreams[u.ID] = true
	x.markServicesOf(u.Name, w)
	return x.loadEndpoints(r, u.ID)
}

// markServicesOf marks the routes of services whose host is name.
func (x *Incremental) markServicesOf(name string, w *work) {
	for sid := range x.servicesByHost[name] {
		for rid := range x.routesByService[sid] {
			w.routes[rid] = true
		}
	}
}

func (x *Incremental) loadEndpoints(r Reader, upstreamID string) error {
	if x.upstreamsByID[upstreamID] == nil {
		return nil // deleted, or targets of an upstream this revision removes
	}
	ts, err := r.TargetsByUpstream(upstreamID)
	if err != nil {
		return fmt.Errorf("translator: targets of %s: %w", upstreamID, err)
	}
	hs, err := r.TargetHealthByUpstream(upstreamID)
	if err != nil {
		return fmt.Errorf("translator: target health of %s: %w", upstreamID, err)
	}
	x.t.targets[upstreamID], x.t.health[upstreamID] = ts, hs
	return nil
}

// setRoute records rt (nil: deleted) in the indexes.
func (x *Incremental) setRoute(id string, rt *store.Route) {
	if old := x.routes[id]; old != nil {
		if old.Service != nil {
			removeFrom(x.routesByService, old.Service.ID, id)
		}
		if !listenerNeutral(old) {
			x.nonNeutral--
		}
	}
	if rt != nil && !listenerNeutral(rt) {
		x.nonNeutral++
	}
	if rt == nil {
		delete(x.routes, id)
		return
	}
	x.routes[id] = rt
	if rt.Service != nil {
		addTo(x.routesByService, rt.Service.ID, id)
	}
}

// finish re-translates the marked routes, settles the plans and emits what
// moved.
// finish re-translates the marked routes on every listener, settles the
// plans and adds what moved to d.
func (x *Incremental) finish(w *work, d *Delta) error {
	ids := make([]string, 0, len(w.routes))
	for id := range w.routes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	moved := make([]bool, len(x.ls))
	// Taken out, then placed, in bulk: a table takes many routes (a first
	// translation, a large file) in one pass (routeTable.unplace, place).
	removes := make([][]*translatedRoute, len(x.ls))
	adds := make([][]*translatedRoute, len(x.ls))
	for _, id := range ids {
		if st := x.out[id]; st != nil {
			for i, o := range st.per {
				if o.tr != nil {
					removes[i] = append(removes[i], o.tr)
					moved[i] = true
				}
				x.release(o.plan, w)
			}
			delete(x.out, id)
		}
		rt := x.routes[id]
		if rt == nil {
			continue
		}
		st := &routeState{per: make([]routeOut, len(x.ls))}
		neutral := listenerNeutral(rt)
		for i, l := range x.ls {
			var o routeOut
			if i > 0 && neutral {
				// The same Envoy routes on every listener: translated
				// once, the protos shared (read-only, as everywhere).
				o = st.per[0]
			} else {
				x.t.errs, x.t.lastPlan = nil, nil
				o = routeOut{tr: x.t.translateRoute(rt, l.spec), plan: x.t.lastPlan}
				st.errs = append(st.errs, x.t.errs...)
			}
			if o.plan != nil {
				x.planRefs[o.plan.name]++
				x.track(o.plan, w)
			}
			if o.tr != nil {
				adds[i] = append(adds[i], o.tr)
				moved[i] = true
			}
			st.per[i] = o
		}
		x.t.errs = nil
		st.errs = uniqueErrors(st.errs)
		w.errs = append(w.errs, st.errs...)
		x.out[id] = st
	}

	for i, l := range x.ls {
		l.table.unplace(removes[i])
		l.table.place(adds[i])
	}

	x.settleUpstreams(w)
	x.emitPlans(w, d)
	for i, l := range x.ls {
		if moved[i] || l.rc == nil {
			l.rc = l.table.build()
			if l.listener != nil {
				d.Routes = append(d.Routes, l.rc)
			}
			if l.spec.tls && (x.cacheLoop || x.loopRC == nil) {
				x.emitCacheLoop(d)
			}
		}
	}
	x.reshare(d)
	return errors.Join(w.errs...)
}

// release drops one route's use of plan.
func (x *Incremental) release(plan *clusterPlan, w *work) {
	if plan == nil {
		return
	}
	if x.planRefs[plan.name]--; x.planRefs[plan.name] <= 0 {
		delete(x.planRefs, plan.name)
		w.plans[plan.name] = true
	}
	if plan.upstream != nil {
		w.upstreams[plan.upstream.ID] = true
	}
}

// track records a plan a route resolved to (possibly new).
func (x *Incremental) track(plan *clusterPlan, w *work) {
	if plan.upstream != nil {
		addTo(x.upstreamPlns, plan.upstream.ID, plan.name)
		w.upstreams[plan.upstream.ID] = true
	}
	// A plan already emitted and not dropped in this Update is the same
	// object as before: nothing to re-emit.
	if _, known := x.clusters[plan.name]; !known {
		w.plans[plan.name] = true
	}
}

// settleUpstreams applies Translate's rule to the marked upstreams: an
// upstream no route resolves to still has its default cluster
// (upstream/<name>/http/60000); plans no route uses go.
func (x *Incremental) settleUpstreams(w *work) {
	for id := range w.upstreams {
		u := x.upstreamsByID[id]
		used := false
		for name := range x.upstreamPlns[id] {
			if x.planRefs[name] > 0 {
				used = true
			}
		}
		var keep string
		if u != nil && !used {
			plan := x.t.upstreamPlan(u, variantOf(nil))
			keep = plan.name
			addTo(x.upstreamPlns, id, plan.name)
			w.plans[plan.name] = true
		}
		for name := range x.upstreamPlns[id] {
			if name == keep || x.planRefs[name] > 0 {
				continue
			}
			if plan := x.t.plans[name]; plan != nil {
				delete(x.t.upstreamPlans, upstreamPlanKey{plan.upstream, plan.variant})
				delete(x.t.plans, name)
			}
			removeFrom(x.upstreamPlns, id, name)
			w.plans[name] = true
		}
	}
	// Service clusters no route uses any more.
	for name := range w.plans {
		if plan := x.t.plans[name]; plan != nil && plan.upstream == nil && x.planRefs[name] <= 0 {
			delete(x.t.plans, name)
		}
	}
}

// emitPlans compares the marked plans' clusters and CLAs with what was
// emitted, and rebuilds the CLAs the work asks for.
func (x *Incremental) emitPlans(w *work, d *Delta) {
	names := make([]string, 0, len(w.plans))
	for name := range w.plans {
		names = append(names, name)
	}
	if w.allCLAs {
		for name := range x.t.plans {
			if !w.plans[name] {
				names = append(names, name)
			}
		}
	} else {
		for id := range w.claUpstreams {
			for name := range x.upstreamPlns[id] {
				if !w.plans[name] {
					names = append(names, name)
				}
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		plan := x.t.plans[name]
		if plan == nil || plan.cluster == nil {
			if _, ok := x.clusters[name]; ok {
				delete(x.clusters, name)
				d.RemovedClusters = append(d.RemovedClusters, name)
			}
			if _, ok := x.clas[name]; ok {
				delete(x.clas, name)
				delete(x.claErrs, name)
				d.RemovedEndpoints = append(d.RemovedEndpoints, name)
			}
			if plan != nil && plan.err != nil {
				w.errs = append(w.errs, plan.err)
			}
			continue
		}
		if old, ok := x.clusters[name]; !ok || (old != plan.cluster && !proto.Equal(old, plan.cluster)) {
			x.clusters[name] = plan.cluster
			d.Clusters = append(d.Clusters, plan.cluster)
		} else {
			plan.cluster = old
		}
		cla, err := x.t.endpointsFor(plan)
		if err != nil {
			x.claErrs[name] = err
			w.errs = append(w.errs, err)
		} else {
			delete(x.claErrs, name)
		}
		if old, ok := x.clas[name]; !ok || !proto.Equal(old, cla) {
			x.clas[name] = cla
			d.Endpoints = append(d.Endpoints, cla)
		}
	}
}

// Resources returns the whole current configuration, sorted by name as
// Translate sorts it. The protos are shared with the Incremental:
// read-only.
func (x *Incremental) Resources() *Resources {
	res := &Resources{ClusterUpstream: map[string]string{}}
	if !x.init {
		return res
	}
	names := make([]string, 0, len(x.clusters))
	for name := range x.clusters {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		res.Clusters = append(res.Clusters, x.clusters[name])
		res.Endpoints = append(res.Endpoints, x.clas[name])
		if plan := x.t.plans[name]; plan != nil && plan.upstream != nil {
			res.ClusterUpstream[name] = plan.upstream.Name
		}
	}
	for _, l := range x.ls {
		if l.listener != nil {
			res.Listeners = append(res.Listeners, l.listener)
			res.Routes = append(res.Routes, l.rc)
		}
	}
	if x.loopRC != nil {
		res.Routes = append(res.Routes, x.loopRC)
	}
	res.Secrets = x.secrets.sorted()
	return res
}

// ClusterUpstream names the upstream a current cluster balances over, ""
// for a service cluster or an unknown name.
func (x *Incremental) ClusterUpstream(cluster string) string {
	if x.t == nil {
		return ""
	}
	if plan := x.t.plans[cluster]; plan != nil && plan.upstream != nil {
		return plan.upstream.Name
	}
	return ""
}

// Err joins every current problem (what Translate of the same snapshot
// returns, in another order).
func (x *Incremental) Err() error {
	if !x.init {
		return nil
	}
	var errs []error
	ids := make([]string, 0, len(x.out))
	for id := range x.out {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		errs = append(errs, x.out[id].errs...)
	}
	plans := make([]*clusterPlan, 0, len(x.t.plans))
	for _, p := range x.t.plans {
		plans = append(plans, p)
	}
	slices.SortFunc(plans, func(a, b *clusterPlan) int { return cmp.Compare(a.name, b.name) })
	for _, p := range plans {
		if p.err != nil {
			errs = append(errs, p.err)
		}
		if err := x.claErrs[p.name]; err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, x.secretErrors()...)
	for _, l := range x.ls {
		if l.err != nil {
			errs = append(errs, listenerError(l.spec, l.err))
		}
	}
	return errors.Join(errs...)
}
