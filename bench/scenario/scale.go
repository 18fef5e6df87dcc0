package scenario

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"sigs.k8s.io/yaml"

	"github.com/switchboard-gw/switchboard/bench/adsclient"
	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
)

// ScaleResult is scenario 5.
type ScaleResult struct {
	Services, Routes, Upstreams, Targets int

	// Bulk load through the Admin API.
	LoadWrites    int
	LoadElapsed   time.Duration
	LoadWorkers   int
	LoadLatency   map[string]load.Summary
	LoadCPU       time.Duration
	LoadToPublish time.Duration // last write answered → its config in the xDS cache

	// What every client holds once complete.
	Clusters, EndpointSets, Listeners, RouteConfigs int

	// Connect storm: Clients delta clients and one Envoy at once.
	Clients       int
	ClientTimes   load.Summary // per client, dial → full configuration
	AllClients    time.Duration
	EnvoyComplete time.Duration
	EnvoyOK       bool
	EnvoyDetail   string
	ConnectCPU    time.Duration

	// Single target changes.
	Changes        []ChangeSample
	ChangeFromSend load.Summary // write sent → all clients have it
	ChangeFromAck  load.Summary // Admin API answered → all clients have it
	ChangeCPU      time.Duration
	// EnvoyChange: the same kind of change, on its own, until the real
	// Envoy's config_dump shows the new weight.
	EnvoyChange   load.Summary
	ChangePublish PublishStats

	RSSAfterLoad, RSSAfterConnect, RSSEnd, PeakRSS uint64
	EnvoyRSS                                       uint64
}

// ChangeSample is one single-target change as the clients saw it.
type ChangeSample struct {
	FromSend, FromAck time.Duration
	Received          int // clients that got it within the bound
	BytesPerClient    int // median bytes pushed to one client
	Types             []string
	Resources         []string // resource names pushed (union over clients)
	Expected          string   // the one endpoint set that should be pushed
}

const (
	scaleConnectBound = 3 * time.Minute
	changeBound       = 10 * time.Second
	changeQuiet       = 300 * time.Millisecond
)

