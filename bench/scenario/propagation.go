package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
)

// PropagationRow is one run of scenario 1: PropNew routes created one at a
// time on top of Existing routes, each timed from the Admin API's 201 to
// the first 200 through Envoy.
type PropagationRow struct {
	// Shape is ShapeHostless (every route matches on a path only, so each
	// one lands in the shared catch-all virtual host) or ShapeHost (every
	// route has a host of its own, so each is its own virtual host).
	Shape    string
	Existing int
	Loaded   bool
	Latency  load.Summary
	// Write is the Admin API create latency (request sent → 201), which
	// comes before the propagation time.
	Write    load.Summary
	Timeouts int
	// CutShort: the run hit Sizes.PropRunBound before PropNew routes.
	CutShort bool
	// Background is the load that ran meanwhile (Loaded only).
	Background *load.Result
	Publish    PublishStats
	// Envoy is Envoy's own time to apply the route configuration over
	// the run, as its RDS update_duration reports it.
	Envoy EnvoyApply
	// EnvoyAlone is a second Envoy's whole time to apply the same
	// configuration plus one route, read from a file with no control plane
	// (envoyalone.go), under the same load; the hostless goal compares
	// the figure with it. Set on the loaded hostless run at the largest
	// size only. EnvoyAlone has the load aimed at the stack's Envoy (the
	// reference's workers idle); EnvoyAloneLoaded has the reference carry
	// it, the stack idle.
	EnvoyAlone, EnvoyAloneLoaded load.Summary
}

// Route shapes of scenario 1.
const (
	ShapeHostless = "hostless"
	ShapeHost     = "one host per route"
)

// propPollBound bounds the wait for one route.
const propPollBound = 10 * time.Second

// Propagation runs scenario 1.
func Propagation(env *Env) ([]PropagationRow, error) {
	sz := env.Sizes
	be, err := harness.StartBackend("prop", 1)
	if err != nil {
		return nil, err
	}
	defer be.Close()
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "propagation", Envoy: true})
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			st.Stop()
		}
	}()
	a := st.Admin
	for _, svc := range []string{"prop", "bg"} {
		if _, err := a.Must("POST", "/services", obj{"name": svc, "url": be.URL()}, 201); err != nil {
			return nil, err
		}
	}
	if _, err := a.Must("POST", "/services/bg/routes", obj{"name": "steady", "paths": []string{"/steady"}}, 201); err != nil {
		return nil, err
	}
	if _, err := waitStatus(st.Proxy, st.ProxyURL("/steady"), 200, 5*time.Millisecond, 30*time.Second); err != nil {
		return nil, err
	}

	poll := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	defer poll.CloseIdleConnections()
	var rows []PropagationRow
	existing := 0
	for _, base := range sz.PropExisting {
		if base > existing {
			t0 := time.Now()
			if err := bulkServicesRoutes(env, st, be.URL(), existing, base, false); err != nil {
				return rows, err
			}
			env.logf("  propagation: %d existing routes loaded in %s", base, time.Since(t0).Round(time.Millisecond))
			existing = base
		}
		for _, loaded := range []bool{false, true} {
			row, err := propagationRun(env, st, poll, ShapeHostless, base, loaded)
			if err != nil {
				return rows, err
			}
			if loaded && base > 0 && base == sz.PropExisting[len(sz.PropExisting)-1] {
				if row.EnvoyAlone, err = envoyAloneUnderLoad(env, st); err != nil {
					return rows, err
				}
				env.logf("  propagation: Envoy alone with the same %d routes: p50=%s p99=%s", base, row.EnvoyAlone.P50, row.EnvoyAlone.P99)
				if row.EnvoyAloneLoaded, err = envoyAlone(env, st, envoyAloneSamples(sz), be.Addr()); err != nil {
					return rows, err
				}
				env.logf("  propagation: Envoy alone carrying the load, same %d routes: p50=%s p99=%s", base,
					row.EnvoyAloneLoaded.P50, row.EnvoyAloneLoaded.P99)
			}
			rows = append(rows, row)
			env.logf("  propagation: %s existing=%d loaded=%v p50=%s p99=%s max=%s timeouts=%d",
				row.Shape, base, loaded, row.Latency.P50, row.Latency.P99, row.Latency.Max, row.Timeouts)
		}
	}
	if len(sz.PropHostExisting) == 0 {
		return rows, nil
	}
	// The other shape on a stack of its own, under load only (the goal's
	// condition): every route, old and new, has a host of its own.
	st.Stop()
	stopped = true
	hst, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "propagation-hosts", Envoy: true})
	if err != nil {
		return rows, err
	}
	defer hst.Stop()
	for _, svc := range []string{"prop", "bg"} {
		if _, err := hst.Admin.Must("POST", "/services", obj{"name": svc, "url": be.URL()}, 201); err != nil {
			return rows, err
		}
	}
	// The background load's route has a host too: one hostless route
	// would put every route into Kong's single ranked list (one virtual
	// host, each route behind a Host condition: translator/route_table.go),
	// which is the other shape, and Envoy would scan all of them per
	// request (at 50,000 routes the 1,000 req/s fell to 74).
	if _, err := hst.Admin.Must("POST", "/services/bg/routes", obj{"name": "steady", "paths": []string{"/steady"}, "hosts": []string{steadyHost}}, 201); err != nil {
		return rows, err
	}
	if _, err := waitStatusHost(hst.Proxy, hst.ProxyURL("/steady"), steadyHost, 200, 5*time.Millisecond, 30*time.Second); err != nil {
		return rows, err
	}
	existing = 0
	for _, base := range sz.PropHostExisting {
		if base > existing {
			t0 := time.Now()
			if err := bulkServicesRoutes(env, hst, be.URL(), existing, base, true); err != nil {
				return rows, err
			}
			env.logf("  propagation: %d existing routes with hosts loaded in %s", base, time.Since(t0).Round(time.Millisecond))
			existing = base
		}
		row, err := propagationRun(env, hst, poll, ShapeHost, base, true)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
		env.logf("  propagation: %s existing=%d p50=%s p99=%s max=%s timeouts=%d control plane p99 %s",
			row.Shape, base, row.Latency.P50, row.Latency.P99, row.Latency.Max, row.Timeouts, row.Publish.CommitToCacheP99)
	}
	return rows, nil
}

