package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
	"github.com/switchboard-gw/switchboard/bench/scenario"
)

// The project's performance goals.
const (
	goalPropagationP99 = 20 * time.Millisecond
	// goalPropagationHostlessP99 is the goal for hostless routes,
	// goalControlPlaneP99 its goal for commit → xDS cache.
	goalPropagationHostlessP99 = 60 * time.Millisecond
	goalControlPlaneP99        = 2 * time.Millisecond
	goalOverheadRatio          = 0.97
	// goalEnvoyApplyRatio bounds hostless propagation p99 by Envoy's own
	// time to apply the route configuration (its p99 in the same run).
	goalEnvoyApplyRatio = 1.2
	goalRSS             = 200 << 20
	goalChangePush      = 20 * time.Millisecond
)

// Markdown renders BENCHMARKS.md.
func Markdown(r *Results) string {
	var b strings.Builder
	b.WriteString("# switchboard benchmarks\n\n")
	b.WriteString("<!-- Written by `make bench` (bench/cmd/sbbench); do not edit by hand. -->\n\n")
	if r.Quick {
		b.WriteString("> **Quick mode** (`BENCH_QUICK=1`): every scenario at small sizes, for development. " +
			"These are not the full-size figures; run `make bench` for those.\n\n")
	}
	fmt.Fprintf(&b, "Produced by `%s` on %s, in %s wall time. Method: [docs/benchmarks.md](docs/benchmarks.md).\n\n",
		r.Command, r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Finished.Sub(r.Started).Round(time.Second))
	writeMachine(&b, r)
	if len(r.Errors) > 0 {
		b.WriteString("## Failed scenarios\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- `%s`\n", strings.ReplaceAll(e, "\n", " "))
		}
		b.WriteString("\n")
	}
	writeGoals(&b, r)
	writePropagation(&b, r)
	writeChurn(&b, r)
	writeFailover(&b, r)
	writeOverhead(&b, r)
	writeScale(&b, r)
	writeAdmin(&b, r)
	writePlugins(&b, r)
	writeHTTPS(&b, r)
	writeDeclarative(&b, r)
	writeAnchors(&b)
	return b.String()
}

func writeMachine(b *strings.Builder, r *Results) {
	m := r.Machine
	b.WriteString("## Machine and versions\n\n")
	t := newTable(b, "", "")
	t.row("CPU", fmt.Sprintf("%s, %d cores", m.CPUModel, m.Cores))
	t.row("memory", m.MemTotal)
	t.row("kernel", m.Kernel)
	t.row("load average (1, 5, 15 min)", fmt.Sprintf("%s before, %s after", m.LoadBefore, r.LoadAfter))
	t.row("Go", m.GoVersion)
	t.row("Envoy", m.Envoy)
	nginx := m.Nginx
	if nginx == "" {
		nginx = "not installed"
	}
	t.row("nginx", nginx)
	t.row("switchboard commit", "`"+m.Commit+"`")
	t.row("date", r.Started.UTC().Format(time.RFC3339))
	var parts []string
	for _, d := range r.Durations {
		parts = append(parts, fmt.Sprintf("%s %s", d.Name, d.D.Round(time.Second)))
	}
	t.row("scenario wall times", strings.Join(parts, ", "))
	b.WriteString("\nEverything runs on this one machine over loopback: load generator (vegeta, as a library), " +
		"backends (Go net/http on their own 127.0.0.x addresses), Envoy, nginx and switchboard share the cores, " +
		"so absolute throughput says more about the machine than about a proxy; the ratios are the comparison.\n\n")
}

