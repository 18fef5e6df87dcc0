package scenario

import (
	"fmt"
	"slices"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
)

// Overhead targets, in table order.
const (
	TargetDirect  = "a. backend direct"
	TargetSB      = "b. Envoy, configured by switchboard"
	TargetStatic  = "c. Envoy, hand-written config, Kong's behaviour"
	TargetNginx   = "d. nginx reverse proxy"
	TargetBare    = "e. Envoy, hand-written config, routing only"
	overheadRoute = "/o"
)

// OverheadTargets lists the targets in table order.
var OverheadTargets = []string{TargetDirect, TargetSB, TargetStatic, TargetNginx, TargetBare}

// OverheadCell is the median-throughput run of one target at one
// connection count, with every round's throughput for the record.
type OverheadCell struct {
	Target  string
	Conns   int
	Run     load.Result
	Rounds  []float64
	Skipped string // why the target did not run (no nginx)
}

// Overhead runs scenario 4.
func Overhead(env *Env) ([]OverheadCell, error) {
	sz := env.Sizes
	be, err := harness.StartBackend("overhead", 1)
	if err != nil {
		return nil, err
	}
	defer be.Close()
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "overhead", Envoy: true})
	if err != nil {
		return nil, err
	}
	defer st.Stop()
	// The same routing everywhere: prefix /o, path passed unchanged.
	if _, err := st.Admin.Must("POST", "/services", obj{"name": "o", "url": be.URL()}, 201); err != nil {
		return nil, err
	}
	if _, err := st.Admin.Must("POST", "/services/o/routes", obj{"name": "o", "paths": []string{overheadRoute}, "strip_path": false}, 201); err != nil {
		return nil, err
	}
	if _, err := waitStatus(st.Proxy, st.ProxyURL(overheadRoute), 200, 5*time.Millisecond, 30*time.Second); err != nil {
		return nil, err
	}
	urls := map[string]string{
		TargetDirect: be.URL() + overheadRoute + "/x",
		TargetSB:     st.ProxyURL(overheadRoute + "/x"),
	}
	for target, kind := range map[string]string{TargetStatic: harness.StaticKong, TargetBare: harness.StaticBare} {
		static, err := harness.StartStaticEnvoy(env.Bins, st.Dir, kind, overheadRoute, be.Addr())
		if err != nil {
			return nil, err
		}
		defer static.Proc.Stop(5 * time.Second)
		urls[target] = "http://" + static.ProxyAddr + overheadRoute + "/x"
	}
	skipNginx := ""
	if ng, err := harness.StartNginx(env.Bins, st.Dir, overheadRoute, be.Addr()); err != nil {
		skipNginx = err.Error()
		env.logf("  overhead: nginx not run: %v", err)
	} else {
		defer ng.Proc.Stop(5 * time.Second)
		urls[TargetNginx] = "http://" + ng.ProxyAddr + overheadRoute + "/x"
	}

	runs := map[string][]load.Result{}
	key := func(t string, c int) string { return fmt.Sprintf("%s/%d", t, c) }
	// Rounds interleave the targets so that drift on a shared machine
	// spreads over all of them.
	for round := range sz.OverheadRounds {
		for _, conns := range sz.OverheadConns {
			for _, t := range OverheadTargets {
				u, ok := urls[t]
				if !ok {
					continue
				}
				r := load.Attack(load.Options{Name: t, URL: u, Connections: conns,
					Duration: sz.OverheadWarmup + sz.OverheadDuration, Warmup: sz.OverheadWarmup})
				if r.Failed() > 0 {
					return nil, fmt.Errorf("%s, %d connections: %d of %d requests failed (%v %v)",
						t, conns, r.Failed(), r.Requests, r.Non2xx, r.ConnErrors)
				}
				runs[key(t, conns)] = append(runs[key(t, conns)], r)
				env.logf("  overhead round %d: %-38s %2d conns: %8.0f req/s p99 %s", round+1, t, conns, r.Throughput, r.Latency.P99)
			}
		}
	}
	var cells []OverheadCell
	for _, conns := range sz.OverheadConns {
		for _, t := range OverheadTargets {
			rs := runs[key(t, conns)]
			cell := OverheadCell{Target: t, Conns: conns}
			if len(rs) == 0 {
				cell.Skipped = skipNginx
				cells = append(cells, cell)
				continue
			}
			slices.SortFunc(rs, func(a, b load.Result) int {
				switch {
				case a.Throughput < b.Throughput:
					return -1
				case a.Throughput > b.Throughput:
					return 1
				}
				return 0
			})
			for _, r := range rs {
				cell.Rounds = append(cell.Rounds, r.Throughput)
			}
			cell.Run = rs[len(rs)/2]
			cells = append(cells, cell)
		}
	}
	return cells, nil
}
