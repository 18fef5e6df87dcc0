package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// backendHeader names the backend that answered, on every backend response,
// so load-balancing tests can count without parsing bodies.
const backendHeader = testenv.BackendHeader

// newLoopbackIP hands out 127.0.0.2, 127.0.0.3, …: every backend gets its
// own address, so "which backend" is also "which IP" in Envoy's /clusters
// output and in the hosts file (testenv.NewLoopbackIP).
func newLoopbackIP(t *testing.T) string {
	t.Helper()
	return testenv.NewLoopbackIP()
}

// backend is an httpbin-like HTTP server on its own loopback address
// (testenv.StartEchoBackend). It echoes what it received (method, path,
// query, headers, body) as pretty-printed JSON, in httpbin's shapes, plus
// its own name.
type backend struct {
	*testenv.Backend
	name string
	ip   string
	port int
	hits *atomic.Int64
}

// addr is ip:port.
func (b *backend) addr() string { return b.Addr() }

// startBackend starts a backend named name on a fresh loopback address.
func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	tb, err := testenv.StartEchoBackend(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tb.Shutdown(ctx)
		if err := tb.ServeErr(); err != nil {
			t.Errorf("backend %s: %v", name, err)
		}
	})
	return &backend{Backend: tb, name: name, ip: tb.IP, port: tb.Ports[0], hits: &tb.Hits}
}

// echo is a decoded backend answer.
type echo struct{ testenv.Echo }

// header returns an echoed request header, case-insensitively.
func (e echo) header(name string) (string, bool) { return e.Header(name) }

func TestBackend_Echo(t *testing.T) {
	b := startBackend(t, "echo-a")
	base := "http://" + b.addr()

	resp, err := http.Get(base + "/headers")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get(backendHeader) != "echo-a" {
		t.Errorf("%s = %q", backendHeader, resp.Header.Get(backendHeader))
	}
	// httpbin layout: the Host header on a line of its own.
	if !strings.Contains(string(body), "\n    \"Host\": \""+b.addr()+"\"") {
		t.Errorf("/headers body lacks an indented Host line:\n%s", body)
	}

	req, _ := http.NewRequest(http.MethodPost, base+"/anything/x?q=1&q=2&r=s", strings.NewReader("hello"))
	req.Header.Set("X-Test", "yes")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if e.Backend != "echo-a" || e.Method != "POST" || e.Path != "/anything/x" || e.Args["r"] != "s" {
		t.Errorf("echo = %+v", e)
	}
	if v, _ := e.header("x-test"); v != "yes" {
		t.Errorf("X-Test echoed as %q", v)
	}

	resp, err = http.Get(base + "/status/418")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 418 {
		t.Errorf("/status/418 = %d", resp.StatusCode)
	}

	resp, err = http.Get(base + "/delay/0.01")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/delay = %d", resp.StatusCode)
	}
	if b.hits.Load() != 4 {
		t.Errorf("hits = %d, want 4", b.hits.Load())
	}
}