func writeGoals(b *strings.Builder, r *Results) {
	b.WriteString("## Goals\n\n")
	t := newTable(b, "scenario", "goal", "measured", "")
	maxHostless := -1
	for _, row := range r.Propagation {
		if row.Shape != scenario.ShapeHost {
			maxHostless = max(maxHostless, row.Existing)
		}
	}
	for i := range r.Propagation {
		row := &r.Propagation[i]
		host := row.Shape == scenario.ShapeHost
		if !row.Loaded || (!host && row.Existing != maxHostless) {
			continue
		}
		goal := goalPropagationP99
		if !host {
			goal = goalPropagationHostlessP99
		}
		t.row("1. route propagation, "+shapeName(row.Shape), fmt.Sprintf("p99 ≤ %s at %s routes under load", ms(goal), num(row.Existing)),
			fmt.Sprintf("p99 %s (p50 %s, max %s)%s", ms(row.Latency.P99), ms(row.Latency.P50), ms(row.Latency.Max), cutShort(row)),
			verdict(row.Latency.P99 <= goal && row.Timeouts == 0 && !row.CutShort))
		if !host {
			t.row("1. route propagation vs Envoy's own apply, hostless", fmt.Sprintf("p99 ≤ %.1f× Envoy alone's p99 for the same configuration, same run", goalEnvoyApplyRatio),
				envoyRatio(row), verdict(aloneReference(row).N > 0 && float64(row.Latency.P99) <= goalEnvoyApplyRatio*float64(aloneReference(row).P99)))
		}
		t.row("1. control-plane share of a route change, "+shapeName(row.Shape), fmt.Sprintf("commit → xDS cache p99 ≤ %s at %s routes", ms(goalControlPlaneP99), num(row.Existing)),
			fmt.Sprintf("p99 ≤ %s (mean %s; incremental translation %s)", ms(row.Publish.CommitToCacheP99), ms(row.Publish.RevisionToPublish), ms(row.Publish.TranslateIncremental)),
			verdict(row.Publish.CommitToCacheP99 > 0 && row.Publish.CommitToCacheP99 <= goalControlPlaneP99))
	}
	if c := r.Churn; c != nil {
		non2xx := c.Load.Requests - c.Load.OK - c.Load.Errors()
		t.row("2. change under traffic", "0 non-2xx, 0 connection errors",
			fmt.Sprintf("%d non-2xx, %d connection errors of %s requests", non2xx, c.Load.Errors(), num(c.Load.Requests)),
			verdict(c.Load.Failed() == 0))
	}
	for _, f := range r.Failover {
		t.row("3. failover: "+f.Mode, "0 failed requests (retries on)",
			fmt.Sprintf("%d failed of %s", f.Load.Failed(), num(f.Load.Requests)), verdict(f.Load.Failed() == 0))
	}
	for _, conns := range r.Sizes.OverheadConns {
		sb, st := findCell(r.Overhead, scenario.TargetSB, conns), findCell(r.Overhead, scenario.TargetStatic, conns)
		if sb == nil || st == nil || st.Run.Throughput == 0 {
			continue
		}
		ratio := sb.Run.Throughput / st.Run.Throughput
		bestRatio := 0.0
		if len(sb.Rounds) > 0 && len(st.Rounds) > 0 {
			bestRatio = slices.Max(sb.Rounds) / slices.Max(st.Rounds)
		}
		bare := ""
		if e := findCell(r.Overhead, scenario.TargetBare, conns); e != nil && e.Run.Throughput > 0 {
			bare = fmt.Sprintf("; routing only: b/e = %.3f", sb.Run.Throughput/e.Run.Throughput)
		}
		t.row(fmt.Sprintf("4. proxy overhead, %d connections", conns), fmt.Sprintf("b/c ≥ %.2f (median rounds)", goalOverheadRatio),
			fmt.Sprintf("b/c = %.3f (best rounds: %.3f)%s", ratio, bestRatio, bare), verdict(ratio >= goalOverheadRatio))
	}
	if s := r.Scale; s != nil {
		t.row("5. control-plane RSS", fmt.Sprintf("≤ 200 MiB at %s routes", num(s.Routes)),
			fmt.Sprintf("%.0f MiB at the end, %.0f MiB peak", harness.MiB(s.RSSEnd), harness.MiB(s.PeakRSS)),
			verdict(s.PeakRSS <= goalRSS))
		if len(s.Changes) > 0 {
			t.row("5. single-change push", fmt.Sprintf("≤ %s to all %d clients", ms(goalChangePush), s.Clients),
				fmt.Sprintf("p99 %s (p50 %s, max %s) from the Admin API's answer", ms(s.ChangeFromAck.P99), ms(s.ChangeFromAck.P50), ms(s.ChangeFromAck.Max)),
				verdict(s.ChangeFromAck.P99 <= goalChangePush))
			one := onlyOneSet(s)
			t.row("5. single-change push", "one cluster's endpoints, not the world",
				fmt.Sprintf("%s bytes per client, %s", num(s.Changes[0].BytesPerClient), describePush(s.Changes[0])), verdict(one))
		}
	}
	b.WriteString("\nWhat in the product causes each miss, with profiles: " +
		"[docs/benchmarks.md, What limits the figures](docs/benchmarks.md#what-limits-the-figures).\n\n")
}