// bulkViaConfigAbove: a larger preload is one POST /config instead of
// one Admin API write per entity. Through the Admin API every write is a
// commit and a publish, and Envoy rebuilds its whole route configuration
// for each publish it receives, O(routes) per update: 50,000 routes took
// 4–8.5 minutes on the shared 2 cores (docs/benchmarks.md), most of the
// benchmark's time budget, for a state the figure does not time. The scale
// scenario still times the Admin API's bulk writes at 10,000.
const bulkViaConfigAbove = 10000

// bulkViaConfig replaces the stack's configuration with the scenario's
// own entities (services prop and bg, route steady) plus bulk services and
// routes 0 … to-1, in one declarative file: one raft entry, one publish.
func bulkViaConfig(st *harness.Stack, url string, to int, hosts bool) error {
	steady := obj{"name": "steady", "paths": []string{"/steady"}}
	if hosts {
		steady["hosts"] = []string{steadyHost}
	}
	svcs := []any{obj{"name": "prop", "url": url}, obj{"name": "bg", "url": url, "routes": []any{steady}}}
	for i := range to {
		name := fmt.Sprintf("bulk-%05d", i)
		route := obj{"name": name, "paths": []string{fmt.Sprintf("/bulk/%05d", i)}}
		if hosts {
			route["hosts"] = []string{bulkHost(i)}
		}
		svcs = append(svcs, obj{"name": name, "url": url, "routes": []any{route}})
	}
	body, err := json.Marshal(obj{"_format_version": "3.0", "services": svcs})
	if err != nil {
		return err
	}
	// A file of tens of thousands of entities takes longer than the Admin
	// client's 30 s bound (validation, one raft entry of megabytes).
	c := &http.Client{Timeout: 10 * time.Minute}
	defer c.CloseIdleConnections()
	resp, err := c.Post(st.Admin.URL("/config"), "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bulk load: POST /config: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bulk load: POST /config: status %d: %s", resp.StatusCode, msg)
	}
	return nil
}

// steadyHost is the background route's host in the one-host-per-route shape.
const steadyHost = "steady.test"

// bulkHost is the host of bulk route i in the one-host-per-route shape.
func bulkHost(i int) string { return fmt.Sprintf("bulk-%05d.test", i) }

// bulkServicesRoutes creates services bulk-from … bulk-to-1 with one route
// each (with a host of its own when hosts), in parallel, and waits until
// the last route answers through Envoy.
func bulkServicesRoutes(env *Env, st *harness.Stack, url string, from, to int, hosts bool) error {
	if to-from > bulkViaConfigAbove {
		if err := bulkViaConfig(st, url, to, hosts); err != nil {
			return err
		}
		return waitBulkRoute(st, to, hosts)
	}
	var svcs, routes []harness.Op
	for i := from; i < to; i++ {
		name := fmt.Sprintf("bulk-%05d", i)
		svcs = append(svcs, harness.Op{Kind: "service", Method: "POST", Path: "/services",
			Body: obj{"name": name, "url": url}, Want: 201})
		body := obj{"name": name, "paths": []string{fmt.Sprintf("/bulk/%05d", i)}}
		if hosts {
			body["hosts"] = []string{bulkHost(i)}
		}
		routes = append(routes, harness.Op{Kind: "route", Method: "POST", Path: "/services/" + name + "/routes",
			Body: body, Want: 201})
	}
	if _, err := st.Admin.Levels(env.Sizes.BulkWorkers, svcs, routes); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	return waitBulkRoute(st, to, hosts)
}

