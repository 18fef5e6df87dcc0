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

	"github.com/switchboard-gw/switchboard/store"
)

// EntityError says which stored entity could not be translated and why. The
// entity is left out of the Envoy config; everything else is still emitted.
type EntityError struct {
	Entity string // "route", "service", "upstream"
	ID     string
	Name   string // "" when the entity has no name
	Err    error
}

func (e *EntityError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("%s %s (%s): %v", e.Entity, e.Name, e.ID, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Entity, e.ID, e.Err)
}

func (e *EntityError) Unwrap() error { return e.Err }

// ErrExcluded is wrapped by the EntityError of an entity Input.Exclude
// left out.
var ErrExcluded = errors.New("quarantined")

// excluded returns the error of an entity Input.Exclude names, or nil.
func (t *translator) excluded(id string) error {
	if reason, ok := t.in.Exclude[id]; ok {
		return fmt.Errorf("%w: %s", ErrExcluded, reason)
	}
	return nil
}

// Translate turns in into one self-consistent Envoy configuration: a
// listener, its route configuration, one cluster per upstream (per service
// variant, see the naming scheme in names.go) or per service with a plain
// host, and one ClusterLoadAssignment per cluster.
//
// Translation is best effort: an entity that cannot be translated is left
// out and its *EntityError joined into the returned error, while the rest is
// still returned; a caller publishes the Resources and logs the error. Every
// emitted resource passes ValidateAll, and the set is consistent in
// go-control-plane's sense (one CLA per EDS cluster, the HCM's RDS name
// exists). Output is sorted by name and does not depend on the order of the
// input slices. in is only read.
func Translate(in *Input) (*Resources, error) {
	if in == nil {
		return nil, errors.New("translator: nil input")
	}
	t := newTranslator(in)

	specs := t.opts.listenerSpecs()
	routes := make([][]*translatedRoute, len(specs))
	for _, r := range sortedBy(in.Routes, func(r *store.Route) string { return r.ID }) {
		errs := t.errs
		t.errs = nil
		for i, l := range specs {
			if tr := t.translateRoute(r, l); tr != nil {
				routes[i] = append(routes[i], tr)
			}
		}
		// A route's problem shows once, whichever listeners hit it.
		t.errs = append(errs, uniqueErrors(t.errs)...)
	}
	// An upstream no enabled service routes to still gets a cluster, with
	// Kong's service defaults, so that its targets are health-checked and
	// its health can be reported, as Kong keeps a balancer per upstream.
	for _, u := range sortedBy(in.Upstreams, func(u *store.Upstream) string { return u.Name }) {
		if !t.upstreamUsed[u.ID] {
			t.upstreamPlan(u, variantOf(nil))
		}
	}

	res := &Resources{ClusterUpstream: map[string]string{}}
	for _, plan := range t.sortedPlans() {
		if plan.err != nil {
			t.errs = append(t.errs, plan.err)
		}
		if plan.cluster == nil {
			continue
		}
		if plan.upstream != nil {
			res.ClusterUpstream[plan.name] = plan.upstream.Name
		}
		res.Clusters = append(res.Clusters, plan.cluster)
		cla, err := t.endpointsFor(plan)
		if err != nil {
			t.errs = append(t.errs, err)
		}
		res.Endpoints = append(res.Endpoints, cla)
	}

	secrets, serrs := secretsOf(in)
	t.errs = append(t.errs, serrs...)
	t.errs = append(t.errs, t.addCASecrets(secrets, in.Services)...)
	res.Secrets = secrets.sorted()
	if c, cla, err := rateLimitServiceResources(t.opts); err != nil {
		t.errs = append(t.errs, err)
	} else if c != nil {
		res.Clusters = insertSorted(res.Clusters, c, (*clusterv3.Cluster).GetName)
		res.Endpoints = insertSorted(res.Endpoints, cla, (*endpointv3.ClusterLoadAssignment).GetClusterName)
	}

	st := newTLSState(in.Certificates, in.SNIs, secrets[defaultCertificateOwner])
	shared := sharesRoutes(in.Routes)
	var tlsTable *routev3.RouteConfiguration
	for i, spec := range specs {
		rc := newRouteTable(spec.routeConfig, routes[i]).build()
		if spec.tls {
			tlsTable = rc
		}
		l, err := buildProxyListener(spec, st, shared)
		if err != nil {
			t.errs = append(t.errs, listenerError(spec, err))
		}
		// Without a listener nothing refers to the route configuration,
		// and an unreferenced RDS resource makes the snapshot inconsistent.
		if l != nil {
			res.Listeners = append(res.Listeners, l)
			res.Routes = append(res.Routes, rc)
		}
	}
	// The bootstrap's TLS cache loop subscribes to its table whatever the
	// listener does.
	if len(specs) > 1 {
		res.Routes = append(res.Routes, cacheLoopRoutes(tlsTable, cacheLoopInUse(in.Plugins)))
	}
	for _, f := range httpFilters {
		if err := f.patchResources(res); err != nil {
			t.errs = append(t.errs, fmt.Errorf("filter %s: %w", f.name(), err))
		}
	}
	return res, errors.Join(t.errs...)
}