func cutShort(p *scenario.PropagationRow) string {
	if !p.CutShort {
		return ""
	}
	return fmt.Sprintf("; only %d of the routes within the run bound", p.Latency.N)
}

func onlyOneSet(s *scenario.ScaleResult) bool {
	for _, c := range s.Changes {
		if len(c.Resources) != 1 || c.Resources[0] != c.Expected || len(c.Types) != 1 || c.Types[0] != "ClusterLoadAssignment" {
			return false
		}
	}
	return len(s.Changes) > 0
}

func describePush(c scenario.ChangeSample) string {
	return fmt.Sprintf("%s of %s", strings.Join(c.Types, "+"), strings.Join(c.Resources, ", "))
}

func findCell(cells []scenario.OverheadCell, target string, conns int) *scenario.OverheadCell {
	for i := range cells {
		if cells[i].Target == target && cells[i].Conns == conns && cells[i].Skipped == "" {
			return &cells[i]
		}
	}
	return nil
}

func writePropagation(b *strings.Builder, r *Results) {
	if len(r.Propagation) == 0 {
		return
	}
	fmt.Fprintf(b, "## 1. Route propagation\n\n%d new routes are created one at a time (`POST /services/prop/routes`); each is timed "+
		"from the Admin API's 201 to the first 200 through Envoy, polling every 1 ms. Existing routes each have their "+
		"own service (and so their own Envoy cluster). Background load: %s req/s (vegeta, keep-alive) on another route. "+
		"A run stops early at %s (the bound of the whole benchmark) and says so.\n\n",
		r.Sizes.PropNew, num(r.Sizes.LoadRate), r.Sizes.PropRunBound)
	t := newTable(b, "route shape", "existing routes", "background load", "routes timed", "p50", "p99", "max", "timeouts", "write (POST→201) p50 / p99",
		"background achieved, failed", "switchboard: commit→xDS cache p99 / mean", "translation, incremental / full (mean)",
		"Envoy applying RDS p50 / p99", "Envoy alone, same config: p50 / p99")
	for _, p := range r.Propagation {
		bg, bgr := "none", "—"
		if p.Loaded {
			bg = num(r.Sizes.LoadRate) + " req/s"
			if p.Background != nil {
				bgr = fmt.Sprintf("%s req/s, %d failed", rate(p.Background.Rate), p.Background.Failed())
			}
		}
		n := num(p.Latency.N)
		if p.CutShort {
			n += fmt.Sprintf(" (run bound %s reached)", r.Sizes.PropRunBound)
		}
		t.row(shapeName(p.Shape), num(p.Existing), bg, n, ms(p.Latency.P50), ms(p.Latency.P99), ms(p.Latency.Max), fmt.Sprint(p.Timeouts),
			ms(p.Write.P50)+" / "+ms(p.Write.P99), bgr, "≤ "+ms(p.Publish.CommitToCacheP99)+" / "+ms(p.Publish.RevisionToPublish),
			fmt.Sprintf("%s (%d) / %s (%d)", ms(p.Publish.TranslateIncremental), p.Publish.Incremental, ms(p.Publish.TranslateFull), p.Publish.Full),
			envoyApply(p.Envoy), envoyAlone(p.EnvoyAlone, p.EnvoyAloneLoaded))
	}
	b.WriteString("\nShapes: *hostless* routes match on a path only (all in Envoy's catch-all virtual host); *one host per route* gives " +
		"every route, existing and new, a host of its own (requests carry it), measured on a stack of its own under load. " +
		"The last two columns are switchboard's own metrics over the run (`switchboard_xds_commit_to_cache_seconds`, the control " +
		"plane's share of a change, p99 as the upper bound of its histogram bucket; " +
		"`switchboard_xds_translation_duration_seconds` by mode, with the number of publishes of each): they show where the time goes, they are not the figure. " +
		"The last column is Envoy's own `rds.<name>.update_duration`, read every stats interval (5 s) during the run: the " +
		"median of the intervals' p50 and the highest interval p99 (— when no interval held an update): the part of Envoy's " +
		"work it times (not the decoding of the update nor the hand-over to the workers). *Envoy alone* is Envoy's whole " +
		"time for the same work without switchboard, the reference of the hostless goal: after the loaded hostless run at the " +
		"largest size, a second Envoy (same binary) reads that run's route configuration from a file (binary proto, " +
		"`path_config_source`), and as many times as the run creates routes (" + num(r.Sizes.PropNew) + ", so that both p99s are the same rank) " +
		"a direct-response route is added to it and timed from " +
		"the file's rename to the first 200 through its listener, polled as above, under the same background load, twice: aimed " +
		"at the stack's Envoy (the reference's workers idle, *idle workers*), then carried by the reference itself, its steady " +
		"route forwarding to the same backend, with the stack idle (*loaded*). The goal compares with the loaded reference, " +
		"Envoy's own time under the same traffic (docs/decisions.md, 2026-12-03); both are shown " +
		"(bench/scenario/envoyalone.go).\n\n")
}

