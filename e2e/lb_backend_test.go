package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// Helpers for the load-balancing and health-check scenarios
// (lb_*_test.go, health_*_test.go). They live apart from the shared
// harness (backend_test.go) because these backends must be steerable:
// answer a health-check path with a chosen status, fail real requests,
// hold requests open, or die as a killed process would.

// checkPath is the active health-check path the scenarios configure.
const checkPath = "/check"

// ctlBackend is a steerable backend on its own loopback address.
type ctlBackend struct {
	t    *testing.T
	name string
	ip   string
	port int

	checkStatus atomic.Int32 // status for checkPath (probes)
	failStatus  atomic.Int32 // non-zero: answer every other request with it
	hits        atomic.Int64 // requests other than probes
	probes      atomic.Int64 // requests to checkPath
	probeHost   atomic.Value // Host header of the latest probe (string)
	inFlight    atomic.Int64 // requests other than probes being served

	mu      sync.Mutex
	srv     *http.Server
	done    chan struct{}
	release chan struct{} // closed to let /hold requests finish
	tls     bool          // serve HTTPS (httptest's self-signed certificate)
}

// startCtlBackend starts a steerable backend on a fresh loopback address.
func startCtlBackend(t *testing.T, name string) *ctlBackend {
	t.Helper()
	return startCtlBackendTLS(t, name, false)
}

// startCtlBackendTLS is startCtlBackend, serving HTTPS when tls is set.
func startCtlBackendTLS(t *testing.T, name string, tls bool) *ctlBackend {
	t.Helper()
	b := &ctlBackend{t: t, name: name, ip: newLoopbackIP(t), release: make(chan struct{}), tls: tls}
	b.checkStatus.Store(http.StatusOK)
	if err := b.listen(); err != nil {
		t.Fatalf("backend %s: %v", name, err)
	}
	t.Cleanup(func() {
		b.releaseHeld()
		b.kill()
	})
	return b
}

func (b *ctlBackend) addr() string { return net.JoinHostPort(b.ip, strconv.Itoa(b.port)) }

// target is the Kong target string for this backend.
func (b *ctlBackend) target() string { return b.addr() }

func (b *ctlBackend) listen() error {
	l, err := net.Listen("tcp", net.JoinHostPort(b.ip, "0"))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	b.mu.Lock()
	b.port = l.Addr().(*net.TCPAddr).Port
	b.srv, b.done = srv, done
	b.mu.Unlock()
	if b.tls {
		// httptest's certificate; Envoy does not verify it (tls_verify and
		// https_verify_certificate are off in the scenarios).
		ts := httptest.NewUnstartedServer(b)
		ts.StartTLS()
		srv.TLSConfig = ts.TLS.Clone()
		ts.Close()
		l = tls.NewListener(l, srv.TLSConfig)
	}
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.t.Errorf("backend %s: %v", b.name, err)
		}
	}()
	return nil
}

// kill closes the listener and every connection at once, as a crashed
// process would: new connections are refused, open ones are reset.
func (b *ctlBackend) kill() {
	b.mu.Lock()
	srv, done := b.srv, b.done
	b.srv = nil
	b.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	<-done
}

// releaseHeld lets every /hold request finish.
func (b *ctlBackend) releaseHeld() {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.release:
	default:
		close(b.release)
	}
}

func (b *ctlBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(backendHeader, b.name)
	if r.URL.Path == checkPath {
		b.probes.Add(1)
		b.probeHost.Store(r.Host)
		w.WriteHeader(int(b.checkStatus.Load()))
		return
	}
	b.hits.Add(1)
	b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	if code := b.failStatus.Load(); code != 0 {
		w.WriteHeader(int(code))
		return
	}
	if r.URL.Path == "/hold" {
		b.mu.Lock()
		release := b.release
		b.mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"backend\":%q}\n", b.name)
}

// upstreamSetup is one upstream, its service and route.
type upstreamSetup struct {
	name     string     // upstream and service name; the route is /<name>
	upstream url.Values // extra upstream fields (algorithm, healthchecks.…)
	service  url.Values // extra service fields (retries, …)
	targets  []*ctlBackend
	weights  []int // per target; 0 means Kong's default 100
}

