package admin

import (
	"net/http"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// Health values of /upstreams/{u}/health, as Kong spells them.
const (
	HealthHealthy         = "HEALTHY"
	HealthUnhealthy       = "UNHEALTHY"
	HealthChecksOff       = "HEALTHCHECKS_OFF"
	HealthDNSError        = "DNS_ERROR"
	dnsUnknown            = "unknown"
	balancerHealthQuery   = "balancer_health"
	balancerHealthEnabled = "1"
)

// HealthSource tells the Admin API what the data plane knows about one
// target: how its name resolved and how healthy each resolved address is.
// The lead wires it from the DNS resolver and, later, from Envoy's own
// health reports; the admin package never talks to either.
//
// TargetHealth is called once per target for every /upstreams/{u}/health
// request, with entities from one store snapshot (shared: do not mutate). It
// must be cheap and must not block on the network: answer from what is
// already known.
//
// An address whose Health is "" is decided by the Admin API from the store:
// HEALTHCHECKS_OFF when the upstream's health checks are off or the target's
// weight is 0, otherwise the manual override set through /healthy or
// /unhealthy, otherwise HEALTHY. A source that knows the real state (Envoy's
// EDS health) fills Health in and is taken as is.
type HealthSource interface {
	TargetHealth(up *store.Upstream, t *store.Target) TargetHealth
}

// TargetHealth is one target as the data plane sees it.
type TargetHealth struct {
	// DNS is Kong's "dns" field: the record type used ("A", "AAAA",
	// "SRV"), "ttl=0, virtual SRV", or the resolver's error text.
	DNS string
	// DNSError reports that the target's name did not resolve; Kong shows
	// such a target as DNS_ERROR with no addresses.
	DNSError bool
	// Addresses are the resolved addresses with their weights.
	Addresses []AddressHealth
}

// AddressHealth is one resolved address of a target.
type AddressHealth struct {
	IP     string
	Port   int
	Weight int
	// Health is HealthHealthy, HealthUnhealthy, HealthChecksOff, or "" to
	// let the Admin API decide (see HealthSource).
	Health string
}

// weightJSON is Kong's weight summary of a target or balancer.
type weightJSON struct {
	Total       int `json:"total"`
	Available   int `json:"available"`
	Unavailable int `json:"unavailable"`
}

type addressJSON struct {
	IP     string `json:"ip"`
	Port   int    `json:"port"`
	Weight int    `json:"weight"`
	Health string `json:"health"`
}

// hostJSON is the balancer's view of one target ("data" in /health, an
// element of details.hosts with ?balancer_health=1).
type hostJSON struct {
	Host       string        `json:"host"`
	Port       int           `json:"port"`
	DNS        string        `json:"dns"`
	NodeWeight int64         `json:"nodeWeight"`
	Weight     weightJSON    `json:"weight"`
	Addresses  []addressJSON `json:"addresses"`
}

// targetHealthJSON is a target entity with its health, as /health lists it.
type targetHealthJSON struct {
	*store.Target
	Health string   `json:"health"`
	Data   hostJSON `json:"data"`
}

type healthPage struct {
	NodeID string  `json:"node_id"`
	Data   []any   `json:"data"`
	Offset *string `json:"offset,omitempty"`
	Next   *string `json:"next"`
}

type balancerHealthJSON struct {
	ID             string          `json:"id"`
	Health         string          `json:"health"`
	BalancerHealth string          `json:"balancer_health"`
	Details        balancerDetails `json:"details"`
}

type balancerDetails struct {
	Healthy bool       `json:"healthy"`
	Weight  weightJSON `json:"weight"`
	Hosts   []hostJSON `json:"hosts"`
}

// handleUpstreamHealth serves /upstreams/{u}/health: every target, newest
// first and paged like target lists, with per-address health; with
// ?balancer_health=1, the upstream's balancer as a whole.
func (s *Server) handleUpstreamHealth(w http.ResponseWriter, r *http.Request) {
	pq, snap, up, targets, ok := s.upstreamTargets(w, r)
	if !ok {
		return
	}
	overrides, err := snap.TargetHealthByUpstream(up.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	manual := make(map[string]bool, len(overrides))
	for _, o := range overrides {
		manual[o.Key()] = o.Healthy
	}
	if r.URL.Query().Get(balancerHealthQuery) == balancerHealthEnabled {
		s.writeJSON(w, r, http.StatusOK, map[string]any{
			"node_id": s.opts.NodeID,
			"data":    s.balancerHealth(up, targets, manual),
			"next":    nil,
		})
		return
	}
	rows, next, err := slicePage(targets, pq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page := healthPage{NodeID: s.opts.NodeID, Data: make([]any, 0, len(rows))}
	for _, t := range rows {
		host, health := s.hostHealth(up, t, manual)
		page.Data = append(page.Data, targetHealthJSON{Target: t, Health: health, Data: host})
	}
	if next != "" {
		link := nextLink("/upstreams/"+rawPathVar(r, "upstreams")+"/health", next, "", pq, false)
		page.Offset, page.Next = &next, &link
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

// balancerHealth is ?balancer_health=1: HEALTHY while the available
// weight exceeds the upstream's threshold percentage of the total.
func (s *Server) balancerHealth(up *store.Upstream, targets []*store.Target, manual map[string]bool) balancerHealthJSON {
	out := balancerHealthJSON{ID: up.ID, Details: balancerDetails{Hosts: make([]hostJSON, 0, len(targets))}}
	for _, t := range targets {
		host, _ := s.hostHealth(up, t, manual)
		out.Details.Hosts = append(out.Details.Hosts, host)
		out.Details.Weight.Total += host.Weight.Total
		out.Details.Weight.Available += host.Weight.Available
		out.Details.Weight.Unavailable += host.Weight.Unavailable
	}
	wt := out.Details.Weight
	out.Details.Healthy = wt.Total > 0 && float64(wt.Available)*100/float64(wt.Total) > up.Healthchecks.Threshold
	out.BalancerHealth = HealthUnhealthy
	if out.Details.Healthy {
		out.BalancerHealth = HealthHealthy
	}
	out.Health = out.BalancerHealth
	if !up.Healthchecks.InUse() {
		out.Health = HealthChecksOff
	}
	return out
}

// hostHealth asks the HealthSource (or the built-in fallback) about one
// target and derives Kong's per-target health.
func (s *Server) hostHealth(up *store.Upstream, t *store.Target, manual map[string]bool) (hostJSON, string) {
	p, _ := schema.ParseHost(t.Target)
	host := hostJSON{Host: p.Host, Port: p.Port, NodeWeight: t.Weight, Addresses: []addressJSON{}}
	var th TargetHealth
	if s.opts.Health != nil {
		th = s.opts.Health.TargetHealth(up, t)
	} else {
		th = fallbackHealth(p, t)
	}
	host.DNS = th.DNS
	if th.DNSError {
		return host, HealthDNSError
	}
	var healthy, unhealthy bool
	for _, a := range th.Addresses {
		health := a.Health
		if health == "" {
			health = decideHealth(up, t, a, manual)
		}
		host.Addresses = append(host.Addresses, addressJSON{IP: a.IP, Port: a.Port, Weight: a.Weight, Health: health})
		host.Weight.Total += a.Weight
		switch health {
		case HealthUnhealthy:
			unhealthy = true
			host.Weight.Unavailable += a.Weight
		case HealthHealthy:
			healthy = true
			host.Weight.Available += a.Weight
		default:
			host.Weight.Available += a.Weight
		}
	}
	switch {
	case len(host.Addresses) == 0:
		return host, HealthDNSError
	case healthy:
		return host, HealthHealthy
	case unhealthy:
		return host, HealthUnhealthy
	default:
		return host, HealthChecksOff
	}
}

// fallbackHealth is what the Admin API can say without a resolver: an IP
// target is its own single address; a name cannot be resolved here.
func fallbackHealth(p schema.Host, t *store.Target) TargetHealth {
	switch p.Kind {
	case schema.HostIPv4:
		return TargetHealth{DNS: "A", Addresses: []AddressHealth{{IP: p.Host, Port: p.Port, Weight: int(t.Weight)}}}
	case schema.HostIPv6:
		return TargetHealth{DNS: "AAAA", Addresses: []AddressHealth{{IP: p.Host, Port: p.Port, Weight: int(t.Weight)}}}
	default:
		return TargetHealth{DNS: dnsUnknown, DNSError: true}
	}
}

// decideHealth applies Kong's rules to an address whose health the source
// left open: no health checker (checks off, or weight 0) means
// HEALTHCHECKS_OFF; otherwise a manual override for the address, then for
// the whole target, else HEALTHY (Kong starts addresses healthy).
func decideHealth(up *store.Upstream, t *store.Target, a AddressHealth, manual map[string]bool) string {
	if !up.Healthchecks.InUse() || t.Weight == 0 {
		return HealthChecksOff
	}
	p, _ := schema.ParseHost(a.IP)
	p.Port, p.HasPort = a.Port, true
	addrKey := (&store.TargetHealth{TargetID: t.ID, Address: p.Format(schema.DefaultTargetPort)}).Key()
	if ok, set := manual[addrKey]; set {
		return healthWord(ok)
	}
	if ok, set := manual[(&store.TargetHealth{TargetID: t.ID}).Key()]; set {
		return healthWord(ok)
	}
	return HealthHealthy
}

func healthWord(healthy bool) string {
	if healthy {
		return HealthHealthy
	}
	return HealthUnhealthy
}
