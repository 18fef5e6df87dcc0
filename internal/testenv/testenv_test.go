package testenv

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFreePort_NeverTwice(t *testing.T) {
	seen := map[string]bool{}
	ports, err := FreePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if seen[p] || !strings.HasPrefix(p, "127.0.0.1:") {
			t.Fatalf("port %s handed out twice or not on loopback", p)
		}
		seen[p] = true
	}
}

func TestWriteHostsFile_Sorted(t *testing.T) {
	path, err := WriteHostsFile(t.TempDir(), map[string]string{"b.test": "127.0.0.3", "a.test": "127.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "127.0.0.1 localhost\n127.0.0.2 a.test\n127.0.0.3 b.test\n") {
		t.Fatalf("hosts file:\n%s", b)
	}
}

func TestProc_OutputStopAndKill(t *testing.T) {
	dir := t.TempDir()
	p, err := StartProc(dir, "sh", "/bin/sh", "-c", "echo started; exec sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pollBound(10*time.Second, func() (bool, error) { return p.Tail(1) == "started", ctx.Err() }); err != nil {
		t.Fatalf("output %q: %v", p.Output(), err)
	}
	if p.Exited() {
		t.Fatal("exited early")
	}
	p.Stop(time.Second)
	if !p.Exited() || p.ExitErr() == nil {
		t.Fatalf("after Stop: exited %v, err %v", p.Exited(), p.ExitErr())
	}
	if b, _ := os.ReadFile(p.LogPath); string(b) != "started\n" {
		t.Fatalf("log file %q", b)
	}

	q, err := StartProc("", "sleep", "/bin/sh", "-c", "exec sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Stop(time.Second)
	if err := q.Kill(); err != nil || !q.Exited() {
		t.Fatalf("Kill: %v, exited %v", err, q.Exited())
	}
}

func TestBackends(t *testing.T) {
	fixed, err := StartBackend("fixed", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer fixed.Close()
	echo, err := StartEchoBackend("echo")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	if fixed.IP == echo.IP || len(fixed.Ports) != 2 {
		t.Fatalf("fixed %s %v, echo %s: want distinct addresses and two ports", fixed.IP, fixed.Ports, echo.IP)
	}

	resp, err := http.Get("http://" + fixed.Addr(1) + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get(BackendHeader) != "fixed" || fixed.Hits.Load() != 1 {
		t.Fatalf("fixed: %s=%q, hits %d", BackendHeader, resp.Header.Get(BackendHeader), fixed.Hits.Load())
	}

	resp, err = http.Get(echo.URL() + "/anything/y?q=1")
	if err != nil {
		t.Fatal(err)
	}
	var e Echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if e.Backend != "echo" || e.Path != "/anything/y" || e.Args["q"] != "1" {
		t.Fatalf("echo = %+v", e)
	}
	if h, ok := e.Header("host"); !ok || h != echo.Addr() {
		t.Fatalf("echoed Host %q", h)
	}
	if err := echo.Shutdown(context.Background()); err != nil || echo.ServeErr() != nil {
		t.Fatalf("shutdown: %v, serve: %v", err, echo.ServeErr())
	}
}

func TestServe_Args(t *testing.T) {
	args := Serve{AdminAddr: "a", XDSAddr: "x", ProxyAddr: "p", EnvoyAdminAddr: "e", DataDir: "d", HostsFile: "h",
		NodeID: "n", EnvoyBin: "/bin/envoy", Delta: true, LogLevel: "warn", Extra: []string{"--flag", "v"}}.Args()
	got := strings.Join(args, " ")
	want := "serve --admin-listen a --xds-listen x --proxy-listen p --proxy-tls-listen off --envoy-admin-listen e --data-dir d " +
		"--dns-hostsfile h --node-id n --log-level warn --envoy --envoy-bin /bin/envoy --envoy-delta=true --flag v"
	if got != want {
		t.Fatalf("args\n got %s\nwant %s", got, want)
	}
}

func TestAdmin_BatchRetriesBusy(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := calls.Add(1); {
		case n <= 2:
			w.WriteHeader(http.StatusServiceUnavailable) // busy twice
		case n == 3:
			w.WriteHeader(http.StatusConflict) // the first attempt had landed
		default:
			w.WriteHeader(http.StatusCreated)
		}
	}))
	defer srv.Close()
	a := NewAdmin(strings.TrimPrefix(srv.URL, "http://"))
	defer a.Close()
	if _, err := a.Batch([]Op{{Kind: "service", Method: "POST", Path: "/services", Body: map[string]any{"name": "a"}, Want: 201}}, 1); err != nil {
		t.Fatalf("batch: %v", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3 (two 503s, then the 409 of a create that landed)", calls.Load())
	}
	if _, err := a.Batch([]Op{{Kind: "service", Method: "POST", Path: "/services", Want: 200}}, 1); err == nil {
		t.Fatal("a 201 where 200 was wanted passed")
	}
}