// translator holds one translation's indexes and results. It is not reused.
type translator struct {
	in   *Input
	opts Options

	services  map[string]*store.Service  // by id
	upstreams map[string]*store.Upstream // by name
	targets   map[string][]*store.Target // by upstream id
	health    map[string][]*store.TargetHealth

	plans         map[string]*clusterPlan // by cluster name
	upstreamPlans map[upstreamPlanKey]*clusterPlan
	upstreamUsed  map[string]bool // upstream id → some plan exists
	shared        *sharedProtos
	// plugins are every plugin instance of the snapshot; planRoute picks
	// each route's.
	plugins []pluginInstance
	// keyAuth holds the key-auth credentials of every consumer (keyauth.go).
	keyAuth *keyAuthData
	// rateLimits is what the rate-limiting filters share (ratelimit_apply.go).
	rateLimits *rateLimitCache
	// certificates and caCertificates by id: clusters name the first by
	// secret (and only when they exist), CA secrets hold the second.
	certificates   map[string]*store.Certificate
	caCertificates map[string]*store.CACertificate
	// lastPlan is the cluster plan the last routeTarget resolved, kept even
	// when the route then failed: a plan once resolved is emitted, and an
	// Incremental counts its users.
	lastPlan *clusterPlan
	errs     []error
}

func newTranslator(in *Input) *translator {
	t := &translator{
		in:            in,
		opts:          in.Options.withDefaults(),
		services:      make(map[string]*store.Service, len(in.Services)),
		upstreams:     make(map[string]*store.Upstream, len(in.Upstreams)),
		targets:       make(map[string][]*store.Target, len(in.Upstreams)),
		health:        map[string][]*store.TargetHealth{},
		plans:         map[string]*clusterPlan{},
		upstreamPlans: map[upstreamPlanKey]*clusterPlan{},
		upstreamUsed:  map[string]bool{},
		shared:        newSharedProtos(),
	}
	for _, s := range in.Services {
		t.services[s.ID] = s
	}
	for _, u := range in.Upstreams {
		t.upstreams[u.Name] = u
	}
	for _, tg := range in.Targets {
		t.targets[tg.Upstream.ID] = append(t.targets[tg.Upstream.ID], tg)
	}
	for _, h := range in.TargetHealth {
		t.health[h.UpstreamID] = append(t.health[h.UpstreamID], h)
	}
	t.certificates, t.caCertificates = indexTLSEntities(in)
	t.plugins = pluginInstances(in.Plugins)
	t.keyAuth = newKeyAuthData(in)
	t.rateLimits = newRateLimitCache()
	return t
}

// withDefaults fills Kong's proxy_listen default (0.0.0.0:8000).
func (o Options) withDefaults() Options {
	if o.ProxyAddress == "" {
		o.ProxyAddress = defaultProxyAddress
	}
	if o.ProxyPort == 0 {
		o.ProxyPort = defaultProxyPort
	}
	if o.ProxyTLSPort != 0 && o.ProxyTLSAddress == "" {
		o.ProxyTLSAddress = defaultProxyAddress
	}
	if o.TrustedCAFile == "" {
		o.TrustedCAFile = DefaultTrustedCAFile
	}
	return o
}

// clusterFor returns the cluster a service's routes forward to: its
// upstream's (Kong looks for an upstream named like the service host, and
// then ignores the service port), else the service's own; over TLS,
// preserve_host routes have clusters of their own (cluster_tls.go).
func (t *translator) clusterFor(svc *store.Service, preserveHost bool) *clusterPlan {
	v := t.variantFor(svc, preserveHost)
	if u := t.upstreams[svc.Host]; u != nil {
		return t.upstreamPlan(u, v)
	}
	name := v.serviceClusterName(svc)
	if plan := t.plans[name]; plan != nil {
		return plan
	}
	plan := &clusterPlan{name: name, variant: v, service: svc}
	var err error
	if plan.cluster, err = validCluster(buildCluster(name, v, nil, t.clusterTLSOf(v, nil))); err != nil {
		plan.err = serviceError(svc, err)
	}
	t.plans[name] = plan
	return plan
}

