package scenario

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
)

// FailoverMode is one health-check setup of scenario 3.
type FailoverMode struct {
	Name         string
	Healthchecks obj // the upstream's healthchecks (nil: Kong's default, off)
	Params       string
}

// failoverModes: Kong's retries (service default 5, on connection errors)
// are on in every mode; the baseline has no health checks at all.
var failoverModes = []FailoverMode{
	{Name: "retries only (no health checks)", Params: "Kong defaults: health checks off"},
	{Name: "active", Params: "active http GET / every 1 s, timeout 1 s, unhealthy after 1 failure",
		Healthchecks: obj{"active": obj{"type": "http", "http_path": "/", "timeout": 1,
			"healthy":   obj{"interval": 1, "successes": 1},
			"unhealthy": obj{"interval": 1, "tcp_failures": 1, "http_failures": 1, "timeouts": 1}}}},
	{Name: "passive", Params: "passive: unhealthy after 1 tcp failure / timeout / 5xx",
		Healthchecks: obj{"passive": obj{"type": "http",
			"healthy":   obj{"successes": 1},
			"unhealthy": obj{"tcp_failures": 1, "http_failures": 1, "timeouts": 1}}}},
	{Name: "active + passive", Params: "both of the above",
		Healthchecks: obj{
			"active": obj{"type": "http", "http_path": "/", "timeout": 1,
				"healthy":   obj{"interval": 1, "successes": 1},
				"unhealthy": obj{"interval": 1, "tcp_failures": 1, "http_failures": 1, "timeouts": 1}},
			"passive": obj{"type": "http",
				"healthy":   obj{"successes": 1},
				"unhealthy": obj{"tcp_failures": 1, "http_failures": 1, "timeouts": 1}}}},
}

// FailoverRow is one mode's result.
type FailoverRow struct {
	Mode    string
	Params  string
	Load    load.Result
	Shifted bool
	// Shift is from the kill to Envoy marking the dead target unhealthy
	// (failed active check or outlier ejection): from then on no request
	// is sent to it, not even a first try.
	Shift time.Duration
	// Retries and ConnectFails are Envoy's cluster counters over the run:
	// requests that needed another try, and failed connects.
	Retries, ConnectFails int64
	BeforeKill, AfterKill map[string]int // answers per backend
}

// Failover runs scenario 3.
func Failover(env *Env) ([]FailoverRow, error) {
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "failover", Envoy: true})
	if err != nil {
		return nil, err
	}
	defer st.Stop()
	ea := harness.NewEnvoyAdmin(st.EnvoyAdminAddr)
	defer ea.Close()
	var rows []FailoverRow
	for i, m := range failoverModes {
		row, err := failoverRun(env, st, ea, fmt.Sprintf("fo-%d", i), m)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", m.Name, err)
		}
		rows = append(rows, row)
		shift := "never"
		if row.Shifted {
			shift = row.Shift.Round(time.Millisecond).String()
		}
		env.logf("  failover %-32s %d requests, %d failed, shifted after %s, %d retried",
			m.Name+":", row.Load.Requests, row.Load.Failed(), shift, row.Retries)
	}
	return rows, nil
}

func failoverRun(env *Env, st *harness.Stack, ea *harness.EnvoyAdmin, up string, m FailoverMode) (FailoverRow, error) {
	sz := env.Sizes
	row := FailoverRow{Mode: m.Name, Params: m.Params}
	alive, err := harness.StartBackend(up+"-a", 1)
	if err != nil {
		return row, err
	}
	defer alive.Close()
	dead, err := harness.StartBackend(up+"-b", 1)
	if err != nil {
		return row, err
	}
	defer dead.Close()
	body := obj{"name": up}
	if m.Healthchecks != nil {
		body["healthchecks"] = m.Healthchecks
	}
	a := st.Admin
	for _, op := range []harness.Op{
		{Method: "POST", Path: "/upstreams", Body: body, Want: 201},
		{Method: "POST", Path: "/upstreams/" + up + "/targets", Body: obj{"target": alive.Addr()}, Want: 201},
		{Method: "POST", Path: "/upstreams/" + up + "/targets", Body: obj{"target": dead.Addr()}, Want: 201},
		{Method: "POST", Path: "/services", Body: obj{"name": up, "host": up}, Want: 201},
		{Method: "POST", Path: "/services/" + up + "/routes", Body: obj{"name": up, "paths": []string{"/" + up}}, Want: 201},
	} {
		if _, err := a.Must(op.Method, op.Path, op.Body, op.Want); err != nil {
			return row, err
		}
	}
	url := st.ProxyURL("/" + up)
	// Both targets answer before the measurement starts.
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	for alive.Hits.Load() == 0 || dead.Hits.Load() == 0 {
		if time.Now().After(deadline) {
			return row, fmt.Errorf("both targets did not get traffic within 30s (a=%d b=%d)", alive.Hits.Load(), dead.Hits.Load())
		}
		status(c, url)
		time.Sleep(2 * time.Millisecond)
	}
	statsBefore, err := clusterCounters(ea, up)
	if err != nil {
		return row, err
	}

	run := load.Start(load.Options{Name: up, URL: url, Rate: sz.LoadRate,
		Duration: sz.FailoverBefore + sz.FailoverBound + sz.FailoverAfter + 5*time.Second, BackendHeader: harness.BackendHeader})
	time.Sleep(sz.FailoverBefore)
	before := map[string]int{"a": int(alive.Hits.Load()), "b": int(dead.Hits.Load())}
	killed := time.Now()
	dead.Close()
	// Envoy's view of the dead target, polled every 5 ms.
	for time.Since(killed) < sz.FailoverBound {
		hosts, err := ea.Hosts("upstream/" + up + "/")
		if err == nil {
			for _, h := range hosts {
				if h.Address == dead.Addr() && (h.FailedActiveHC || h.FailedOutlier) {
					row.Shifted, row.Shift = true, time.Since(killed)
				}
			}
		}
		if row.Shifted {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(sz.FailoverAfter)
	row.Load = run.Stop()
	row.BeforeKill = before
	row.AfterKill = map[string]int{"a": int(alive.Hits.Load()) - before["a"], "b": int(dead.Hits.Load()) - before["b"]}
	statsAfter, err := clusterCounters(ea, up)
	if err != nil {
		return row, err
	}
	row.Retries = statsAfter["upstream_rq_retry"] - statsBefore["upstream_rq_retry"]
	row.ConnectFails = statsAfter["upstream_cx_connect_fail"] - statsBefore["upstream_cx_connect_fail"]
	return row, nil
}

// clusterCounters sums the counters of the upstream's clusters by their
// last name component.
func clusterCounters(ea *harness.EnvoyAdmin, up string) (map[string]int64, error) {
	stats, err := ea.Stats("upstream_rq_retry$|upstream_cx_connect_fail$")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for k, v := range stats {
		if !strings.Contains(k, "upstream/"+up+"/") {
			continue
		}
		out[k[strings.LastIndexByte(k, '.')+1:]] += v
	}
	return out, nil
}
