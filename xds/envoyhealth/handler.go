package envoyhealth

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
)

// nodeJSON is one Envoy in GET /clustering/health.
type nodeJSON struct {
	NodeID       string `json:"node_id"`
	AdminAddress string `json:"admin_address"`
	// PolledAt is the unix time of the last successful poll (null: none);
	// Revision the store revision published when it started.
	PolledAt  *float64       `json:"polled_at"`
	Revision  uint64         `json:"revision"`
	Fresh     bool           `json:"fresh"`
	Error     *string        `json:"error"`
	Upstreams []upstreamJSON `json:"upstreams"`
}

type upstreamJSON struct {
	Name  string     `json:"name"`
	Hosts []hostJSON `json:"hosts"`
}

type hostJSON struct {
	Address  string   `json:"address"`
	Health   string   `json:"health"`
	Reasons  []string `json:"reasons"`
	Clusters []string `json:"clusters"`
}

// Handler serves GET /clustering/health: every polled Envoy with its view
// of each upstream's hosts, in {"data": [...], "next": null} form.
// ?upstream=<name> keeps one upstream. It is the per-node detail behind the
// aggregate of GET /upstreams/{u}/health.
func (p *Poller) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"message":"Method not allowed"}` + "\n"))
			return
		}
		body := struct {
			Data []nodeJSON `json:"data"`
			Next *string    `json:"next"`
		}{Data: p.nodesJSON(r.URL.Query().Get("upstream"))}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(body)
	})
}

func (p *Poller) nodesJSON(only string) []nodeJSON {
	now := p.opts.Now()
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]nodeJSON, 0, len(p.nodes))
	for _, n := range p.nodes {
		j := nodeJSON{NodeID: n.NodeID, AdminAddress: n.AdminAddress, Revision: n.revision, Fresh: p.fresh(n, now), Upstreams: []upstreamJSON{}}
		if !n.polledAt.IsZero() {
			t := float64(n.polledAt.UnixMilli()) / 1000
			j.PolledAt = &t
		}
		if n.lastErr != "" {
			e := n.lastErr
			j.Error = &e
		}
		for name, hosts := range n.view {
			if only != "" && name != only {
				continue
			}
			u := upstreamJSON{Name: name, Hosts: make([]hostJSON, 0, len(hosts))}
			for addr, h := range hosts {
				hj := hostJSON{Address: addr.String(), Health: Healthy.String(), Reasons: h.reasons, Clusters: h.clusters}
				if len(h.reasons) > 0 {
					hj.Health = Unhealthy.String()
				}
				if hj.Reasons == nil {
					hj.Reasons = []string{}
				}
				u.Hosts = append(u.Hosts, hj)
			}
			slices.SortFunc(u.Hosts, func(a, b hostJSON) int { return cmp.Compare(a.Address, b.Address) })
			j.Upstreams = append(j.Upstreams, u)
		}
		slices.SortFunc(j.Upstreams, func(a, b upstreamJSON) int { return cmp.Compare(a.Name, b.Name) })
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b nodeJSON) int { return cmp.Compare(a.NodeID, b.NodeID) })
	return out
}
