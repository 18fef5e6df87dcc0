package envoyhealth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// clustersJSON is GET /clusters?format=json as Envoy 1.40 writes it
// (trimmed): default values omitted, stats as strings, fields our protos
// may not know.
const clustersJSON = `{
 "cluster_statuses": [
  {
   "name": "upstream/shop/http/60000",
   "added_via_api": true,
   "observability_name": "upstream/shop/http/60000",
   "some_future_field": {"x": 1},
   "host_statuses": [
    {
     "address": {"socket_address": {"address": "127.0.0.2", "port_value": 8080}},
     "stats": [{"name": "cx_total", "value": "3"}, {"name": "rq_active", "type": "GAUGE"}],
     "health_status": {"eds_health_status": "HEALTHY"},
     "weight": 100,
     "locality": {}
    },
    {
     "address": {"socket_address": {"address": "127.0.0.3", "port_value": 8080}},
     "health_status": {"failed_outlier_check": true, "eds_health_status": "HEALTHY"}
    },
    {
     "address": {"socket_address": {"address": "127.0.0.4", "port_value": 8080}},
     "health_status": {"eds_health_status": "UNHEALTHY"},
     "locality": {"sub_zone": "switchboard/healthy@7"}
    },
    {
     "address": {"socket_address": {"address": "::ffff:127.0.0.5", "port_value": 8080}},
     "health_status": {"failed_active_health_check": true, "pending_active_hc": true}
    }
   ]
  },
  {
   "name": "upstream/shop/https/60000",
   "host_statuses": [
    {"address": {"socket_address": {"address": "127.0.0.2", "port_value": 8080}}, "health_status": {"failed_active_health_check": true}},
    {"address": {"socket_address": {"address": "127.0.0.6", "port_value": 8080}}, "health_status": {"failed_active_degraded_check": true}}
   ]
  },
  {"name": "service/6b1c3b07-0000-4000-8000-000000000000", "host_statuses": [
    {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}, "health_status": {"failed_outlier_check": true}}]},
  {"name": "xds_cluster", "host_statuses": [
    {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 18000}}, "health_status": {}}]}
 ]
}`

