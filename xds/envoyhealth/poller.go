package envoyhealth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"
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
	Client   *http.Client
	Logger   *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Poller polls the admin API of every discovered Envoy.
type Poller struct {
	discover func() []Endpoint
	opts     Options
	log      *slog.Logger

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
	return &Poller{discover: discover, opts: opts, log: opts.Logger, nodes: map[string]*node{}}
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
			p.pollOne(ctx, ep)
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

func (p *Poller) pollOne(ctx context.Context, ep Endpoint) {
	rev := p.opts.Revision()
	v, err := p.fetch(ctx, ep.AdminAddress)
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

func (p *Poller) fetch(ctx context.Context, admin string) (view, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/clusters?format=json", nil)
	if err != nil {
		return nil, fmt.Errorf("envoy admin %s: %w", admin, err)
	}
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("envoy admin %s: %w", admin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
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
