package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
	"github.com/switchboard-gw/switchboard/bench/report"
	"github.com/switchboard-gw/switchboard/bench/scenario"
)

// allScenarios in run order.
var allScenarios = []string{"admin", "propagation", "churn", "failover", "overhead", "plugins", "https", "scale", "declarative"}

func main() {
	os.Exit(run())
}

func run() int {
	var (
		quick    = flag.Bool("quick", envBool("BENCH_QUICK"), "small sizes, about a minute (also BENCH_QUICK=1)")
		out      = flag.String("out", "", "report to write (default BENCHMARKS.md; bin/BENCHMARKS.quick.md in quick mode, so that a quick run never replaces the committed figures)")
		only     = flag.String("only", "", "comma-separated scenarios to run: "+strings.Join(allScenarios, ","))
		sbBin    = flag.String("switchboard", "bin/switchboard", "switchboard binary")
		envoyBin = flag.String("envoy", "bin/envoy", "Envoy binary")
		nginxBin = flag.String("nginx", "", "nginx binary (default: nginx on PATH or /usr/sbin/nginx)")
		workDir  = flag.String("workdir", "", "directory for data, configs and logs (default: a temp dir, removed on success)")
		jsonOut  = flag.String("json", "", "also write the raw results as JSON here")
		command  = flag.String("command", "make bench", "the command line recorded in the report")
		maxLoad  = flag.Float64("wait-load", 1.5, "wait (bounded) for the 1-minute load average to drop below this before starting; 0 skips")
		loadWait = flag.Duration("wait-load-bound", 3*time.Minute, "bound of the -wait-load wait")
	)
	propSizes := flag.String("prop-existing", "", "development aid: existing hostless route counts of the propagation runs, e.g. 0,5000 (\"-\" for none)")
	propHostSizes := flag.String("prop-host-existing", "", "development aid: existing route counts of the one-host-per-route runs, e.g. 50000 (\"-\" for none)")
	attack := flag.String("attack", "", "development aid: only run a closed-loop GET load against this URL and print req/s and latency")
	conns := flag.Int("conns", 16, "connections of -attack")
	attackFor := flag.Duration("duration", 5*time.Second, "duration of -attack (after a 1 s warm-up)")
	flag.Parse()
	if *attack != "" {
		r := load.Attack(load.Options{URL: *attack, Connections: *conns, Duration: time.Second + *attackFor, Warmup: time.Second})
		fmt.Printf("%s: %d conns: %.0f req/s, p50 %s, p99 %s, max %s, %d failed\n",
			*attack, *conns, r.Throughput, r.Latency.P50, r.Latency.P99, r.Latency.Max, r.Failed())
		return 0
	}

	if *out == "" {
		*out = "BENCHMARKS.md"
		if *quick {
			*out = filepath.Join("bin", "BENCHMARKS.quick.md")
		}
	}
	bins, err := resolveBins(*sbBin, *envoyBin, *nginxBin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbbench:", err)
		return 2
	}
	scenarios := allScenarios
	if *only != "" {
		scenarios = strings.Split(*only, ",")
		for _, s := range scenarios {
			if !slices.Contains(allScenarios, s) {
				fmt.Fprintf(os.Stderr, "sbbench: unknown scenario %q (have %s)\n", s, strings.Join(allScenarios, ","))
				return 2
			}
		}
	}
	dir := *workDir
	keep := dir != ""
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sbbench-"); err != nil {
			fmt.Fprintln(os.Stderr, "sbbench:", err)
			return 1
		}
	}
	sizes := scenario.FullSizes()
	if *quick {
		sizes = scenario.QuickSizes()
	}
	for _, o := range []struct {
		flag string
		into *[]int
	}{{*propSizes, &sizes.PropExisting}, {*propHostSizes, &sizes.PropHostExisting}} {
		if o.flag == "" {
			continue
		}
		v, err := parseCounts(o.flag)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sbbench:", err)
			return 2
		}
		*o.into = v
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	// An interrupted run stops every child first: no switchboard, Envoy or
	// nginx may outlive the benchmark.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		logf("sbbench: %v: stopping every process started; logs in %s", s, dir)
		harness.StopAll()
		os.Exit(130)
	}()
	if *maxLoad > 0 {
		waitForQuiet(*maxLoad, *loadWait, logf)
	}
	repo, _ := os.Getwd()
	res := &report.Results{
		Command: *command, Quick: *quick, Started: time.Now(),
		Machine: harness.DescribeMachine(bins, repo), Sizes: sizes,
	}
	logf("sbbench: %s, work dir %s, load average %s", mode(*quick), dir, res.Machine.LoadBefore)
	env := &scenario.Env{Bins: bins, WorkDir: dir, Sizes: sizes, Logf: logf}
	failed := false
	for _, name := range scenarios {
		t0 := time.Now()
		logf("== %s", name)
		if err := runScenario(env, name, res); err != nil {
			failed = true
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", name, err))
			logf("!! %s failed: %v", name, err)
		}
		res.Durations = append(res.Durations, report.Duration{Name: name, D: time.Since(t0)})
		logf("== %s done in %s", name, time.Since(t0).Round(time.Second))
	}
	res.Finished = time.Now()
	res.LoadAfter = harness.LoadAverage()
	md := report.Markdown(res)
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "sbbench:", err)
		return 1
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		_ = os.WriteFile(*jsonOut, b, 0o644)
	}
	logf("sbbench: wrote %s in %s", *out, res.Finished.Sub(res.Started).Round(time.Second))
	if failed {
		logf("sbbench: some scenarios failed; logs kept in %s", dir)
		return 1
	}
	if !keep {
		_ = os.RemoveAll(dir)
	}
	return 0
}

