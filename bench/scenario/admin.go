package scenario

import (
	"fmt"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
)

// AdminRow is scenario 6 for one entity kind at one concurrency.
type AdminRow struct {
	Kind    string
	Clients int
	Writes  int
	PerSec  float64
	Latency load.Summary
}

// AdminWrites runs scenario 6: create services, then routes on them, then
// targets of one upstream, each kind as its own timed batch, with one
// client and with many. Every write is a raft log entry on disk before the
// 201 (the durable store).
func AdminWrites(env *Env) ([]AdminRow, error) {
	sz := env.Sizes
	be, err := harness.StartBackend("admin", 1)
	if err != nil {
		return nil, err
	}
	defer be.Close()
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "admin", Envoy: true})
	if err != nil {
		return nil, err
	}
	defer st.Stop()
	var rows []AdminRow
	for ci, clients := range sz.AdminConc {
		n := sz.AdminWrites[min(ci, len(sz.AdminWrites)-1)]
		up := fmt.Sprintf("adm-%d", clients)
		if _, err := st.Admin.Must("POST", "/upstreams", obj{"name": up}, 201); err != nil {
			return rows, err
		}
		var svcs, routes, tgts []harness.Op
		for i := range n {
			name := fmt.Sprintf("adm-%d-%05d", clients, i)
			svcs = append(svcs, harness.Op{Kind: "service", Method: "POST", Path: "/services",
				Body: obj{"name": name, "url": be.URL()}, Want: 201})
			routes = append(routes, harness.Op{Kind: "route", Method: "POST", Path: "/services/" + name + "/routes",
				Body: obj{"name": name, "paths": []string{fmt.Sprintf("/adm/%d/%05d", clients, i)}}, Want: 201})
			tgts = append(tgts, harness.Op{Kind: "target", Method: "POST", Path: "/upstreams/" + up + "/targets",
				Body: obj{"target": fmt.Sprintf("127.3.%d.%d:%d", clients, i/250, 10000+i%250)}, Want: 201})
		}
		for _, ops := range [][]harness.Op{svcs, routes, tgts} {
			r, err := st.Admin.Batch(ops, clients)
			if err != nil {
				return rows, err
			}
			kind := ops[0].Kind
			row := AdminRow{Kind: kind, Clients: clients, Writes: r.Count,
				PerSec: float64(r.Count) / r.Elapsed.Seconds(), Latency: load.Summarize(r.Latencies[kind])}
			rows = append(rows, row)
			env.logf("  admin: %-7s ×%d, %2d clients: %6.0f writes/s, p50 %s p99 %s max %s", kind, n, clients,
				row.PerSec, row.Latency.P50.Round(10*time.Microsecond), row.Latency.P99.Round(10*time.Microsecond), row.Latency.Max.Round(10*time.Microsecond))
		}
	}
	return rows, nil
}
