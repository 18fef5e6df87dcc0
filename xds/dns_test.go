package xds

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/switchboard-gw/switchboard/xds/resolve"
)

// nxdomainServer answers NXDOMAIN to everything, on 127.0.0.1:0, so that a
// test resolver never queries a real name server.
func nxdomainServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetRcode(r, dns.RcodeNameError)
			_ = w.WriteMsg(m)
		})}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// Hostname targets reach EDS as the addresses the resolver found, and a
// changed answer is republished without any store write.
func TestServer_HostnameTargets(t *testing.T) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.5 backend.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := resolve.New(resolve.Options{
		HostsFile: hosts, Servers: []string{nxdomainServer(t)},
		HostsRecheck: 10 * time.Millisecond, RetryInterval: 50 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go res.Run(ctx)

	st := newStore(t,
		upsertUpstream(kongUpstream("u1", "example_upstream")),
		upsertTarget(kongTarget("t1", "u1", "backend.test:8080", 100)),
		upsertTarget(kongTarget("t2", "u1", "nope.invalid:8080", 100)),
		upsertService(kongService("s1", "example_service", "example_upstream", 80)),
		upsertRoute(kongRoute("r1", "example_route", "s1", "/mock")),
	)
	h := startServer(t, st, res, Options{MinPublishInterval: -1})
	e := dialEnvoy(t, h.addr, "envoy-1", false)
	h.waitConverged(e)
	if claWith(e, "127.0.0.5") == "" {
		t.Fatalf("the hosts-file address is not an endpoint: %v", e.resources("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"))
	}
	if a, ok := res.Lookup("nope.invalid"); !ok || a.Err == "" {
		t.Fatalf("nope.invalid = %+v, %v; want a DNS error for the health report", a, ok)
	}

	if err := os.WriteFile(hosts, []byte("127.0.0.6 backend.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(hosts, future, future); err != nil {
		t.Fatal(err)
	}
	e.waitUntil("the new address", func() bool { return claWith(e, "127.0.0.6") != "" && claWith(e, "127.0.0.5") == "" })
	h.waitConverged(e)
}