// upstreamPlanKey finds an upstream's plan without formatting its name for
// every route.
type upstreamPlanKey struct {
	upstream *store.Upstream
	variant  variant
}

func (t *translator) upstreamPlan(u *store.Upstream, v variant) *clusterPlan {
	key := upstreamPlanKey{u, v}
	if plan := t.upstreamPlans[key]; plan != nil {
		return plan
	}
	name := v.clusterName(u.Name)
	t.upstreamUsed[u.ID] = true
	plan := &clusterPlan{name: name, variant: v, upstream: u}
	err := t.excluded(u.ID)
	if err == nil {
		plan.cluster, err = validCluster(buildCluster(name, v, u, t.clusterTLSOf(v, u)))
	}
	if err != nil {
		plan.err = &EntityError{Entity: "upstream", ID: u.ID, Name: u.Name, Err: err}
	}
	t.plans[name] = plan
	t.upstreamPlans[key] = plan
	return plan
}

func (t *translator) sortedPlans() []*clusterPlan {
	out := make([]*clusterPlan, 0, len(t.plans))
	for _, p := range t.plans {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *clusterPlan) int { return cmp.Compare(a.name, b.name) })
	return out
}

// endpointsFor builds plan's CLA; on error (never expected: the builders
// only emit valid protos) an empty CLA of the same name, so that the
// cluster still has exactly one.
func (t *translator) endpointsFor(plan *clusterPlan) (*endpointv3.ClusterLoadAssignment, error) {
	var cla *endpointv3.ClusterLoadAssignment
	if plan.upstream != nil {
		u := plan.upstream
		cla = buildUpstreamEndpoints(plan.name, plan.variant, u, withoutExcluded(t.targets[u.ID], t.in.Exclude), t.health[u.ID], t.in.DNS)
	} else {
		cla = buildServiceEndpoints(plan.name, plan.service, t.in.DNS)
	}
	if err := cla.ValidateAll(); err != nil {
		// Never publish what Envoy would reject.
		return &endpointv3.ClusterLoadAssignment{ClusterName: plan.name}, fmt.Errorf("endpoints of %s: %w", plan.name, err)
	}
	return cla, nil
}

func validCluster(c *clusterv3.Cluster) (*clusterv3.Cluster, error) {
	if err := c.ValidateAll(); err != nil {
		return nil, fmt.Errorf("invalid cluster %s: %w", c.GetName(), err)
	}
	return c, nil
}

// buildProxyListener builds spec's listener, its HCM on the shared route
// configuration when shared; the TLS one is nil (no error) while there is
// no default certificate.
func buildProxyListener(spec listenerSpec, st tlsState, shared bool) (*listenerv3.Listener, error) {
	if spec.tls {
		return buildTLSListener(spec, st, spec.hcmRouteConfig(shared))
	}
	return buildListener(spec)
}

func listenerError(spec listenerSpec, err error) error {
	if spec.tls {
		return fmt.Errorf("listener %s: %w", spec.name, err)
	}
	return fmt.Errorf("listener: %w", err)
}

// uniqueErrors drops repeated messages, keeping the first of each.
func uniqueErrors(errs []error) []error {
	if len(errs) < 2 {
		return errs
	}
	seen := map[string]bool{}
	out := errs[:0:0]
	for _, err := range errs {
		if msg := err.Error(); !seen[msg] {
			seen[msg] = true
			out = append(out, err)
		}
	}
	return out
}

func serviceError(s *store.Service, err error) error {
	return &EntityError{Entity: "service", ID: s.ID, Name: deref(s.Name), Err: err}
}

func routeError(r *store.Route, err error) error {
	return &EntityError{Entity: "route", ID: r.ID, Name: deref(r.Name), Err: err}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// withoutExcluded drops the targets exclude names (a copy only when some
// are).
func withoutExcluded(targets []*store.Target, exclude map[string]string) []*store.Target {
	if len(exclude) == 0 {
		return targets
	}
	out := targets[:0:0]
	for _, tg := range targets {
		if _, ok := exclude[tg.ID]; !ok {
			out = append(out, tg)
		}
	}
	return out
}

// sortedBy returns a copy sorted by key, so that errors and tie-breaks never
// depend on the caller's slice order.
func sortedBy[T any](in []*T, key func(*T) string) []*T {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b *T) int { return cmp.Compare(key(a), key(b)) })
	return out
}
