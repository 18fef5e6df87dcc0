package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-gw/switchboard/envoy"
)

func TestServeFlags_EnvAndPrecedence(t *testing.T) {
	t.Setenv("SWITCHBOARD_ADMIN_LISTEN", "127.0.0.1:9001")
	t.Setenv("SWITCHBOARD_DNS_HOSTSFILE", "/tmp/hosts")
	t.Setenv("SWITCHBOARD_ENVOY", "true")
	c, _, err := parseServeFlags([]string{"--dns-hostsfile", "/etc/other"})
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminListen != "127.0.0.1:9001" || !c.Envoy {
		t.Fatalf("environment not applied: %+v", c)
	}
	if c.DNSHostsFile != "/etc/other" {
		t.Fatalf("flag did not win over the environment: %q", c.DNSHostsFile)
	}
	if c.XDSListen != "127.0.0.1:18000" || c.ProxyListen != "0.0.0.0:8000" || c.EnvoyAdminListen != "127.0.0.1:9901" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestServeFlags_BadAddress(t *testing.T) {
	if _, _, err := parseServeFlags([]string{"--xds-listen", "nope"}); err == nil || !strings.Contains(err.Error(), "--xds-listen") {
		t.Fatalf("got %v", err)
	}
}

func TestRun_Commands(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"version"}, 0, "switchboard "},
		{[]string{"bogus"}, 2, "unknown command"},
		{nil, 2, "usage"},
		{[]string{"envoy-bootstrap", "--node-id", "edge-1", "--xds-address", "10.0.0.1:18000,10.0.0.2:18000"}, 0, "edge-1"},
		{[]string{"snapshot"}, 2, "usage"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %s)", code, tc.code, errb.String())
			}
			if !strings.Contains(out.String()+errb.String(), tc.contains) {
				t.Fatalf("output lacks %q:\n%s%s", tc.contains, out.String(), errb.String())
			}
		})
	}
}

func TestEnvoyBootstrap_ListsEveryControlPlane(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"envoy-bootstrap", "--xds-address", "127.0.0.1:18000, 127.0.0.1:18001"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := envoy.ParseBootstrap(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	for _, port := range []string{"18000", "18001"} {
		if !strings.Contains(out.String(), port) {
			t.Fatalf("bootstrap lacks control plane on %s", port)
		}
	}
}

func TestStartupGate(t *testing.T) {
	g := &startupGate{next: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })}
	for path, want := range map[string]int{"/services": 503, "/clustering/status": 418, "/_switchboard/raft/index": 418} {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Fatalf("%s before ready: %d, want %d", path, rec.Code, want)
		}
	}
	g.open()
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/services", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("after ready: %d", rec.Code)
	}
}
