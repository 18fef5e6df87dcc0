package scenario

import (
	"fmt"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
)

// ChurnResult is scenario 2: a steady route under constant load while
// other routes and the steady upstream's own targets are added, modified
// and deleted.
type ChurnResult struct {
	Routes, Targets int // entities churned (each added, modified, deleted)
	Writes          int
	WriteElapsed    time.Duration
	Rate            float64 // writes per second asked for
	Load            load.Result
	// ChurnHits is how many steady requests the churned targets answered:
	// the target changes were live in the data path, not only in config.
	ChurnHits int
}

// Churn runs scenario 2.
func Churn(env *Env) (*ChurnResult, error) {
	sz := env.Sizes
	steady, err := harness.StartBackend("steady", 1)
	if err != nil {
		return nil, err
	}
	defer steady.Close()
	churn, err := harness.StartBackend("churn", sz.ChurnTargets)
	if err != nil {
		return nil, err
	}
	defer churn.Close()
	other, err := harness.StartBackend("other", 1)
	if err != nil {
		return nil, err
	}
	defer other.Close()
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "churn", Envoy: true})
	if err != nil {
		return nil, err
	}
	defer st.Stop()
	a := st.Admin
	for _, op := range []harness.Op{
		{Method: "POST", Path: "/upstreams", Body: obj{"name": "steady"}, Want: 201},
		{Method: "POST", Path: "/upstreams/steady/targets", Body: obj{"target": steady.Addr()}, Want: 201},
		{Method: "POST", Path: "/services", Body: obj{"name": "steady", "host": "steady"}, Want: 201},
		{Method: "POST", Path: "/services/steady/routes", Body: obj{"name": "steady", "paths": []string{"/steady"}}, Want: 201},
		{Method: "POST", Path: "/services", Body: obj{"name": "other", "url": other.URL()}, Want: 201},
	} {
		if _, err := a.Must(op.Method, op.Path, op.Body, op.Want); err != nil {
			return nil, err
		}
	}
	if _, err := waitStatus(st.Proxy, st.ProxyURL("/steady"), 200, 5*time.Millisecond, 30*time.Second); err != nil {
		return nil, err
	}

	// Three phases (add, modify, delete); within each, route and target
	// writes interleave and four clients send them in parallel, paced so
	// that the changes spread over seconds of traffic and most of them
	// reach Envoy as publishes of their own rather than one burst.
	var add, modify, del []harness.Op
	nr, nt := sz.ChurnRoutes, sz.ChurnTargets
	every := max(nr/max(nt, 1), 1)
	ti := 0
	for i := range nr {
		name := fmt.Sprintf("churn-%04d", i)
		add = append(add, harness.Op{Kind: "route", Method: "POST", Path: "/services/other/routes",
			Body: obj{"name": name, "paths": []string{fmt.Sprintf("/churn/%04d", i)}}, Want: 201})
		modify = append(modify, harness.Op{Kind: "route", Method: "PATCH", Path: "/routes/" + name,
			Body: obj{"paths": []string{fmt.Sprintf("/churned/%04d", i)}, "methods": []string{"GET"}}, Want: 200})
		del = append(del, harness.Op{Kind: "route", Method: "DELETE", Path: "/routes/" + name, Want: 204})
		if i%every == 0 && ti < nt {
			t := churn.Addr(ti)
			add = append(add, harness.Op{Kind: "target", Method: "POST", Path: "/upstreams/steady/targets",
				Body: obj{"target": t, "weight": 100}, Want: 201})
			modify = append(modify, harness.Op{Kind: "target", Method: "PATCH", Path: "/upstreams/steady/targets/" + t,
				Body: obj{"weight": 50}, Want: 200})
			del = append(del, harness.Op{Kind: "target", Method: "DELETE", Path: "/upstreams/steady/targets/" + t, Want: 204})
			ti++
		}
	}

	run := load.Start(load.Options{Name: "steady", URL: st.ProxyURL("/steady"), Rate: sz.LoadRate,
		Duration: 5 * time.Minute, BackendHeader: harness.BackendHeader})
	time.Sleep(time.Second)
	var br harness.BatchResult
	var werr error
	for _, ops := range [][]harness.Op{add, modify, del} {
		r, err := a.Paced(ops, 4, sz.ChurnRate)
		br.Count += r.Count
		br.Elapsed += r.Elapsed
		if err != nil {
			werr = err
			break
		}
	}
	// Let the last changes reach Envoy under load.
	time.Sleep(2 * time.Second)
	res := &ChurnResult{Rate: sz.ChurnRate, Routes: nr, Targets: ti, Writes: br.Count, WriteElapsed: br.Elapsed, Load: run.Stop()}
	res.ChurnHits = res.Load.Backends["churn"]
	if werr != nil {
		return res, werr
	}
	env.logf("  churn: %d writes in %s; steady route: %d requests, %d non-2xx, %d connection errors, %d answered by churned targets",
		res.Writes, res.WriteElapsed.Round(time.Millisecond), res.Load.Requests,
		res.Load.Requests-res.Load.OK-res.Load.Errors(), res.Load.Errors(), res.ChurnHits)
	return res, nil
}
