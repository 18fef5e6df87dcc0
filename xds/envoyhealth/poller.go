package envoyhealth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	// DefaultInterval is how often each Envoy is polled. A health change
	// shows in /health at most this much later (Envoy itself acts on it at
	// once).
	DefaultInterval = time.Second
	// DefaultTimeout bounds one poll of one Envoy.
	DefaultTimeout = 2 * time.Second
	// maxBody bounds what one /clusters answer may occupy (10k hosts are a
	// few MiB).
	maxBody = 64 << 20
	// maxFilter bounds one cluster filter sent to Envoy (the admin listener
	// limits the request line); more names take more requests, each a
	// short stretch of Envoy's main thread rather than one long one.
	maxFilter = 4 << 10
	// allUpstreams is the filter matching every upstream cluster.
	allUpstreams = "^upstream/"
)

// Endpoint is one Envoy whose admin listener can be polled.
type Endpoint struct {
	NodeID       string
	AdminAddress string // host:port
}

// Options shape a Poller. The zero value works.
type Options struct {
	Interval time.Duration
	Timeout  time.Duration
	// Revision returns the store revision whose configuration the control
	// plane has published to Envoys. Polls sample it, so that a caller can
	// tell a view that may predate a change (see Lookup.AsOf). Nil means 0.
	Revision func() uint64
	// Upstreams names the upstreams whose hosts Envoy decides on by active
	// or passive health checks: only their clusters are asked for
	// (/clusters?filter=), and with none the Envoys are not polled at all.
	// The Admin API consults Envoy only for such upstreams; for the others
	// the store decides. Nil means every upstream cluster.
	//
	// Why: a full /clusters dump at thousands of clusters occupies Envoy's
	// main thread, the one that applies xDS, for 100+ ms every poll.
	Upstreams func() []string
	// Registerer receives the poll-cost metrics; nil means none.
	Registerer prometheus.Registerer
	Client     *http.Client
	Logger     *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Poller polls the admin API of every discovered Envoy.
type Poller struct {
	discover func() []Endpoint
	opts     Options
	log      *slog.Logger
	metrics  *pollMetrics

	mu    sync.RWMutex
	nodes map[string]*node
}

// node is the last thing learned from one Envoy.
type node struct {
	Endpoint
	polledAt time.Time // last successful poll (zero: none yet)
	// revision is what the view reflects: the revision that was published
	// when the poll before it started (see pollOne).
	revision uint64
	sampled  uint64 // the revision published when the latest poll started
	lastErr  string // error of the latest poll, "" when it succeeded
	errAt    time.Time
	view     view
}

// New returns a Poller over the Envoys that discover lists at each round.
// Start it with Run.
func New(discover func() []Endpoint, opts Options) *Poller {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Revision == nil {
		opts.Revision = func() uint64 { return 0 }
	}
	if opts.Client == nil {
		// Admin listeners are plain HTTP on a private address; no proxy
		// from the environment applies.
		opts.Client = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Poller{discover: discover, opts: opts, log: opts.Logger, metrics: newPollMetrics(opts.Registerer), nodes: map[string]*node{}}
}

// Run polls every interval until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	for {
		p.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll runs one round: every discovered Envoy is polled concurrently, and
// Envoys no longer discovered are forgotten.
func (p *Poller) Poll(ctx context.Context) {
	filters := p.filters()
	eps := p.discover()
	seen := make(map[string]bool, len(eps))
	var wg sync.WaitGroup
	for _, ep := range eps {
		if ep.NodeID == "" || ep.AdminAddress == "" || seen[ep.NodeID] {
			continue
		}
		seen[ep.NodeID] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.pollOne(ctx, ep, filters)
		}()
	}
	wg.Wait()
	p.mu.Lock()
	for id := range p.nodes {
		if !seen[id] {
			delete(p.nodes, id)
		}
	}
	p.mu.Unlock()
}

// filters are the /clusters filters of this round, one request each; none
// means no upstream is health-checked, so there is nothing to ask Envoy.
func (p *Poller) filters() []string {
	if p.opts.Upstreams == nil {
		return []string{allUpstreams}
	}
	names := p.opts.Upstreams()
	p.metrics.upstreams.Set(float64(len(names)))
	return upstreamFilters(names)
}

// upstreamFilters are RE2 patterns (Envoy matches them anywhere in the
// name) for the clusters of the named upstreams,
// upstream/<name>/<protocol>/<ms>, each at most about maxFilter long.
func upstreamFilters(names []string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			b.WriteString(")/")
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, n := range names {
		q := regexp.QuoteMeta(n)
		if b.Len() > 0 && b.Len()+len(q) > maxFilter {
			flush()
		}
		if b.Len() == 0 {
			b.WriteString("^upstream/(")
		} else {
			b.WriteByte('|')
		}
		b.WriteString(q)
	}
	flush()
	return out
}

func (p *Poller) pollOne(ctx context.Context, ep Endpoint, filters []string) {
	rev := p.opts.Revision()
	v := view{}
	var err error
	if len(filters) == 0 {
		// Nothing is health-checked: an empty view is exact, and Envoy's
		// main thread is left alone.
		p.metrics.polls.WithLabelValues(resultSkipped).Inc()
	}
	for _, f := range filters {
		var part view
		if part, err = p.fetch(ctx, ep.AdminAddress, f); err != nil {
			break
		}
		// The filters select disjoint upstreams.
		maps.Copy(v, part)
	}
	if ctx.Err() != nil {
		return // shutting down: the failure says nothing about the Envoy
	}
	now := p.opts.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[ep.NodeID]
	if n == nil {
		n = &node{}
		p.nodes[ep.NodeID] = n
	}
	if n.AdminAddress != ep.AdminAddress {
		// Another Envoy (a restart on a new port): the old view is not its.
		*n = node{}
	}
	n.Endpoint = ep
	// A change published just before this poll may not have reached Envoy
	// yet (a push takes milliseconds, more on a busy machine); one published
	// before the previous poll started has had a whole interval. So the view
	// is taken to reflect the revision sampled one poll earlier.
	reflects := n.sampled
	n.sampled = rev
	if err != nil {
		if n.lastErr == "" {
			p.log.Warn("envoyhealth: cannot read Envoy's host health", "node", ep.NodeID, "admin", ep.AdminAddress, "err", err)
		}
		n.lastErr, n.errAt = err.Error(), now
		return
	}
	if n.lastErr != "" {
		p.log.Info("envoyhealth: Envoy's host health readable again", "node", ep.NodeID, "admin", ep.AdminAddress)
	}
	n.lastErr = ""
	n.polledAt, n.revision, n.view = now, reflects, v
}

func (p *Poller) fetch(ctx context.Context, admin, filter string) (v view, err error) {
	start := time.Now()
	defer func() {
		p.metrics.duration.Observe(time.Since(start).Seconds())
		if err != nil {
			p.metrics.polls.WithLabelValues(resultError).Inc()
		} else {
			p.metrics.polls.WithLabelValues(resultOK).Inc()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	q := url.Values{"format": {"json"}, "filter": {filter}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/clusters?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("envoy admin %s: %w", admin, err)
	}
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("envoy admin %s: %w", admin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	p.metrics.bytes.Add(float64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("envoy admin %s: read: %w", admin, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("envoy admin %s: GET /clusters: %s", admin, resp.Status)
	}
	return parseClusters(body)
}

// fresh reports whether n's view may be used: polled successfully within
// three intervals plus a timeout, and not failing since.
func (p *Poller) fresh(n *node, now time.Time) bool {
	return !n.polledAt.IsZero() && n.lastErr == "" &&
		now.Sub(n.polledAt) <= 3*p.opts.Interval+p.opts.Timeout
}

// Status is Envoy's verdict on one address.
type Status int

const (
	// Unknown: no fresh view has the address.
	Unknown Status = iota
	// Healthy: in balancing on every Envoy that has it.
	Healthy
	// Unhealthy: out of balancing on at least one Envoy.
	Unhealthy
)

func (s Status) String() string {
	switch s {
	case Healthy:
		return "HEALTHY"
	case Unhealthy:
		return "UNHEALTHY"
	}
	return "UNKNOWN"
}

// NodeStatus is one Envoy's view of one address.
type NodeStatus struct {
	NodeID string
	Status Status
	// Reasons lists why a host is out (failed_active_health_check,
	// failed_outlier_check, eds_unhealthy, …).
	Reasons []string
}

// Lookup is the aggregate view of one address of an upstream's targets.
type Lookup struct {
	Status Status
	// AsOf is the oldest revision the views that had the address are known
	// to reflect (published at least one poll interval before the view was
	// read): a change committed after it (a manual /healthy) may not show
	// yet.
	AsOf  uint64
	Nodes []NodeStatus
}

// Address looks up addr as a host of the clusters of the upstream named
// upstream, over every fresh Envoy view.
func (p *Poller) Address(upstream string, addr netip.AddrPort) Lookup {
	now := p.opts.Now()
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out Lookup
	for _, n := range p.nodes {
		if !p.fresh(n, now) {
			continue
		}
		h, ok := n.view[upstream][addr]
		if !ok {
			continue
		}
		st := Healthy
		if len(h.reasons) > 0 {
			st = Unhealthy
		}
		out.Nodes = append(out.Nodes, NodeStatus{NodeID: n.NodeID, Status: st, Reasons: h.reasons})
		out.Status = max(out.Status, st)
		if out.AsOf == 0 || n.revision < out.AsOf {
			out.AsOf = n.revision
		}
	}
	slices.SortFunc(out.Nodes, func(a, b NodeStatus) int {
		switch {
		case a.NodeID < b.NodeID:
			return -1
		case a.NodeID > b.NodeID:
			return 1
		}
		return 0
	})
	return out
}