func writeChurn(b *strings.Builder, r *Results) {
	c := r.Churn
	if c == nil {
		return
	}
	fmt.Fprintf(b, "## 2. Change under traffic\n\nA steady route (an upstream with one target) carries %s req/s while %d other routes "+
		"and %d targets **of the steady route's own upstream** (live backends) are added, modified (route paths and methods, "+
		"target weights) and deleted by 4 parallel Admin API clients, paced at %.0f writes/s in total.\n\n",
		num(r.Sizes.LoadRate), c.Routes, c.Targets, c.Rate)
	t := newTable(b, "writes", "write time", "requests", "non-2xx", "connection errors", "p50", "p99", "max", "answered by churned targets")
	t.row(num(c.Writes), secs(c.WriteElapsed), num(c.Load.Requests), fmtNon2xx(c.Load), fmtErrors(c.Load),
		ms(c.Load.Latency.P50), ms(c.Load.Latency.P99), ms(c.Load.Latency.Max), num(c.ChurnHits))
	b.WriteString("\n")
}

func fmtNon2xx(r load.Result) string {
	n := r.Requests - r.OK - r.Errors()
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", n, load.FormatCounts(r.Non2xx, func(k int) string { return fmt.Sprint(k) }))
}

func fmtErrors(r load.Result) string {
	n := r.Errors()
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", n, load.FormatCounts(r.ConnErrors, func(k string) string { return k }))
}

func writeFailover(b *strings.Builder, r *Results) {
	if len(r.Failover) == 0 {
		return
	}
	fmt.Fprintf(b, "## 3. Failover\n\nAn upstream with two targets (live backends) carries %s req/s; after %s one backend is "+
		"closed (listener and open connections, like a crash). Service retries are Kong's default (5, on connection "+
		"failures and resets). *Shift* is the time from the kill until Envoy marks the dead target unhealthy (failed "+
		"active check or outlier ejection, polled every 5 ms on Envoy's /clusters): from then on no request tries it first.\n\n",
		num(r.Sizes.LoadRate), r.Sizes.FailoverBefore)
	t := newTable(b, "health checks", "requests", "failed", "shift", "retried (Envoy)", "connect failures (Envoy)", "p99", "max", "settings")
	for _, f := range r.Failover {
		shift := fmt.Sprintf("never (within %s)", r.Sizes.FailoverBound)
		if f.Shifted {
			shift = ms(f.Shift)
		}
		failed := fmt.Sprint(f.Load.Failed())
		if f.Load.Failed() > 0 {
			failed = fmt.Sprintf("%d: %s; %s", f.Load.Failed(), fmtNon2xx(f.Load), fmtErrors(f.Load))
		}
		t.row(f.Mode, num(f.Load.Requests), failed, shift, fmt.Sprint(f.Retries), fmt.Sprint(f.ConnectFails),
			ms(f.Load.Latency.P99), ms(f.Load.Latency.Max), f.Params)
	}
	b.WriteString("\n")
}