// Scale runs scenario 5.
func Scale(env *Env) (*ScaleResult, error) {
	sz := env.Sizes
	res := &ScaleResult{Services: sz.ScaleServices, Routes: sz.ScaleServices, Upstreams: sz.ScaleUpstreams,
		Targets: sz.ScaleTargets, Clients: sz.ScaleClients, LoadWorkers: sz.BulkWorkers}
	probe, err := harness.StartBackend("probe", 1)
	if err != nil {
		return nil, err
	}
	defer probe.Close()
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "scale"})
	if err != nil {
		return nil, err
	}
	defer st.Stop()
	pid := st.CP.Pid()
	cpu0, err := harness.ReadProcStat(pid)
	if err != nil {
		return nil, err
	}

	// Upstreams, then their targets and the services, then the routes.
	// Targets are loopback addresses that no request ever reaches (no
	// health checks, no traffic on their routes).
	var ups, tgts, svcs, routes []harness.Op
	per := max(sz.ScaleTargets/max(sz.ScaleUpstreams, 1), 1)
	for u := range sz.ScaleUpstreams {
		name := fmt.Sprintf("u-%04d", u)
		ups = append(ups, harness.Op{Kind: "upstream", Method: "POST", Path: "/upstreams", Body: obj{"name": name}, Want: 201})
		for j := range per {
			tgts = append(tgts, harness.Op{Kind: "target", Method: "POST", Path: "/upstreams/" + name + "/targets",
				Body: obj{"target": scaleTarget(u, j)}, Want: 201})
		}
	}
	for i := range sz.ScaleServices {
		name := fmt.Sprintf("s-%05d", i)
		svcs = append(svcs, harness.Op{Kind: "service", Method: "POST", Path: "/services",
			Body: obj{"name": name, "host": fmt.Sprintf("u-%04d", i%max(sz.ScaleUpstreams, 1))}, Want: 201})
		routes = append(routes, harness.Op{Kind: "route", Method: "POST", Path: "/services/" + name + "/routes",
			Body: obj{"name": name, "paths": []string{fmt.Sprintf("/s/%05d", i)}}, Want: 201})
	}
	// The probe route, last: it answers through the real Envoy once that
	// has the whole configuration.
	probeOps := []harness.Op{
		{Kind: "upstream", Method: "POST", Path: "/upstreams", Body: obj{"name": "probe"}, Want: 201},
		{Kind: "target", Method: "POST", Path: "/upstreams/probe/targets", Body: obj{"target": probe.Addr()}, Want: 201},
		{Kind: "service", Method: "POST", Path: "/services", Body: obj{"name": "probe", "host": "probe"}, Want: 201},
		{Kind: "route", Method: "POST", Path: "/services/probe/routes", Body: obj{"name": "probe", "paths": []string{"/probe"}}, Want: 201},
	}
	levels := [][]harness.Op{ups, append(tgts, svcs...), routes}
	for _, op := range probeOps {
		levels = append(levels, []harness.Op{op})
	}
	br, err := st.Admin.Levels(sz.BulkWorkers, levels...)
	if err != nil {
		return res, err
	}
	answered := time.Now()
	res.LoadWrites, res.LoadElapsed = br.Count, br.Elapsed
	res.LoadLatency = map[string]load.Summary{}
	for k, v := range br.Latencies {
		res.LoadLatency[k] = load.Summarize(v)
	}
	env.logf("  scale: %d writes in %s (%.0f/s)", br.Count, br.Elapsed.Round(time.Millisecond), float64(br.Count)/br.Elapsed.Seconds())
	if err := waitPublished(st, 2*time.Minute); err != nil {
		return res, err
	}
	res.LoadToPublish = time.Since(answered)
	cpu1, _ := harness.ReadProcStat(pid)
	res.LoadCPU = cpu1.CPU - cpu0.CPU
	res.RSSAfterLoad = cpu1.RSS

	// Connect storm.
	clients, envoyAdmin, err := connectStorm(env, st, res)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	if err != nil {
		return res, err
	}
	cpu2, _ := harness.ReadProcStat(pid)
	res.ConnectCPU = cpu2.CPU - cpu1.CPU
	res.RSSAfterConnect = cpu2.RSS
	env.logf("  scale: %d clients complete after %s (p50 %s), Envoy after %s; RSS %.0f MiB",
		len(clients), res.AllClients.Round(time.Millisecond), res.ClientTimes.P50.Round(time.Millisecond),
		res.EnvoyComplete.Round(time.Millisecond), harness.MiB(res.RSSAfterConnect))

	// Single target changes.
	m0 := readMetrics(st.Admin)
	for k := range sz.ScaleChanges {
		u := (k*37 + 11) % max(sz.ScaleUpstreams, 1)
		s, err := singleChange(st, clients, u, k)
		if err != nil {
			return res, err
		}
		res.Changes = append(res.Changes, s)
	}
	res.ChangePublish = publishStats(m0, readMetrics(st.Admin))
	if res.EnvoyOK {
		var ds []time.Duration
		for k := range sz.ScaleEnvoyChanges {
			u := (k*53 + 7) % max(sz.ScaleUpstreams, 1)
			d, err := envoyChange(st, envoyAdmin, u, 1000+k)
			if err != nil {
				return res, err
			}
			ds = append(ds, d)
		}
		res.EnvoyChange = load.Summarize(ds)
	}
	cpu3, _ := harness.ReadProcStat(pid)
	res.ChangeCPU = cpu3.CPU - cpu2.CPU
	res.RSSEnd, res.PeakRSS = cpu3.RSS, cpu3.PeakRSS
	var fromSend, fromAck []time.Duration
	for _, c := range res.Changes {
		fromSend = append(fromSend, c.FromSend)
		fromAck = append(fromAck, c.FromAck)
	}
	res.ChangeFromSend, res.ChangeFromAck = load.Summarize(fromSend), load.Summarize(fromAck)
	env.logf("  scale: change publishes %+v", res.ChangePublish)
	env.logf("  scale: single change to all %d clients p50 %s p99 %s max %s; %d bytes per client; RSS %.0f MiB (peak %.0f)",
		len(clients), res.ChangeFromAck.P50, res.ChangeFromAck.P99, res.ChangeFromAck.Max,
		res.Changes[0].BytesPerClient, harness.MiB(res.RSSEnd), harness.MiB(res.PeakRSS))
	return res, nil
}