// parseCounts reads a comma-separated list of counts; "-" is the empty list.
func parseCounts(s string) ([]int, error) {
	if s == "-" {
		return []int{}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q: want comma-separated counts", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// envBool reads a boolean environment variable: unset, "", "0", "false"
// and "no" are false.
func envBool(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

func mode(quick bool) string {
	if quick {
		return "quick mode"
	}
	return "full run"
}

func runScenario(env *scenario.Env, name string, res *report.Results) error {
	var err error
	switch name {
	case "propagation":
		res.Propagation, err = scenario.Propagation(env)
	case "churn":
		res.Churn, err = scenario.Churn(env)
	case "failover":
		res.Failover, err = scenario.Failover(env)
	case "overhead":
		res.Overhead, err = scenario.Overhead(env)
	case "plugins":
		res.Plugins, err = scenario.Plugins(env)
	case "https":
		res.HTTPS, err = scenario.HTTPS(env)
	case "scale":
		res.Scale, err = scenario.Scale(env)
	case "admin":
		res.Admin, err = scenario.AdminWrites(env)
	case "declarative":
		res.Declarative, err = scenario.Declarative(env)
	}
	return err
}

// resolveBins makes the binaries absolute and finds nginx.
func resolveBins(sb, envoy, nginx string) (harness.Bins, error) {
	var b harness.Bins
	for _, p := range []struct {
		in  string
		out *string
	}{{sb, &b.Switchboard}, {envoy, &b.Envoy}} {
		abs, err := filepath.Abs(p.in)
		if err != nil {
			return b, err
		}
		if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
			return b, fmt.Errorf("%s: not found (run make build envoy)", p.in)
		}
		*p.out = abs
	}
	if nginx == "" {
		if p, err := exec.LookPath("nginx"); err == nil {
			nginx = p
		} else if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
			nginx = "/usr/sbin/nginx"
		}
	}
	b.Nginx = nginx
	return b, nil
}

// waitForQuiet waits, bounded, for the machine's 1-minute load average to
// drop below limit: other work on a shared machine skews every figure.
func waitForQuiet(limit float64, bound time.Duration, logf func(string, ...any)) {
	deadline := time.Now().Add(bound)
	for {
		var l1 float64
		_, _ = fmt.Sscanf(harness.LoadAverage(), "%f", &l1)
		if l1 < limit {
			return
		}
		if time.Now().After(deadline) {
			logf("sbbench: load average still %.2f after %s; running anyway (recorded in the report)", l1, bound)
			return
		}
		logf("sbbench: load average %.2f ≥ %.2f, waiting", l1, limit)
		time.Sleep(15 * time.Second)
	}
}
