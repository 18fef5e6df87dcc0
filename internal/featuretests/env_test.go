package featuretests

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/internal/adstest"
	"github.com/switchboard-gw/switchboard/internal/testenv"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/xds"
)

// bound limits every wait of a feature test; it is not a speed assertion.
const bound = 20 * time.Second

// env is one in-process control plane and one simulated Envoy.
type env struct {
	t     *testing.T
	admin *testenv.Admin
	envoy *adstest.Client
}

// start runs the Admin API, the store and the xds server, and connects a
// simulated Envoy (delta or SotW) that has received the empty
// configuration.
func start(t *testing.T, delta bool) *env {
	t.Helper()
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httptest.NewServer(admin.New(st, admin.Options{Logger: quiet}).Handler())
	t.Cleanup(api.Close)

	srv := xds.New(st, nil, xds.Options{Logger: quiet})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr, serveErr := make(chan error, 1), make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-runErr:
		t.Fatalf("xds run: %v", err)
	case <-time.After(bound):
		t.Fatal("xds server never became ready")
	}
	go func() { serveErr <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		cancel()
		if err := <-serveErr; err != nil {
			t.Errorf("xds serve: %v", err)
		}
		if err := <-runErr; err != nil {
			t.Errorf("xds run: %v", err)
		}
	})

	c, err := adstest.Dial(ctx, lis.Addr().String(), adstest.Options{NodeID: "feature-" + t.Name(), Delta: delta})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		for _, err := range c.DecodeErrors() {
			t.Errorf("simulated Envoy could not decode: %v", err)
		}
	})
	select {
	case <-c.Complete():
	case <-time.After(bound):
		t.Fatalf("simulated Envoy never got a complete configuration: %v", c.Counts())
	}
	u, _ := url.Parse(api.URL)
	return &env{t: t, admin: testenv.NewAdminWith(u.Host, api.Client()), envoy: c}
}

// must sends a form write (as `curl --data` does) and fails unless the
// status is want.
func (e *env) must(method, path string, want int, kv ...string) testenv.Response {
	e.t.Helper()
	form := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Add(kv[i], kv[i+1])
	}
	r, err := e.admin.DoForm(method, path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.Status != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// waitFor waits until the simulated Envoy's state satisfies cond.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := e.envoy.WaitUntil(ctx, cond); err != nil {
		e.t.Fatalf("%s: %v (holds %v)", what, err, e.envoy.Counts())
	}
}
