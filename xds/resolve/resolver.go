package resolve

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/switchboard-gw/switchboard/translator"
)

// Defaults for Options. The intervals follow Kong's DNS client: failures are
// retried every 30 s and answers live for their TTL.
const (
	DefaultHostsFile     = "/etc/hosts"
	DefaultResolvConf    = "/etc/resolv.conf"
	DefaultHostsRecheck  = 5 * time.Second
	DefaultRetryInterval = 30 * time.Second
	DefaultMinTTL        = time.Second
	DefaultMaxTTL        = time.Hour
	DefaultQueryTimeout  = 2 * time.Second
	DefaultEnsureWait    = 2 * time.Second
	defaultConcurrency   = 16
)

// Options configure a Resolver. Zero values take the defaults above, so
// tests only set what they need (short intervals, a fake name server).
type Options struct {
	// HostsFile is consulted before DNS (--dns-hostsfile).
	HostsFile string
	// ResolvConf names the name servers and search list.
	ResolvConf string
	// Servers ("host:port"), when set, replace the resolv.conf name servers
	// and disable its search list. Tests point this at a local fake server.
	Servers []string
	// HostsRecheck is how often the hosts file's mtime and size are checked.
	HostsRecheck time.Duration
	// RetryInterval is how long a failed name waits before the next query.
	RetryInterval time.Duration
	// MinTTL and MaxTTL clamp record TTLs (a TTL of 0 would otherwise mean
	// "query again at once, forever").
	MinTTL, MaxTTL time.Duration
	// QueryTimeout bounds one DNS exchange.
	QueryTimeout time.Duration
	// EnsureWait bounds how long Ensure waits for new names before handing
	// back; slower answers arrive later through Changed.
	EnsureWait time.Duration
	Logger     *slog.Logger
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.HostsFile == "" {
		o.HostsFile = DefaultHostsFile
	}
	if o.ResolvConf == "" {
		o.ResolvConf = DefaultResolvConf
	}
	def(&o.HostsRecheck, DefaultHostsRecheck)
	def(&o.RetryInterval, DefaultRetryInterval)
	def(&o.MinTTL, DefaultMinTTL)
	def(&o.MaxTTL, DefaultMaxTTL)
	def(&o.QueryTimeout, DefaultQueryTimeout)
	def(&o.EnsureWait, DefaultEnsureWait)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Resolver keeps the answers for the names the store references and
// refreshes them in the background (Run). It is safe for concurrent use.
type Resolver struct {
	opts   Options
	log    *slog.Logger
	client *dnsClient

	mu           sync.Mutex
	hosts        hostsFile
	hostsCheckAt time.Time
	entries      map[string]*entry // by normalised name
	requested    map[string]string // name as the store spells it → normalised

	changed chan struct{} // capacity 1: a pending "answers moved" signal
	wake    chan struct{} // capacity 1: wakes Run when work is due sooner
	sem     chan struct{} // bounds concurrent lookups
}

// entry is one tracked name.
type entry struct {
	answer   translator.DNSAnswer
	resolved bool
	due      time.Time
	busy     bool
	// quiet is set while Ensure waits for this name: Ensure's caller reads
	// the answer itself, so announcing it on Changed would only cause a
	// second, identical translation.
	quiet bool
}

// New returns a Resolver. A missing or unreadable resolv.conf is not fatal:
// names then fail with a DNS error (and hosts-file names still work).
func New(opts Options) *Resolver {
	opts = opts.withDefaults()
	var conf *dns.ClientConfig
	if len(opts.Servers) == 0 {
		c, err := dns.ClientConfigFromFile(opts.ResolvConf)
		if err != nil {
			opts.Logger.Warn("dns: no name servers", "resolv_conf", opts.ResolvConf, "error", err)
		} else {
			conf = c
		}
	}
	r := &Resolver{
		opts:      opts,
		log:       opts.Logger,
		client:    newDNSClient(opts.Servers, conf, opts.QueryTimeout),
		hosts:     hostsFile{path: opts.HostsFile},
		entries:   map[string]*entry{},
		requested: map[string]string{},
		changed:   make(chan struct{}, 1),
		wake:      make(chan struct{}, 1),
		sem:       make(chan struct{}, defaultConcurrency),
	}
	r.mu.Lock()
	r.checkHostsLocked(time.Now())
	r.mu.Unlock()
	return r
}

// Changed receives a value after one or more answers changed in the
// background; the publish loop then re-translates. Signals coalesce.
func (r *Resolver) Changed() <-chan struct{} { return r.changed }

// Ensure starts tracking names (as the store spells them; IP literals are
// ignored) and resolves the new ones, waiting up to Options.EnsureWait so
// that the caller's next Answers already holds them.
func (r *Resolver) Ensure(ctx context.Context, names []string) {
	now := time.Now()
	var fresh []string
	r.mu.Lock()
	r.checkHostsLocked(now)
	for _, n := range names {
		norm := normalize(n)
		if norm == "" || isIP(norm) {
			continue
		}
		r.requested[n] = norm
		if _, ok := r.entries[norm]; !ok {
			r.entries[norm] = &entry{due: now, busy: true, quiet: true}
			fresh = append(fresh, norm)
		}
	}
	r.mu.Unlock()
	if len(fresh) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.EnsureWait)
	defer cancel()
	var wg sync.WaitGroup
	done := make(chan struct{})
	for _, n := range fresh {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.resolve(context.WithoutCancel(ctx), n)
		}()
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	// Whatever is still in flight now announces itself on Changed.
	r.mu.Lock()
	for _, n := range fresh {
		if e, ok := r.entries[n]; ok {
			e.quiet = false
		}
	}
	r.mu.Unlock()
}