// waitBulkRoute waits until the last bulk route answers through Envoy.
func waitBulkRoute(st *harness.Stack, to int, hosts bool) error {
	host := ""
	if hosts {
		host = bulkHost(to - 1)
	}
	// Generous: at 50,000 routes Envoy takes seconds to apply the route
	// configuration, and a declarative file is one full translation.
	_, err := waitStatusHost(st.Proxy, st.ProxyURL(fmt.Sprintf("/bulk/%05d", to-1)), host, 200, 10*time.Millisecond, 10*time.Minute)
	return err
}

func propagationRun(env *Env, st *harness.Stack, poll *http.Client, shape string, base int, loaded bool) (PropagationRow, error) {
	sz := env.Sizes
	row := PropagationRow{Shape: shape, Existing: base, Loaded: loaded}
	var bg *load.Run
	if loaded {
		o := load.Options{Name: "background", URL: st.ProxyURL(steadyPath), Rate: sz.LoadRate,
			Duration: 5 * time.Minute, Warmup: 0}
		if shape == ShapeHost {
			o.Host = steadyHost
		}
		bg = load.Start(o)
		time.Sleep(time.Second) // let the load reach its rate before measuring
	}
	var lat, write []time.Duration
	var names []string
	m0 := readMetrics(st.Admin)
	tag := "idle"
	if loaded {
		tag = "load"
	}
	if shape == ShapeHost {
		tag += "-h"
	}
	var runErr error
	rds := startRDSSampler(st.EnvoyAdminAddr)
	runDeadline := time.Now().Add(sz.PropRunBound)
	for i := range sz.PropNew {
		if time.Now().After(runDeadline) {
			row.CutShort = true
			break
		}
		name := fmt.Sprintf("new-%d-%s-%04d", base, tag, i)
		path := fmt.Sprintf("/new/%05d/%s/%04d", base, tag, i)
		body, host := obj{"name": name, "paths": []string{path}}, ""
		if shape == ShapeHost {
			host = name + ".test"
			body["hosts"] = []string{host}
		}
		t0 := time.Now()
		if _, err := st.Admin.Must("POST", "/services/prop/routes", body, 201); err != nil {
			runErr = err
			break
		}
		created := time.Now()
		write = append(write, created.Sub(t0))
		names = append(names, name)
		d, ok := pollUntil200(poll, st.ProxyURL(path), host, created)
		if !ok {
			row.Timeouts++
			continue
		}
		lat = append(lat, d)
	}
	row.Envoy = rds.Stop()
	if bg != nil {
		r := bg.Stop()
		row.Background = &r
	}
	if runErr != nil {
		return row, runErr
	}
	row.Latency = load.Summarize(lat)
	row.Write = load.Summarize(write)
	row.Publish = publishStats(m0, readMetrics(st.Admin))
	// Back to exactly base routes for the next run.
	var del []harness.Op
	for _, n := range names {
		del = append(del, harness.Op{Kind: "delete", Method: "DELETE", Path: "/routes/" + n, Want: 204})
	}
	if _, err := st.Admin.Batch(del, sz.BulkWorkers); err != nil {
		return row, err
	}
	if len(names) == 0 {
		return row, nil
	}
	last := fmt.Sprintf("/new/%05d/%s/%04d", base, tag, len(names)-1)
	lastHost := ""
	if shape == ShapeHost {
		lastHost = names[len(names)-1] + ".test"
	}
	_, err := waitStatusHost(poll, st.ProxyURL(last), lastHost, 404, 10*time.Millisecond, 120*time.Second)
	return row, err
}

// envoyAloneUnderLoad runs envoyAlone while the run's background load
// hits the stack's steady route.
func envoyAloneUnderLoad(env *Env, st *harness.Stack) (load.Summary, error) {
	bg := load.Start(load.Options{Name: "background", URL: st.ProxyURL("/steady"), Rate: env.Sizes.LoadRate,
		Duration: 5 * time.Minute, Warmup: 0})
	defer bg.Stop()
	time.Sleep(time.Second) // as propagationRun: let the load reach its rate
	return envoyAlone(env, st, envoyAloneSamples(env.Sizes), "")
}

// pollUntil200 GETs url every millisecond (a request that takes longer is
// followed at once by the next) until one answers 200, and returns the time
// from since to that answer.
func pollUntil200(c *http.Client, url, host string, since time.Time) (time.Duration, bool) {
	deadline := since.Add(propPollBound)
	for {
		start := time.Now()
		if statusHost(c, url, host) == http.StatusOK {
			return time.Since(since), true
		}
		if start.After(deadline) {
			return 0, false
		}
		if wait := time.Millisecond - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
	}
}