func writeOverhead(b *strings.Builder, r *Results) {
	if len(r.Overhead) == 0 {
		return
	}
	sz := r.Sizes
	fmt.Fprintf(b, "## 4. Proxy overhead\n\nThe same closed-loop load (vegeta, HTTP/1.1 keep-alive, one request in flight per "+
		"connection, GET /o/x, %s measured after %s warm-up) against (a) the backend, (b) the Envoy switchboard configures "+
		"for `paths=/o`, `strip_path=false`, (c) the same Envoy binary with a hand-written static config giving a client and "+
		"the backend what Kong gives them (X-Forwarded-* and X-Real-IP headers, the service's Host, Kong's retries, timeouts, "+
		"path normalisation and error bodies), written as an Envoy expert would for this one route, (d) nginx from the OS "+
		"packages as a reverse proxy with an upstream keep-alive pool, (e) the same Envoy with only the routing (one "+
		"listener, one prefix route, one static cluster: the ceiling for any config). Configs: bench/harness/staticenvoy.go. "+
		"%d rounds, targets interleaved; the median-throughput round is shown.\n\n",
		sz.OverheadDuration, sz.OverheadWarmup, sz.OverheadRounds)
	t := newTable(b, "target", "connections", "req/s", "p50", "p99", "max", "rounds (req/s)")
	for _, c := range r.Overhead {
		if c.Skipped != "" {
			t.row(c.Target, fmt.Sprint(c.Conns), "not run: "+c.Skipped, "", "", "", "")
			continue
		}
		t.row(c.Target, fmt.Sprint(c.Conns), rate(c.Run.Throughput), ms(c.Run.Latency.P50), ms(c.Run.Latency.P99),
			ms(c.Run.Latency.Max), roundRates(c.Rounds))
	}
	b.WriteString("\nRatios of (b), switchboard's Envoy, to the others (req/s of the median rounds; p99 of those rounds, " +
		"lower is better for b). Other work on a shared machine can only take throughput away, so the ratio of the *best* " +
		"rounds is shown too; when the two disagree, the difference is within this machine's noise.\n\n")
	t = newTable(b, "connections", "b/a req/s", "b/c req/s", "b/d req/s", "b/e req/s", "b/a p99", "b/c p99", "b/d p99", "b/e p99", "b/c best rounds")
	for _, conns := range sz.OverheadConns {
		sb := findCell(r.Overhead, scenario.TargetSB, conns)
		if sb == nil {
			continue
		}
		cells := []string{fmt.Sprint(conns)}
		var p99s []string
		for _, other := range []string{scenario.TargetDirect, scenario.TargetStatic, scenario.TargetNginx, scenario.TargetBare} {
			o := findCell(r.Overhead, other, conns)
			if o == nil || o.Run.Throughput == 0 {
				cells = append(cells, "—")
				p99s = append(p99s, "—")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.3f", sb.Run.Throughput/o.Run.Throughput))
			p99s = append(p99s, fmt.Sprintf("%.2f", float64(sb.Run.Latency.P99)/float64(o.Run.Latency.P99)))
		}
		best := "—"
		if st := findCell(r.Overhead, scenario.TargetStatic, conns); st != nil && len(st.Rounds) > 0 && len(sb.Rounds) > 0 {
			best = fmt.Sprintf("%.3f", slices.Max(sb.Rounds)/slices.Max(st.Rounds))
		}
		t.row(append(append(cells, p99s...), best)...)
	}
	b.WriteString("\n")
}

func writeScale(b *strings.Builder, r *Results) {
	s := r.Scale
	if s == nil {
		return
	}
	fmt.Fprintf(b, "## 5. Control-plane scale\n\n%s services with one route each, %s upstreams, %s targets (%d per upstream; "+
		"every service points at an upstream), loaded through the Admin API by %d parallel clients. Then %d simulated "+
		"delta-ADS clients (go-control-plane protos over gRPC, in the benchmark process: wildcard CDS/LDS, EDS and RDS for "+
		"what those name, ACK every response) and one real Envoy (delta xDS, from `switchboard envoy-bootstrap`) connect at "+
		"once. CPU and RSS of the switchboard process from /proc.\n\n",
		num(s.Services), num(s.Upstreams), num(s.Targets), s.Targets/max(s.Upstreams, 1), s.LoadWorkers, s.Clients)
	t := newTable(b, "", "")
	t.row("bulk load", fmt.Sprintf("%s writes in %s (%s writes/s); config in the xDS cache %s after the last answer",
		num(s.LoadWrites), secs(s.LoadElapsed), rate(float64(s.LoadWrites)/s.LoadElapsed.Seconds()), ms(s.LoadToPublish)))
	t.row("control-plane CPU during the load", secs(s.LoadCPU))
	t.row("configuration each client holds", fmt.Sprintf("%s clusters, %s endpoint sets, %d listener(s), %d route configuration(s)",
		num(s.Clusters), num(s.EndpointSets), s.Listeners, s.RouteConfigs))
	t.row(fmt.Sprintf("time to full config, %d clients", s.Clients), fmt.Sprintf("all: %s; per client p50 %s, p99 %s, max %s",
		ms(s.AllClients), ms(s.ClientTimes.P50), ms(s.ClientTimes.P99), ms(s.ClientTimes.Max)))
	envoy := "not complete: " + s.EnvoyDetail
	if s.EnvoyOK {
		envoy = ms(s.EnvoyComplete) + " (all clusters active, none warming, the last route answers)"
	}
	t.row("time to full config, real Envoy", envoy)
	t.row("control-plane CPU during the connect storm", secs(s.ConnectCPU))
	t.row("control-plane RSS", fmt.Sprintf("%.0f MiB after the load, %.0f MiB with all clients, %.0f MiB at the end; peak (VmHWM) %.0f MiB",
		harness.MiB(s.RSSAfterLoad), harness.MiB(s.RSSAfterConnect), harness.MiB(s.RSSEnd), harness.MiB(s.PeakRSS)))
	if s.EnvoyRSS > 0 {
		t.row("real Envoy RSS", fmt.Sprintf("%.0f MiB", harness.MiB(s.EnvoyRSS)))
	}
	if len(s.Changes) > 0 {
		t.row(fmt.Sprintf("single target change (%d changes, weight PATCH), to all %d clients", len(s.Changes), s.Clients),
			fmt.Sprintf("from the Admin API's answer p50 %s, p99 %s, max %s; from the write sent p50 %s, p99 %s, max %s",
				ms(s.ChangeFromAck.P50), ms(s.ChangeFromAck.P99), ms(s.ChangeFromAck.Max),
				ms(s.ChangeFromSend.P50), ms(s.ChangeFromSend.P99), ms(s.ChangeFromSend.Max)))
		var bytes []int
		for _, c := range s.Changes {
			bytes = append(bytes, c.BytesPerClient)
		}
		slices.Sort(bytes)
		t.row("bytes pushed per client for one change", fmt.Sprintf("%s–%s bytes (%s total to %d clients); e.g. %s",
			num(bytes[0]), num(bytes[len(bytes)-1]), num(bytes[len(bytes)/2]*s.Clients), s.Clients, describePush(s.Changes[0])))
		if s.EnvoyChange.N > 0 {
			t.row(fmt.Sprintf("single target change, real Envoy (%d more changes)", s.EnvoyChange.N),
				fmt.Sprintf("from the Admin API's answer until Envoy's config_dump shows the new weight (polled every 2 ms): p50 %s, p99 %s, max %s",
					ms(s.EnvoyChange.P50), ms(s.EnvoyChange.P99), ms(s.EnvoyChange.Max)))
		}
		t.row("control-plane CPU for the changes", secs(s.ChangeCPU))
		p := s.ChangePublish
		t.row("switchboard's metrics for the changes", fmt.Sprintf("%d incremental, %d endpoints-only and %d full publishes; "+
			"incremental translation %s (mean); commit→xDS cache p99 ≤ %s, mean %s (includes handing the update to every "+
			"client's watch); %s xDS responses",
			p.Incremental, p.Endpoints, p.Full, ms(p.TranslateIncremental), ms(p.CommitToCacheP99), ms(p.RevisionToPublish), fmtPushes(p.Pushes)))
	}
	b.WriteString("\nAdmin API latency during the bulk load:\n\n")
	t = newTable(b, "kind", "writes", "p50", "p99", "max")
	for _, k := range []string{"upstream", "target", "service", "route"} {
		l, ok := s.LoadLatency[k]
		if !ok {
			continue
		}
		t.row(k, num(l.N), ms(l.P50), ms(l.P99), ms(l.Max))
	}
	b.WriteString("\n")
}

func fmtPushes(m map[string]int) string {
	if len(m) == 0 {
		return "no"
	}
	return load.FormatCounts(m, func(k string) string { return k })
}

func writeAdmin(b *strings.Builder, r *Results) {
	if len(r.Admin) == 0 {
		return
	}
	b.WriteString("## 6. Admin API writes\n\nCreates through the Admin API (JSON bodies) on a running stack with a local Envoy; " +
		"every write is a raft log entry synced to disk before the 201. Each kind is its own timed batch.\n\n")
	t := newTable(b, "entity", "parallel clients", "writes", "writes/s", "p50", "p99", "max")
	for _, a := range r.Admin {
		t.row(a.Kind, fmt.Sprint(a.Clients), num(a.Writes), rate(a.PerSec), ms(a.Latency.P50), ms(a.Latency.P99), ms(a.Latency.Max))
	}
	b.WriteString("\n")
}

func writeAnchors(b *strings.Builder) {
	b.WriteString("## Published anchors\n\nPublished by others (one 16-core host, 2024–25; not measured here): a new route starts " +
		"answering after ≈300 ms with Istio, ≈600 ms with Envoy Gateway (≈2 s under load, with ~15k 503s during route " +
		"churn), ≈3 s with Kong via its ingress controller, ≈30 ms with the fastest tested; Envoy Gateway's controller " +
		"uses ≈190 MiB at 1,000 routes.\n")
}

// shapeName names a propagation shape; rows of an older run have none.
func shapeName(s string) string {
	if s == "" {
		return scenario.ShapeHostless
	}
	return s
}

// aloneReference is the Envoy-alone run the hostless goal compares with:
// the one carrying the background load itself, else (older results) the
// one with idle workers.
func aloneReference(p *scenario.PropagationRow) load.Summary {
	if p.EnvoyAloneLoaded.N > 0 {
		return p.EnvoyAloneLoaded
	}
	return p.EnvoyAlone
}

// envoyRatio compares a run's propagation p99 with Envoy's own time for
// the same configuration (Envoy alone), the other reference and RDS
// update_duration beside it.
func envoyRatio(p *scenario.PropagationRow) string {
	ref := aloneReference(p)
	if ref.N == 0 {
		return fmt.Sprintf("p99 %s; Envoy alone not measured (RDS update_duration p99 %s)", ms(p.Latency.P99), ms(p.Envoy.P99))
	}
	label, other := "carrying the same load", ""
	if p.EnvoyAloneLoaded.N == 0 {
		label = "its workers idle"
	}
	if p.EnvoyAloneLoaded.N > 0 && p.EnvoyAlone.N > 0 {
		other = fmt.Sprintf("; with its workers idle %s: %.2f×", ms(p.EnvoyAlone.P99), float64(p.Latency.P99)/float64(p.EnvoyAlone.P99))
	}
	return fmt.Sprintf("p99 %s vs Envoy alone's %s at %s routes, %s: %.2f×%s (Envoy's RDS update_duration p99 %s: %.2f×)",
		ms(p.Latency.P99), ms(ref.P99), num(p.Existing), label, float64(p.Latency.P99)/float64(ref.P99), other,
		ms(p.Envoy.P99), ratioOr0(p.Latency.P99, p.Envoy.P99))
}

func ratioOr0(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// envoyAlone shows the reference runs' p50 / p99 (idle workers, then
// loaded), "—" where none ran.
func envoyAlone(idle, loaded load.Summary) string {
	var parts []string
	if idle.N > 0 {
		parts = append(parts, "idle workers "+ms(idle.P50)+" / "+ms(idle.P99))
	}
	if loaded.N > 0 {
		parts = append(parts, "loaded "+ms(loaded.P50)+" / "+ms(loaded.P99))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "; ")
}

// envoyApply shows Envoy's RDS apply time, "—" when its last stats
// interval held no update.
func envoyApply(e scenario.EnvoyApply) string {
	if e.P99 == 0 {
		return "—"
	}
	return ms(e.P50) + " / " + ms(e.P99)
}