// Retain forgets every name not listed, so that deleted targets stop being
// queried.
func (r *Resolver) Retain(names []string) {
	keep := make(map[string]bool, len(names))
	req := make(map[string]string, len(names))
	for _, n := range names {
		if norm := normalize(n); norm != "" && !isIP(norm) {
			keep[norm] = true
			req[n] = norm
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for n := range r.entries {
		if !keep[n] {
			delete(r.entries, n)
		}
	}
	for n, norm := range r.requested {
		if _, ok := req[n]; !ok && keep[norm] {
			req[n] = norm
		}
	}
	r.requested = req
}

// Answers returns the answers of every tracked name that has been resolved
// at least once, keyed by the name as the store spells it. The map is the
// caller's.
func (r *Resolver) Answers() map[string]translator.DNSAnswer {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]translator.DNSAnswer, len(r.requested))
	for n, norm := range r.requested {
		if e, ok := r.entries[norm]; ok && e.resolved {
			out[n] = e.answer
		}
	}
	return out
}

// Lookup returns what the resolver knows of host, for the admin health
// report. An IP literal answers itself (record type A or AAAA); a name not
// tracked or not resolved yet reports false.
func (r *Resolver) Lookup(host string) (translator.DNSAnswer, bool) {
	norm := strings.Trim(normalize(host), "[]")
	if addr, err := netip.ParseAddr(norm); err == nil {
		rt := "A"
		if !addr.Unmap().Is4() {
			rt = "AAAA"
		}
		return translator.DNSAnswer{RecordType: rt, Addresses: []translator.Address{{IP: addr.Unmap().String()}}}, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[norm]
	if !ok || !e.resolved {
		return translator.DNSAnswer{}, false
	}
	return e.answer, true
}

// Run refreshes answers whose TTL (or retry interval) ran out and re-reads
// the hosts file when it changes, until ctx ends.
func (r *Resolver) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-r.wake:
		}
		now := time.Now()
		r.mu.Lock()
		r.checkHostsLocked(now)
		var due []string
		next := r.hostsCheckAt
		for n, e := range r.entries {
			switch {
			case e.busy:
			case !e.due.After(now):
				e.busy = true
				due = append(due, n)
			case e.due.Before(next):
				next = e.due
			}
		}
		r.mu.Unlock()
		for _, n := range due {
			go r.resolve(ctx, n)
		}
		timer.Reset(max(next.Sub(now), 10*time.Millisecond))
	}
}

// checkHostsLocked re-reads the hosts file when due; a change makes every
// tracked name due at once, since any of them may now be (or no longer be)
// a hosts-file name.
func (r *Resolver) checkHostsLocked(now time.Time) {
	if now.Before(r.hostsCheckAt) {
		return
	}
	r.hostsCheckAt = now.Add(r.opts.HostsRecheck)
	changed, err := r.hosts.refresh()
	if err != nil {
		r.log.Warn("dns: hosts file", "path", r.opts.HostsFile, "error", err)
		return
	}
	if changed {
		for _, e := range r.entries {
			e.due = now
		}
	}
}

