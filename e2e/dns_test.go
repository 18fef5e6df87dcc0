package e2e

import (
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// loopbackDNS is the one name server every switchboard of the e2e run is
// given (--dns-resolver): it answers NXDOMAIN to everything, so a name
// missing from a test's hosts file fails fast and no query ever reaches
// the machine's resolver. Started once per test binary.
var loopbackDNS = sync.OnceValues(func() (string, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", err
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
	return pc.LocalAddr().String(), nil
})

// dnsResolverArgs are the serve flags that keep DNS on loopback.
func dnsResolverArgs(t *testing.T) []string {
	t.Helper()
	addr, err := loopbackDNS()
	if err != nil {
		t.Fatalf("loopback DNS server: %v", err)
	}
	return []string{"--dns-resolver", addr}
}

// TestDNS_ResolverFlag: a name in no hosts file resolves through the
// server --dns-resolver names (Kong's dns_resolver), not resolv.conf.
func TestDNS_ResolverFlag(t *testing.T) {
	t.Parallel()
	a := startBackend(t, "a")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	asked := map[string]int{}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		q := r.Question[0]
		mu.Lock()
		asked[q.Name]++
		mu.Unlock()
		if q.Name == "dyn.test." && q.Qtype == dns.TypeA {
			m.SetReply(r)
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30},
				A: net.ParseIP(a.ip)})
		} else {
			m.SetRcode(r, dns.RcodeNameError)
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })

	s := startStack(t, stackOptions{extraArgs: []string{"--dns-resolver", pc.LocalAddr().String()}})
	s.mustAPI("POST", "/upstreams", form("name", "dyn"), 201)
	s.mustAPI("POST", "/upstreams/dyn/targets", form("target", fmt.Sprintf("dyn.test:%d", a.port)), 201)
	s.mustAPI("POST", "/services", form("name", "dyn", "host", "dyn"), 201)
	s.mustAPI("POST", "/services/dyn/routes", form("paths[]", "/dyn"), 201)
	s.converge("a target resolved by --dns-resolver", func() (bool, string) {
		r := s.get("/dyn/x", "")
		return r.backend == "a", r.String()
	})
	mu.Lock()
	defer mu.Unlock()
	if asked["dyn.test."] == 0 {
		t.Fatalf("the --dns-resolver server was never asked: %v", asked)
	}
}