func TestParseClusters(t *testing.T) {
	v, err := parseClusters([]byte(clustersJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 1 {
		t.Fatalf("upstreams = %v, want only shop (service and static clusters are not upstreams)", v)
	}
	want := map[string][]string{
		"127.0.0.2:8080": {"failed_active_health_check"}, // out in one of its two clusters
		"127.0.0.3:8080": {"failed_outlier_check"},
		"127.0.0.4:8080": {"eds_unhealthy"},
		"127.0.0.5:8080": {"failed_active_health_check", "pending_active_hc"},
		"127.0.0.6:8080": nil, // degraded still serves
	}
	got := map[string][]string{}
	for addr, h := range v["shop"] {
		got[addr.String()] = h.reasons
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if c := v["shop"][netip.MustParseAddrPort("127.0.0.2:8080")].clusters; len(c) != 2 {
		t.Errorf("127.0.0.2 clusters = %v, want both variants", c)
	}
	if _, err := parseClusters([]byte("not json")); err == nil {
		t.Error("parseClusters(garbage): no error")
	}
}

// fakeEnvoy serves /clusters?format=json with a body the test can change.
type fakeEnvoy struct {
	srv   *httptest.Server
	body  atomic.Value // string
	code  atomic.Int32
	calls atomic.Int64

	mu      sync.Mutex
	filters []string // the filter of every request
}

func newFakeEnvoy(t *testing.T, body string) *fakeEnvoy {
	f := &fakeEnvoy{}
	f.body.Store(body)
	f.code.Store(http.StatusOK)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		f.mu.Lock()
		f.filters = append(f.filters, r.URL.Query().Get("filter"))
		f.mu.Unlock()
		if r.URL.Path != "/clusters" || r.URL.Query().Get("format") != "json" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(f.code.Load()))
		_, _ = w.Write([]byte(f.body.Load().(string)))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEnvoy) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// hostsJSON is a one-cluster /clusters body: address → health_status JSON.
func hostsJSON(hosts map[string]string) string {
	type hs struct {
		Address      any             `json:"address"`
		HealthStatus json.RawMessage `json:"health_status"`
	}
	var list []hs
	for a, status := range hosts {
		ap := netip.MustParseAddrPort(a)
		list = append(list, hs{
			Address:      map[string]any{"socket_address": map[string]any{"address": ap.Addr().String(), "port_value": ap.Port()}},
			HealthStatus: json.RawMessage(status),
		})
	}
	b, _ := json.Marshal(map[string]any{"cluster_statuses": []any{map[string]any{"name": "upstream/shop/http/60000", "host_statuses": list}}})
	return string(b)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestPoller_AggregatesNodes(t *testing.T) {
	a := netip.MustParseAddrPort("127.0.0.2:8080")
	b := netip.MustParseAddrPort("127.0.0.3:8080")
	e1 := newFakeEnvoy(t, hostsJSON(map[string]string{a.String(): `{}`, b.String(): `{}`}))
	e2 := newFakeEnvoy(t, hostsJSON(map[string]string{a.String(): `{"failed_outlier_check": true}`}))
	var eps atomic.Value
	eps.Store([]Endpoint{{NodeID: "n1", AdminAddress: e1.addr()}, {NodeID: "n2", AdminAddress: e2.addr()}})
	var rev atomic.Uint64
	rev.Store(7)
	clk := &clock{now: time.Unix(1000, 0)}
	p := New(func() []Endpoint { return eps.Load().([]Endpoint) }, Options{
		Interval: time.Second, Timeout: time.Second, Revision: rev.Load, Now: clk.Now, Logger: quiet,
	})
	ctx := context.Background()

	if got := p.Address("shop", a); got.Status != Unknown {
		t.Fatalf("before any poll: %+v, want Unknown", got)
	}
	p.Poll(ctx)
	got := p.Address("shop", a)
	// A first view reflects nothing for sure: revision 7 was published
	// just before it was read.
	if got.Status != Unhealthy || got.AsOf != 0 || len(got.Nodes) != 2 {
		t.Fatalf("a = %+v, want UNHEALTHY (n2 ejected it) as of 0 from 2 nodes", got)
	}
	if got.Nodes[0].NodeID != "n1" || got.Nodes[0].Status != Healthy || got.Nodes[1].Status != Unhealthy ||
		!cmp.Equal(got.Nodes[1].Reasons, []string{"failed_outlier_check"}) {
		t.Errorf("per node = %+v", got.Nodes)
	}
	if got := p.Address("shop", b); got.Status != Healthy || len(got.Nodes) != 1 {
		t.Errorf("b = %+v, want HEALTHY from n1 only (n2 lacks it)", got)
	}
	// IPv4-mapped lookups find IPv4 hosts.
	if got := p.Address("shop", netip.MustParseAddrPort("[::ffff:127.0.0.3]:8080")); got.Status != Healthy {
		t.Errorf("mapped b = %+v", got)
	}
	if got := p.Address("other", a); got.Status != Unknown {
		t.Errorf("unknown upstream = %+v", got)
	}

	// n2 fails: its view is dropped at once, n1's stands.
	e2.code.Store(http.StatusServiceUnavailable)
	rev.Store(9)
	p.Poll(ctx)
	if got := p.Address("shop", a); got.Status != Healthy || got.AsOf != 7 {
		t.Errorf("n2 failing: a = %+v, want HEALTHY from n1, as of 7 (published one poll earlier)", got)
	}

	// Stale views are not used.
	clk.advance(10 * time.Second)
	if got := p.Address("shop", a); got.Status != Unknown {
		t.Errorf("stale: a = %+v, want Unknown", got)
	}

	// A node no longer discovered is forgotten.
	eps.Store([]Endpoint{{NodeID: "n1", AdminAddress: e1.addr()}})
	p.Poll(ctx)
	p.mu.RLock()
	n := len(p.nodes)
	p.mu.RUnlock()
	if n != 1 {
		t.Errorf("%d nodes after n2 left, want 1", n)
	}
}

func TestPoller_RunAndHandler(t *testing.T) {
	e := newFakeEnvoy(t, hostsJSON(map[string]string{"127.0.0.2:8080": `{"eds_health_status": "UNHEALTHY"}`}))
	p := New(func() []Endpoint {
		return []Endpoint{{NodeID: "n1", AdminAddress: e.addr()}, {NodeID: "gone", AdminAddress: "127.0.0.1:1"}}
	},
		Options{Interval: 10 * time.Millisecond, Timeout: time.Second, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for e.calls.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if e.calls.Load() < 3 {
		t.Fatalf("polled %d times", e.calls.Load())
	}

	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/clustering/health?upstream=shop", nil))
	var body struct {
		Data []struct {
			NodeID    string  `json:"node_id"`
			Error     *string `json:"error"`
			Fresh     bool    `json:"fresh"`
			Upstreams []struct {
				Name  string `json:"name"`
				Hosts []struct {
					Address string   `json:"address"`
					Health  string   `json:"health"`
					Reasons []string `json:"reasons"`
				} `json:"hosts"`
			} `json:"upstreams"`
		} `json:"data"`
		Next *string `json:"next"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if len(body.Data) != 2 || body.Data[0].NodeID != "gone" || body.Data[0].Error == nil || body.Data[1].NodeID != "n1" {
		t.Fatalf("nodes = %s", rec.Body)
	}
	n1 := body.Data[1]
	if !n1.Fresh || len(n1.Upstreams) != 1 || n1.Upstreams[0].Hosts[0].Health != "UNHEALTHY" ||
		n1.Upstreams[0].Hosts[0].Reasons[0] != "eds_unhealthy" {
		t.Errorf("n1 = %+v", n1)
	}

	rec = httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/clustering/health?upstream=nope", nil))
	if strings.Contains(rec.Body.String(), "127.0.0.2") {
		t.Errorf("?upstream=nope still lists shop: %s", rec.Body)
	}
	rec = httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/clustering/health", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d", rec.Code)
	}
}

func TestPoller_AsksOnlyForCheckedUpstreams(t *testing.T) {
	e := newFakeEnvoy(t, hostsJSON(map[string]string{"127.0.0.2:8080": `{"failed_outlier_check": true}`}))
	var checked atomic.Value
	checked.Store([]string{})
	reg := prometheus.NewRegistry()
	p := New(func() []Endpoint { return []Endpoint{{NodeID: "n1", AdminAddress: e.addr()}} }, Options{
		Upstreams: func() []string { return checked.Load().([]string) }, Registerer: reg, Logger: quiet,
	})
	ctx := context.Background()

	// No upstream is health-checked: Envoy is not asked at all, and the
	// (empty) view is fresh.
	p.Poll(ctx)
	if n := e.calls.Load(); n != 0 {
		t.Fatalf("%d requests with nothing health-checked, want 0", n)
	}
	if got := p.Address("shop", netip.MustParseAddrPort("127.0.0.2:8080")); got.Status != Unknown {
		t.Errorf("skipped poll: %+v, want Unknown", got)
	}
	if v := gathered(t, reg, "switchboard_envoy_health_polls_total", resultSkipped); v != 1 {
		t.Errorf("skipped polls = %v, want 1", v)
	}

	checked.Store([]string{"shop", "a.b+c"})
	p.Poll(ctx)
	e.mu.Lock()
	filters := slices.Clone(e.filters)
	e.mu.Unlock()
	if want := []string{`^upstream/(shop|a\.b\+c)/`}; !cmp.Equal(filters, want) {
		t.Errorf("filters = %q, want %q", filters, want)
	}
	if got := p.Address("shop", netip.MustParseAddrPort("127.0.0.2:8080")); got.Status != Unhealthy {
		t.Errorf("shop = %+v, want UNHEALTHY", got)
	}
	if v := gathered(t, reg, "switchboard_envoy_health_poll_response_bytes_total", ""); v == 0 {
		t.Error("response bytes not counted")
	}
	// Every labelled series exists before it is first used.
	for _, r := range []string{resultOK, resultError, resultSkipped} {
		if gathered(t, reg, "switchboard_envoy_health_polls_total", r) < 0 {
			t.Errorf("no polls_total{result=%q} series", r)
		}
	}
}

// gathered is the value of a counter or gauge series (label value "" for
// none), or -1 when the series does not exist.
func gathered(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() != label {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func TestUpstreamFilters(t *testing.T) {
	if got := upstreamFilters(nil); len(got) != 0 {
		t.Errorf("no names: %q", got)
	}
	var names []string
	for i := range 2000 {
		names = append(names, fmt.Sprintf("upstream-name-%04d", i))
	}
	fs := upstreamFilters(names)
	if len(fs) < 2 {
		t.Fatalf("%d filters for 2000 names, want several", len(fs))
	}
	seen := 0
	for _, f := range fs {
		if len(f) > maxFilter+len("^upstream/()/") {
			t.Errorf("filter of %d bytes", len(f))
		}
		re := regexp.MustCompile(f)
		for _, n := range names {
			if re.MatchString("upstream/" + n + "/http/60000") {
				seen++
			}
		}
		if re.MatchString("upstream/upstream-name-0001x/http/60000") || re.MatchString("service/upstream-name-0001") {
			t.Errorf("%q matches a cluster of no named upstream", f)
		}
	}
	if seen != len(names) {
		t.Errorf("%d names matched once over all filters, want %d", seen, len(names))
	}
}