// resolve looks name up and stores the answer. The caller has marked the
// entry busy, so no two lookups of one name run at once.
func (r *Resolver) resolve(ctx context.Context, name string) {
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		r.mu.Lock()
		if e, ok := r.entries[name]; ok {
			e.busy = false
		}
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	hosts := r.hosts.table[name]
	r.mu.Unlock()

	ans, ttl := r.lookup(ctx, name, hosts)
	sortAddresses(ans.Addresses)

	r.mu.Lock()
	e, ok := r.entries[name]
	if !ok { // forgotten (Retain) while we asked
		r.mu.Unlock()
		return
	}
	moved := !e.resolved || !sameAnswer(e.answer, ans)
	e.answer, e.resolved, e.busy = ans, true, false
	e.due = time.Now().Add(ttl)
	notify := moved && !e.quiet
	r.mu.Unlock()

	if ans.Err != "" && moved {
		r.log.Warn("dns: lookup failed", "name", name, "error", ans.Err)
	}
	if notify {
		signal(r.changed)
	}
	signal(r.wake)
}

// lookup answers one name from the hosts file or DNS, with the time until
// the next refresh.
func (r *Resolver) lookup(ctx context.Context, name string, hosts *hostsEntry) (translator.DNSAnswer, time.Duration) {
	if hosts != nil {
		// Hosts-file names are refreshed when the file changes, not by TTL.
		return hostsAnswer(hosts), r.opts.MaxTTL
	}
	if isSRVName(name) {
		return r.lookupSRV(ctx, name)
	}
	rt, ips, ttl, err := r.client.lookupIP(ctx, name)
	if err != nil {
		return translator.DNSAnswer{Err: errText(name, err)}, r.opts.RetryInterval
	}
	addrs := make([]translator.Address, len(ips))
	for i, ip := range ips {
		addrs[i] = translator.Address{IP: ip}
	}
	return translator.DNSAnswer{RecordType: rt, Addresses: addrs}, r.clampTTL(ttl)
}

// lookupSRV resolves an SRV name and each of its best-priority targets
// (hosts file, then the additional section, then A/AAAA queries). Targets
// that do not resolve are left out; none at all is a DNS error.
func (r *Resolver) lookupSRV(ctx context.Context, name string) (translator.DNSAnswer, time.Duration) {
	srvs, extra, ttl, err := r.client.lookupSRV(ctx, name)
	if err != nil {
		return translator.DNSAnswer{Err: errText(name, err)}, r.opts.RetryInterval
	}
	var addrs []translator.Address
	var lastErr error
	for _, s := range srvs {
		r.mu.Lock()
		h := r.hosts.table[s.name]
		r.mu.Unlock()
		var ips []string
		switch {
		case h != nil:
			ips = slices.Concat(h.v4, h.v6)
		case len(extra[s.name]) > 0:
			ips = extra[s.name]
		default:
			_, got, t, err := r.client.lookupIP(ctx, dns.Fqdn(s.name))
			if err != nil {
				lastErr = err
				continue
			}
			ips, ttl = got, min(ttl, t)
		}
		for _, ip := range ips {
			addrs = append(addrs, translator.Address{IP: ip, Port: s.port, Weight: s.weight, Name: s.name})
		}
	}
	if len(addrs) == 0 {
		if lastErr == nil {
			lastErr = errNoRecords
		}
		return translator.DNSAnswer{Err: errText(name, lastErr)}, r.opts.RetryInterval
	}
	return translator.DNSAnswer{RecordType: "SRV", Addresses: addrs}, r.clampTTL(ttl)
}

func (r *Resolver) clampTTL(ttl uint32) time.Duration {
	d := time.Duration(ttl) * time.Second
	return min(max(d, r.opts.MinTTL), r.opts.MaxTTL)
}

// hostsAnswer prefers IPv4, as Kong's A-before-AAAA order does: a name with
// both kinds of entries (localhost) answers with its A records only.
func hostsAnswer(h *hostsEntry) translator.DNSAnswer {
	rt, ips := "A", h.v4
	if len(ips) == 0 {
		rt, ips = "AAAA", h.v6
	}
	addrs := make([]translator.Address, len(ips))
	for i, ip := range ips {
		addrs[i] = translator.Address{IP: ip}
	}
	return translator.DNSAnswer{RecordType: rt, Addresses: addrs}
}

func sameAnswer(a, b translator.DNSAnswer) bool {
	return a.RecordType == b.RecordType && a.Err == b.Err && slices.Equal(a.Addresses, b.Addresses)
}

// normalize lower-cases a name and drops the root dot, so that "Example.COM."
// and "example.com" share one entry.
func normalize(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
