package scenario

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
)

// Sizes bound every scenario. Full is the committed run; Quick runs each
// scenario small, for development.
type Sizes struct {
	Quick bool

	PropExisting []int // existing routes before each propagation run
	// PropHostExisting: the same with a host per route, under load only.
	PropHostExisting []int
	PropNew          int // routes created one at a time per run
	// PropRunBound bounds one propagation run: when a large config makes
	// every route slow, the run stops early and reports how many it did.
	PropRunBound time.Duration
	LoadRate     int // background / steady load, requests per second

	ChurnRoutes, ChurnTargets int
	ChurnRate                 float64 // writes per second

	FailoverBefore, FailoverAfter, FailoverBound time.Duration

	OverheadConns    []int
	OverheadDuration time.Duration
	OverheadWarmup   time.Duration
	OverheadRounds   int

	// PluginConns and PluginRounds shape scenario 7 (plugins.go), which
	// reuses the overhead durations; PluginServiceConc is the number of
	// concurrent calls on the rate-limit service.
	PluginConns       []int
	PluginRounds      int
	PluginServiceConc int

	ScaleServices, ScaleUpstreams, ScaleTargets int
	ScaleClients                                int
	ScaleChanges                                int
	ScaleEnvoyChanges                           int

	AdminWrites []int // per kind, per concurrency
	AdminConc   []int

	BulkWorkers int

	Declarative []int // routes per POST /config file (declarative.go)
}

// FullSizes are the sizes of the published goals (BENCHMARKS.md).
func FullSizes() Sizes {
	return Sizes{
		PropExisting: []int{0, 1000, 5000}, PropHostExisting: []int{5000, 50000}, PropNew: 200, PropRunBound: 90 * time.Second, LoadRate: 1000,
		ChurnRoutes: 500, ChurnTargets: 100, ChurnRate: 150,
		FailoverBefore: 2 * time.Second, FailoverAfter: 2 * time.Second, FailoverBound: 10 * time.Second,
		OverheadConns: []int{16, 64}, OverheadDuration: 4 * time.Second, OverheadWarmup: time.Second, OverheadRounds: 4,
		PluginConns: []int{16}, PluginRounds: 3, PluginServiceConc: 16,
		ScaleServices: 10000, ScaleUpstreams: 1000, ScaleTargets: 10000, ScaleClients: 100, ScaleChanges: 20, ScaleEnvoyChanges: 10,
		AdminWrites: []int{500, 2000}, AdminConc: []int{1, 16},
		BulkWorkers: 16,
		Declarative: []int{5000, 50000},
	}
}

// QuickSizes run every scenario in about a minute.
func QuickSizes() Sizes {
	return Sizes{
		Quick:        true,
		PropExisting: []int{0, 100, 500}, PropHostExisting: []int{500}, PropNew: 20, PropRunBound: 20 * time.Second, LoadRate: 1000,
		ChurnRoutes: 50, ChurnTargets: 10, ChurnRate: 150,
		FailoverBefore: time.Second, FailoverAfter: time.Second, FailoverBound: 5 * time.Second,
		OverheadConns: []int{16, 64}, OverheadDuration: 1500 * time.Millisecond, OverheadWarmup: 500 * time.Millisecond, OverheadRounds: 1,
		PluginConns: []int{16}, PluginRounds: 1, PluginServiceConc: 16,
		ScaleServices: 1000, ScaleUpstreams: 100, ScaleTargets: 1000, ScaleClients: 10, ScaleChanges: 5, ScaleEnvoyChanges: 3,
		AdminWrites: []int{100, 200}, AdminConc: []int{1, 16},
		BulkWorkers: 16,
		Declarative: []int{500},
	}
}

// Env is what every scenario gets.
type Env struct {
	Bins    harness.Bins
	WorkDir string
	Sizes   Sizes
	Logf    func(format string, args ...any)
}

func (e *Env) logf(format string, args ...any) {
	if e.Logf != nil {
		e.Logf(format, args...)
	} else {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

// waitStatus polls url every interval until it answers want, within bound.
func waitStatus(c *http.Client, url string, want int, interval, bound time.Duration) (time.Duration, error) {
	return waitStatusHost(c, url, "", want, interval, bound)
}

// waitStatusHost is waitStatus with a Host header ("" for the URL's).
func waitStatusHost(c *http.Client, url, host string, want int, interval, bound time.Duration) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	last := 0
	err := harness.Poll(ctx, interval, func() (bool, error) {
		last = statusHost(c, url, host)
		return last == want, nil
	})
	if err != nil {
		return 0, fmt.Errorf("GET %s: want %d, last %d: %w", url, want, last, err)
	}
	return time.Since(start), nil
}

// status GETs url and returns the status (0 on a connection error).
func status(c *http.Client, url string) int { return statusHost(c, url, "") }

// statusHost is status with a Host header ("" for the URL's).
func statusHost(c *http.Client, url, host string) int {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// obj is shorthand for a JSON object body.
type obj = map[string]any