// scaleTarget is target j of upstream u: a loopback address of its own
// (127.1.0.0/16 is loopback too), never contacted.
func scaleTarget(u, j int) string {
	return fmt.Sprintf("127.1.%d.%d:%d", u/250, u%250+1, 10000+j)
}

// waitPublished waits until the xDS cache holds the store's current
// revision (switchboard_xds_published_revision on /metrics).
func waitPublished(st *harness.Stack, bound time.Duration) error {
	r, err := st.Admin.Must("GET", "/services?size=1", nil, 200)
	if err != nil {
		return err
	}
	want := r.Revision
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	var got uint64
	err = harness.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		m, err := st.Admin.Do("GET", "/metrics", nil)
		if err != nil {
			return false, nil
		}
		sc := bufio.NewScanner(strings.NewReader(string(m.Body)))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "switchboard_xds_published_revision "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				got = uint64(f)
			}
		}
		return got >= want, nil
	})
	if err != nil {
		return fmt.Errorf("xds published revision %d, want %d: %w", got, want, err)
	}
	return nil
}

// connectStorm dials every client and starts one real Envoy at once and
// waits until all hold the full configuration.
func connectStorm(env *Env, st *harness.Stack, res *ScaleResult) ([]*adsclient.Client, string, error) {
	ctx := context.Background()
	t0 := time.Now()
	envoyProc, envoyAdmin, err := st.StartExternalEnvoy("scale-envoy", true)
	if err != nil {
		return nil, "", err
	}
	var clients []*adsclient.Client
	for i := range res.Clients {
		c, err := adsclient.Dial(ctx, st.XDSAddr, fmt.Sprintf("sbbench-sim-%03d", i))
		if err != nil {
			return clients, envoyAdmin, err
		}
		clients = append(clients, c)
	}
	deadline := time.After(scaleConnectBound)
	for _, c := range clients {
		select {
		case <-c.Complete():
		case <-deadline:
			return clients, envoyAdmin, fmt.Errorf("%w: %s after %s (err %v)", adsclient.ErrIncomplete, c.ID, scaleConnectBound, c.Err())
		}
	}
	var times []time.Duration
	for _, c := range clients {
		times = append(times, c.TimeToComplete())
	}
	res.ClientTimes = load.Summarize(times)
	res.AllClients = slices.Max(times)
	counts := clients[0].Counts()
	res.Clusters, res.EndpointSets = counts[resourcev3.ClusterType], counts[resourcev3.EndpointType]
	res.Listeners, res.RouteConfigs = counts[resourcev3.ListenerType], counts[resourcev3.RouteType]

	// The Envoy is complete when it has every cluster (ours plus the
	// bootstrap's static ones: xds_cluster, and the loops of the TLS
	// listener and proxy-cache since 2026-12-02), none is warming, and the
	// last route answers.
	ea := harness.NewEnvoyAdmin(envoyAdmin)
	defer ea.Close()
	probe := &http.Client{Timeout: 2 * time.Second}
	defer probe.CloseIdleConnections()
	static, err := staticClusters(filepath.Join(st.Dir, "scale-envoy.yaml"))
	if err != nil {
		return clients, envoyAdmin, err
	}
	want := int64(res.Clusters + static)
	pctx, cancel := context.WithDeadline(ctx, t0.Add(scaleConnectBound))
	defer cancel()
	err = harness.Poll(pctx, 10*time.Millisecond, func() (bool, error) {
		if envoyProc.Exited() {
			return false, fmt.Errorf("envoy exited: %v\n%s", envoyProc.ExitErr(), envoyProc.Tail(20))
		}
		s, err := ea.Stats("cluster_manager.(active|warming)_clusters$")
		if err != nil {
			return false, nil
		}
		res.EnvoyDetail = fmt.Sprintf("active %d of %d clusters, %d warming", s["cluster_manager.active_clusters"], want, s["cluster_manager.warming_clusters"])
		if s["cluster_manager.active_clusters"] != want || s["cluster_manager.warming_clusters"] != 0 {
			return false, nil
		}
		return status(probe, st.ProxyURL("/probe")) == http.StatusOK, nil
	})
	if err != nil {
		res.EnvoyDetail += ": " + err.Error()
		env.logf("  scale: envoy incomplete: %s", res.EnvoyDetail)
	} else {
		res.EnvoyOK, res.EnvoyComplete = true, time.Since(t0)
	}
	if ps, err := harness.ReadProcStat(envoyProc.Pid()); err == nil {
		res.EnvoyRSS = ps.RSS
	}
	return clients, envoyAdmin, nil
}

