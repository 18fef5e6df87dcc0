package load

import (
	"crypto/tls"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxRateWorkers bounds the concurrency of a constant-rate attack.
const maxRateWorkers = 256

// Options describe one attack.
type Options struct {
	Name string
	URL  string
	// Rate is requests per second; 0 means as fast as Connections allow.
	Rate int
	// Connections is the number of workers and keep-alive connections of a
	// Rate 0 attack (each worker has one request in flight). Ignored when
	// Rate > 0, where vegeta grows its workers to hold the rate.
	Connections int
	// Duration bounds the attack (required).
	Duration time.Duration
	// Warmup is left out of the figures (connections open, caches fill).
	Warmup time.Duration
	// BackendHeader, if set, is counted per value.
	BackendHeader string
	// Host, if set, is the requests' Host header.
	Host string
	// TLS, if set, configures https URLs (the SNI, trust); requests stay
	// HTTP/1.1 over keep-alive connections, like the plain ones.
	TLS *tls.Config
}

// Result is what an attack saw after its warmup.
type Result struct {
	Name       string
	Requests   int
	OK         int            // 2xx
	Non2xx     map[int]int    // status → count
	ConnErrors map[string]int // no HTTP answer: error → count
	Backends   map[string]int
	Latency    Latency
	// Rate and Throughput are requests sent and 2xx answers per second.
	Rate, Throughput float64
	Elapsed          time.Duration
	// FirstFailure and LastFailure bound the failed requests in time (zero
	// when none failed).
	FirstFailure, LastFailure time.Time
}

// Failed is every request that did not get a 2xx.
func (r Result) Failed() int { return r.Requests - r.OK }

// Errors is the number of requests without any HTTP answer.
func (r Result) Errors() int {
	n := 0
	for _, c := range r.ConnErrors {
		n += c
	}
	return n
}

// Latency is a latency summary.
type Latency struct {
	P50, P99, Max, Mean time.Duration
}

// Run is an attack in progress.
type Run struct {
	atk  *vegeta.Attacker
	done chan Result
}

// Start begins an attack in the background.
func Start(o Options) *Run {
	opts := []func(*vegeta.Attacker){
		vegeta.KeepAlive(true),
		vegeta.Timeout(10 * time.Second),
		vegeta.Redirects(vegeta.NoFollow),
		// The body is read and dropped: only status, header and time count.
		vegeta.MaxBody(0),
		vegeta.HTTP2(false),
	}
	if o.TLS != nil {
		opts = append(opts, vegeta.TLSConfig(o.TLS))
	}
	rate := vegeta.ConstantPacer{Freq: o.Rate, Per: time.Second}
	if o.Rate <= 0 {
		n := max(o.Connections, 1)
		opts = append(opts, vegeta.Workers(uint64(n)), vegeta.MaxWorkers(uint64(n)),
			vegeta.Connections(n), vegeta.MaxConnections(n))
		rate = vegeta.ConstantPacer{}
	} else {
		// vegeta adds workers while answers are slow, to hold the rate;
		// the cap keeps a stalled proxy from turning into thousands of
		// goroutines and connections (the rate then drops, and the
		// achieved rate is reported).
		opts = append(opts, vegeta.Workers(16), vegeta.MaxWorkers(maxRateWorkers),
			vegeta.Connections(maxRateWorkers), vegeta.MaxConnections(maxRateWorkers))
	}
	r := &Run{atk: vegeta.NewAttacker(opts...), done: make(chan Result, 1)}
	tgt := vegeta.Target{Method: http.MethodGet, URL: o.URL}
	if o.Host != "" {
		tgt.Header = http.Header{"Host": {o.Host}} // vegeta sends it as the request's Host
	}
	tr := vegeta.NewStaticTargeter(tgt)
	results := r.atk.Attack(tr, rate, o.Duration, o.Name)
	go func() { r.done <- collect(o, results) }()
	return r
}

// Stop ends the attack early and returns its result.
func (r *Run) Stop() Result {
	r.atk.Stop()
	return <-r.done
}

// Wait returns the result once the attack's duration has passed.
func (r *Run) Wait() Result { return <-r.done }

// Attack runs one attack to the end.
func Attack(o Options) Result { return Start(o).Wait() }

func collect(o Options, results <-chan *vegeta.Result) Result {
	res := Result{Name: o.Name, Non2xx: map[int]int{}, ConnErrors: map[string]int{}, Backends: map[string]int{}}
	var m vegeta.Metrics
	var begin time.Time
	var first, last time.Time
	for r := range results {
		if begin.IsZero() {
			begin = r.Timestamp
		}
		if r.Timestamp.Sub(begin) < o.Warmup {
			continue
		}
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if end := r.Timestamp.Add(r.Latency); end.After(last) {
			last = end
		}
		m.Add(r)
		res.Requests++
		switch {
		case r.Code == 0:
			res.ConnErrors[errorClass(r.Error)]++
		case r.Code >= 200 && r.Code < 300:
			res.OK++
		default:
			res.Non2xx[int(r.Code)]++
		}
		if r.Code < 200 || r.Code >= 300 {
			if res.FirstFailure.IsZero() {
				res.FirstFailure = r.Timestamp
			}
			res.LastFailure = r.Timestamp
		}
		if o.BackendHeader != "" && r.Headers != nil {
			res.Backends[r.Headers.Get(o.BackendHeader)]++
		}
	}
	m.Close()
	res.Latency = Latency{P50: m.Latencies.P50, P99: m.Latencies.P99, Max: m.Latencies.Max, Mean: m.Latencies.Mean}
	res.Elapsed = last.Sub(first)
	if s := res.Elapsed.Seconds(); s > 0 {
		res.Rate = float64(res.Requests) / s
		res.Throughput = float64(res.OK) / s
	}
	return res
}

// errorClass shortens a Go client error to its last, most specific part
// ("connection refused", "EOF"), so a map of them stays small.
func errorClass(e string) string {
	if i := strings.LastIndex(e, ": "); i >= 0 {
		e = e[i+2:]
	}
	return e
}

// FormatCounts prints a count map in a stable order ("502×3, EOF×1").
func FormatCounts[K comparable](m map[K]int, name func(K) string) string {
	type kv struct {
		k string
		v int
	}
	var s []kv
	for k, v := range m {
		s = append(s, kv{name(k), v})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].k < s[j].k })
	var b strings.Builder
	for i, e := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.k)
		b.WriteString("×")
		b.WriteString(strconv.Itoa(e.v))
	}
	return b.String()
}
