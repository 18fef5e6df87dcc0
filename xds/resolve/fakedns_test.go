package resolve

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// fakeDNS is a name server on 127.0.0.1:0 (UDP) so that tests never send a
// query off the machine. Records are keyed by lower-case FQDN and type.
type fakeDNS struct {
	addr    string
	mu      sync.Mutex
	records map[string][]dns.RR
	queries atomic.Int64
	perName sync.Map // fqdn → *atomic.Int64
}

func startFakeDNS(t *testing.T) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDNS{addr: pc.LocalAddr().String(), records: map[string][]dns.RR{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: f, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return f
}

// set replaces the records of one name with rrs given in zone-file syntax.
func (f *fakeDNS) set(t *testing.T, name string, rrs ...string) {
	t.Helper()
	var parsed []dns.RR
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("bad rr %q: %v", s, err)
		}
		parsed = append(parsed, rr)
	}
	f.mu.Lock()
	f.records[dns.Fqdn(strings.ToLower(name))] = parsed
	f.mu.Unlock()
}

func (f *fakeDNS) count(name string) int64 {
	v, ok := f.perName.Load(dns.Fqdn(strings.ToLower(name)))
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

func (f *fakeDNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	f.queries.Add(1)
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	c, _ := f.perName.LoadOrStore(name, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)

	m := new(dns.Msg)
	m.SetReply(req)
	f.mu.Lock()
	rrs, ok := f.records[name]
	f.mu.Unlock()
	if !ok {
		m.Rcode = dns.RcodeNameError
		_ = w.WriteMsg(m)
		return
	}
	for _, rr := range rrs {
		if rr.Header().Rrtype == q.Qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	_ = w.WriteMsg(m)
}