// create writes the upstream, its targets, the service and the route.
func (u upstreamSetup) create(s *stack) {
	s.t.Helper()
	up := url.Values{"name": {u.name}}
	for k, v := range u.upstream {
		up[k] = v
	}
	s.mustAPI("POST", "/upstreams", up, 201)
	for i, b := range u.targets {
		f := form("target", b.target())
		if i < len(u.weights) && u.weights[i] > 0 {
			f.Set("weight", strconv.Itoa(u.weights[i]))
		}
		s.mustAPI("POST", "/upstreams/"+u.name+"/targets", f, 201)
	}
	svc := url.Values{"name": {u.name}, "host": {u.name}}
	for k, v := range u.service {
		svc[k] = v
	}
	s.mustAPI("POST", "/services", svc, 201)
	s.mustAPI("POST", "/services/"+u.name+"/routes", form("paths[]", "/"+u.name), 201)
}

// targetHealth is one target of GET /upstreams/{u}/health.
type targetHealth struct {
	Target string `json:"target"`
	Health string `json:"health"`
	Data   struct {
		Addresses []struct {
			IP     string `json:"ip"`
			Port   int    `json:"port"`
			Health string `json:"health"`
		} `json:"addresses"`
	} `json:"data"`
}

// health reads GET /upstreams/{u}/health, keyed by target.
func (s *stack) health(upstream string) map[string]targetHealth {
	s.t.Helper()
	r := s.api("GET", "/upstreams/"+upstream+"/health", nil)
	if r.status != 200 {
		s.t.Fatalf("GET /upstreams/%s/health: %d %s", upstream, r.status, r.body)
	}
	var page struct {
		Data []targetHealth `json:"data"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		s.t.Fatalf("GET /upstreams/%s/health: %v: %s", upstream, err, r.body)
	}
	out := map[string]targetHealth{}
	for _, th := range page.Data {
		out[th.Target] = th
	}
	return out
}

// waitHealth polls /health until target reports want.
func (s *stack) waitHealth(upstream string, b *ctlBackend, want string, bound time.Duration) time.Duration {
	s.t.Helper()
	return eventually(s.t, bound, fmt.Sprintf("%s of %s in /upstreams/%s/health", want, b.name, upstream), func() (bool, string) {
		th := s.health(upstream)[b.target()]
		return th.Health == want, fmt.Sprintf("%+v", th)
	})
}

// hitsDuring runs fn and reports how many non-probe requests each backend
// received meanwhile.
func hitsDuring(fn func(), bs ...*ctlBackend) []int64 {
	before := make([]int64, len(bs))
	for i, b := range bs {
		before[i] = b.hits.Load()
	}
	fn()
	out := make([]int64, len(bs))
	for i, b := range bs {
		out[i] = b.hits.Load() - before[i]
	}
	return out
}

// getCtx is a GET through Envoy bounded by ctx, with optional header and
// a client bound to a source address (for hash_on=ip).
func (s *stack) getWith(client *http.Client, path string, hdr http.Header) proxyResponse {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.proxyURL(path), nil)
	if err != nil {
		return proxyResponse{err: err}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if client == nil {
		client = s.proxy
	}
	resp, err := client.Do(req)
	if err != nil {
		return proxyResponse{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return proxyResponse{status: resp.StatusCode, header: resp.Header, body: body, backend: resp.Header.Get(backendHeader), err: err}
}

// envoyHost is one host of Envoy's GET /clusters?format=json.
type envoyHost struct {
	cluster string
	addr    string // ip:port
	flags   map[string]any
}

// envoyHosts reads Envoy's own view of the upstream's hosts, keyed by
// ip:port. It is for diagnostics and for timing the shift away from a dead
// target; assertions go through the Admin API.
func (s *stack) envoyHosts(upstream string) map[string]envoyHost {
	s.t.Helper()
	hs, err := testenv.NewEnvoyAdmin(s.envoyAdminAddr).HostStatuses("upstream/" + upstream + "/")
	if err != nil {
		s.t.Fatalf("envoy /clusters: %v", err)
	}
	out := map[string]envoyHost{}
	for _, h := range hs {
		out[h.Address] = envoyHost{cluster: h.Cluster, addr: h.Address, flags: h.Health}
	}
	return out
}

// failed reports whether Envoy keeps the host out of balancing, and why.
func (h envoyHost) failed() (bool, string) {
	var why []string
	for k, v := range h.flags {
		switch {
		case k == "eds_health_status":
			if v != "HEALTHY" && v != "UNKNOWN" {
				why = append(why, fmt.Sprintf("eds=%v", v))
			}
		case v == true:
			why = append(why, k)
		}
	}
	sort.Strings(why)
	return len(why) > 0, strings.Join(why, ",")
}
