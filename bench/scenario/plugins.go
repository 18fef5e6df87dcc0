package scenario

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
)

// Plugin rows, in table order: what is on the route.
const (
	PluginNone       = "none"
	PluginRLLocal    = "rate-limiting, policy=local"
	PluginRLCluster  = "rate-limiting, policy=cluster"
	PluginKeyAuth    = "key-auth"
	PluginProxyCache = "proxy-cache"
)

// PluginRows lists the rows in table order.
var PluginRows = []string{PluginNone, PluginRLLocal, PluginRLCluster, PluginKeyAuth, PluginProxyCache}

// PluginCell is the median-throughput round of one row at one connection
// count, with every round's throughput.
type PluginCell struct {
	Plugin  string
	Conns   int
	Run     load.Result
	Rounds  []float64
	Skipped string // why the row did not run
}

// PluginsResult is scenario 7: the proxy with each plugin, and the
// rate-limit service alone.
type PluginsResult struct {
	Cells   []PluginCell
	Service RateLimitServiceRun
}

// pluginRoute is one row's route and plugin: limits far above what the
// load reaches, so every request is decided and none is refused.
type pluginRoute struct {
	row, path string
	plugins   []obj
	query     string // appended to the URL (the key-auth key)
}

var pluginRoutes = []pluginRoute{
	{row: PluginNone, path: "/p-none"},
	{row: PluginRLLocal, path: "/p-rl-local", plugins: []obj{{"name": "rate-limiting", "config": obj{"second": 1e9, "policy": "local"}}}},
	{row: PluginRLCluster, path: "/p-rl-cluster", plugins: []obj{{"name": "rate-limiting", "config": obj{"second": 1e9, "policy": "cluster"}}}},
	{row: PluginKeyAuth, path: "/p-key-auth", plugins: []obj{{"name": "key-auth"}}, query: "?apikey=sbbench-key"},
	{row: PluginProxyCache, path: "/p-proxy-cache", plugins: []obj{{"name": "proxy-cache", "config": obj{
		"strategy": "memory", "content_type": []string{"application/json"}, "cache_ttl": 300}}}},
}

// Plugins runs scenario 7: the same closed-loop load as the overhead
// scenario through switchboard's Envoy on routes that differ only in their
// plugin, rows interleaved per round; then the rate-limit service's own
// gRPC throughput (ratelimit_load.go).
func Plugins(env *Env) (*PluginsResult, error) {
	sz := env.Sizes
	be, err := harness.StartBackend("plugins", 1)
	if err != nil {
		return nil, err
	}
	defer be.Close()
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "plugins", Envoy: true})
	if err != nil {
		return nil, err
	}
	defer st.Stop()
	if _, err := st.Admin.Must("POST", "/services", obj{"name": "p", "url": be.URL()}, 201); err != nil {
		return nil, err
	}
	if _, err := st.Admin.Must("POST", "/consumers", obj{"username": "sbbench"}, 201); err != nil {
		return nil, err
	}
	if _, err := st.Admin.Must("POST", "/consumers/sbbench/key-auth", obj{"key": "sbbench-key"}, 201); err != nil {
		return nil, err
	}
	skipped := map[string]string{}
	for _, pr := range pluginRoutes {
		name := strings.TrimPrefix(pr.path, "/")
		if _, err := st.Admin.Must("POST", "/services/p/routes", obj{"name": name, "paths": []string{pr.path}, "strip_path": false}, 201); err != nil {
			return nil, err
		}
		for _, p := range pr.plugins {
			if _, err := st.Admin.Must("POST", "/routes/"+name+"/plugins", p, 201); err != nil {
				skipped[pr.row] = err.Error()
			}
		}
	}
	urls := map[string]string{}
	for _, pr := range pluginRoutes {
		if skipped[pr.row] != "" {
			continue
		}
		u := st.ProxyURL(pr.path + "/x" + pr.query)
		if _, err := waitStatus(st.Proxy, u, 200, 5*time.Millisecond, 30*time.Second); err != nil {
			return nil, fmt.Errorf("%s: %w", pr.row, err)
		}
		urls[pr.row] = u
	}

	runs := map[string][]load.Result{}
	key := func(row string, c int) string { return fmt.Sprintf("%s/%d", row, c) }
	for round := range sz.PluginRounds {
		for _, conns := range sz.PluginConns {
			for _, row := range PluginRows {
				u, ok := urls[row]
				if !ok {
					continue
				}
				r := load.Attack(load.Options{Name: row, URL: u, Connections: conns,
					Duration: sz.OverheadWarmup + sz.OverheadDuration, Warmup: sz.OverheadWarmup})
				if r.Failed() > 0 {
					return nil, fmt.Errorf("%s, %d connections: %d of %d requests failed (%v %v)",
						row, conns, r.Failed(), r.Requests, r.Non2xx, r.ConnErrors)
				}
				runs[key(row, conns)] = append(runs[key(row, conns)], r)
				env.logf("  plugins round %d: %-32s %2d conns: %8.0f req/s p99 %s", round+1, row, conns, r.Throughput, r.Latency.P99)
			}
		}
	}
	res := &PluginsResult{}
	for _, conns := range sz.PluginConns {
		for _, row := range PluginRows {
			cell := PluginCell{Plugin: row, Conns: conns, Skipped: skipped[row]}
			rs := runs[key(row, conns)]
			if len(rs) > 0 {
				slices.SortFunc(rs, func(a, b load.Result) int { return cmpFloat(a.Throughput, b.Throughput) })
				for _, r := range rs {
					cell.Rounds = append(cell.Rounds, r.Throughput)
				}
				cell.Run = rs[len(rs)/2]
			}
			res.Cells = append(res.Cells, cell)
		}
	}
	res.Service, err = loadRateLimitService(st.RateLimitAddr, sz.PluginServiceConc, sz.OverheadDuration)
	if err != nil {
		return nil, fmt.Errorf("rate-limit service: %w", err)
	}
	env.logf("  plugins: rate-limit service, %d concurrent calls: %.0f calls/s p99 %s", res.Service.Concurrency,
		res.Service.Throughput, res.Service.Latency.P99)
	return res, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