// envoyChange patches one target's weight and polls the real Envoy's
// config_dump every 2 ms until it shows the new weight.
func envoyChange(st *harness.Stack, envoyAdmin string, u, k int) (time.Duration, error) {
	up := fmt.Sprintf("u-%04d", u)
	target := scaleTarget(u, 0)
	ea := harness.NewEnvoyAdmin(envoyAdmin)
	defer ea.Close()
	weight := 101 + k
	// Isolated changes, like the clients' ones: a write within the publish
	// spacing of the previous publish would wait for it.
	time.Sleep(changeQuiet)
	if _, err := st.Admin.Must("PATCH", "/upstreams/"+up+"/targets/"+target, obj{"weight": weight}, 200); err != nil {
		return 0, err
	}
	acked := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), changeBound)
	defer cancel()
	err := harness.Poll(ctx, 2*time.Millisecond, func() (bool, error) {
		w, err := ea.EndpointWeights("upstream/" + up + "/.*")
		return err == nil && w[target] == weight, nil
	})
	if err != nil {
		return 0, fmt.Errorf("envoy did not show weight %d for %s: %w", weight, target, err)
	}
	return time.Since(acked), nil
}

// singleChange patches one target's weight and waits until every client
// has received the change, then records what was pushed.
func singleChange(st *harness.Stack, clients []*adsclient.Client, u, k int) (ChangeSample, error) {
	up := fmt.Sprintf("u-%04d", u)
	s := ChangeSample{Expected: "upstream/" + up + "/http/60000"}
	for _, c := range clients {
		c.Record()
	}
	sent := time.Now()
	if _, err := st.Admin.Must("PATCH", "/upstreams/"+up+"/targets/"+scaleTarget(u, 0), obj{"weight": 101 + k}, 200); err != nil {
		return s, err
	}
	acked := time.Now()
	var last time.Time
	deadline := acked.Add(changeBound)
	for time.Now().Before(deadline) {
		n := 0
		last = time.Time{}
		for _, c := range clients {
			if r := c.Recorded(); len(r) > 0 {
				n++
				if r[0].At.After(last) {
					last = r[0].At
				}
			}
		}
		s.Received = n
		if n == len(clients) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if s.Received == len(clients) {
		s.FromSend, s.FromAck = last.Sub(sent), last.Sub(acked)
	} else {
		s.FromSend, s.FromAck = changeBound, changeBound
	}
	time.Sleep(changeQuiet) // anything else this change caused arrives now
	types, names := map[string]bool{}, map[string]bool{}
	var bytes []int
	for _, c := range clients {
		total := 0
		for _, r := range c.Recorded() {
			total += r.Bytes
			types[r.TypeURL[strings.LastIndexByte(r.TypeURL, '.')+1:]] = true
			for _, n := range r.Names {
				names[n] = true
			}
			for _, n := range r.Removed {
				names["removed:"+n] = true
			}
		}
		bytes = append(bytes, total)
	}
	slices.Sort(bytes)
	s.BytesPerClient = bytes[len(bytes)/2]
	for t := range types {
		s.Types = append(s.Types, t)
	}
	for n := range names {
		s.Resources = append(s.Resources, n)
	}
	slices.Sort(s.Types)
	slices.Sort(s.Resources)
	return s, nil
}

// staticClusters counts the clusters a bootstrap file defines itself.
func staticClusters(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("envoy bootstrap: %w", err)
	}
	var boot struct {
		StaticResources struct {
			Clusters []json.RawMessage `json:"clusters"`
		} `json:"static_resources"`
	}
	if err := yaml.Unmarshal(b, &boot); err != nil {
		return 0, fmt.Errorf("envoy bootstrap %s: %w", path, err)
	}
	return len(boot.StaticResources.Clusters), nil
}
