package resolve

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/switchboard-gw/switchboard/internal/poll"
	"github.com/switchboard-gw/switchboard/translator"
)

// newTestResolver points a Resolver at a fake name server and a temp hosts
// file, with intervals short enough for tests.
func newTestResolver(t *testing.T, f *fakeDNS, hosts string) (*Resolver, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(path, []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	r := New(Options{
		HostsFile:     path,
		Servers:       []string{f.addr},
		HostsRecheck:  20 * time.Millisecond,
		RetryInterval: 50 * time.Millisecond,
		MinTTL:        50 * time.Millisecond,
		QueryTimeout:  time.Second,
	})
	return r, path
}

func runResolver(t *testing.T, r *Resolver) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// eventually polls cond until it holds, failing after a bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.True(t, 10*time.Second, what, cond)
}

func addrs(ips ...string) []translator.Address {
	out := make([]translator.Address, len(ips))
	for i, ip := range ips {
		out[i] = translator.Address{IP: ip}
	}
	return out
}

func TestResolver_HostsFileFirst(t *testing.T) {
	f := startFakeDNS(t)
	// The fake server disagrees with the hosts file: the file must win.
	f.set(t, "backend-a", "backend-a. 60 IN A 10.9.9.9")
	r, _ := newTestResolver(t, f, `
# comment line
127.0.0.2   backend-a   # trailing comment
127.0.0.3   backend-b Backend-Alias.
::1         v6only
127.0.0.4   dual
::2         dual
not-an-ip   ignored
`)
	r.Ensure(context.Background(), []string{"backend-a", "BACKEND-B", "backend-alias", "v6only", "dual", "10.0.0.1"})
	want := map[string]translator.DNSAnswer{
		"backend-a":     {RecordType: "A", Addresses: addrs("127.0.0.2")},
		"BACKEND-B":     {RecordType: "A", Addresses: addrs("127.0.0.3")},
		"backend-alias": {RecordType: "A", Addresses: addrs("127.0.0.3")},
		"v6only":        {RecordType: "AAAA", Addresses: addrs("::1")},
		"dual":          {RecordType: "A", Addresses: addrs("127.0.0.4")},
	}
	if diff := cmp.Diff(want, r.Answers()); diff != "" {
		t.Fatalf("answers (-want +got):\n%s", diff)
	}
	if n := f.queries.Load(); n != 0 {
		t.Fatalf("hosts-file names reached DNS: %d queries", n)
	}
}

func TestResolver_HostsFileReread(t *testing.T) {
	f := startFakeDNS(t)
	r, path := newTestResolver(t, f, "127.0.0.2 backend-a\n")
	r.Ensure(context.Background(), []string{"backend-a"})
	runResolver(t, r)

	if err := os.WriteFile(path, []byte("127.0.0.9 backend-a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Same size as before: move the mtime so the change is seen even on
	// file systems with coarse timestamps.
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the re-read hosts file", func() bool {
		a, _ := r.Lookup("backend-a")
		return len(a.Addresses) == 1 && a.Addresses[0].IP == "127.0.0.9"
	})
	select {
	case <-r.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("no change signal after the hosts file changed")
	}
}

func TestResolver_DNS(t *testing.T) {
	f := startFakeDNS(t)
	f.set(t, "svc.test", "svc.test. 60 IN A 127.0.0.5", "svc.test. 60 IN A 127.0.0.6")
	f.set(t, "six.test", "six.test. 60 IN AAAA ::5")
	f.set(t, "alias.test", "alias.test. 60 IN CNAME svc.test.", "svc.test. 60 IN A 127.0.0.5")
	r, _ := newTestResolver(t, f, "")

	r.Ensure(context.Background(), []string{"svc.test", "six.test", "alias.test", "nope.invalid"})
	got := r.Answers()
	want := map[string]translator.DNSAnswer{
		"svc.test":   {RecordType: "A", Addresses: addrs("127.0.0.5", "127.0.0.6")},
		"six.test":   {RecordType: "AAAA", Addresses: addrs("::5")},
		"alias.test": {RecordType: "A", Addresses: addrs("127.0.0.5")},
	}
	bad := got["nope.invalid"]
	delete(got, "nope.invalid")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("answers (-want +got):\n%s", diff)
	}
	if bad.Err == "" || len(bad.Addresses) != 0 {
		t.Fatalf("nope.invalid = %+v, want a DNS error and no addresses", bad)
	}
	if a, ok := r.Lookup("NOPE.invalid."); !ok || a.Err == "" {
		t.Fatalf("Lookup(nope.invalid) = %+v, %v; want the error", a, ok)
	}
	if a, ok := r.Lookup("[::1]"); !ok || a.RecordType != "AAAA" || a.Addresses[0].IP != "::1" {
		t.Fatalf("Lookup([::1]) = %+v, %v", a, ok)
	}
	if a, ok := r.Lookup("127.0.0.8"); !ok || a.RecordType != "A" {
		t.Fatalf("Lookup(127.0.0.8) = %+v, %v", a, ok)
	}
	if _, ok := r.Lookup("untracked.test"); ok {
		t.Fatal("an untracked name must not be reported")
	}
	select {
	case <-r.Changed():
		t.Fatal("answers that Ensure waited for must not signal a change")
	default:
	}
}

func TestResolver_TTLRefresh(t *testing.T) {
	f := startFakeDNS(t)
	f.set(t, "svc.test", "svc.test. 0 IN A 127.0.0.5")
	r, _ := newTestResolver(t, f, "")
	r.Ensure(context.Background(), []string{"svc.test"})
	runResolver(t, r)

	f.set(t, "svc.test", "svc.test. 0 IN A 127.0.0.7")
	eventually(t, "the refreshed answer", func() bool {
		a, _ := r.Lookup("svc.test")
		return len(a.Addresses) == 1 && a.Addresses[0].IP == "127.0.0.7"
	})
	select {
	case <-r.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("no change signal")
	}
}

func TestResolver_FailureRetried(t *testing.T) {
	f := startFakeDNS(t)
	r, _ := newTestResolver(t, f, "")
	r.Ensure(context.Background(), []string{"late.test"})
	if a, _ := r.Lookup("late.test"); a.Err == "" {
		t.Fatalf("late.test = %+v, want an error first", a)
	}
	runResolver(t, r)
	eventually(t, "a retry", func() bool { return f.count("late.test") >= 3 })
	f.set(t, "late.test", "late.test. 60 IN A 127.0.0.8")
	eventually(t, "the name to resolve on retry", func() bool {
		a, _ := r.Lookup("late.test")
		return a.Err == "" && len(a.Addresses) == 1
	})
}

func TestResolver_SRV(t *testing.T) {
	f := startFakeDNS(t)
	f.set(t, "_http._tcp.svc.test",
		"_http._tcp.svc.test. 60 IN SRV 10 5 8081 a.svc.test.",
		"_http._tcp.svc.test. 60 IN SRV 10 7 8082 b.svc.test.",
		"_http._tcp.svc.test. 60 IN SRV 20 1 8083 c.svc.test.")
	f.set(t, "a.svc.test", "a.svc.test. 60 IN A 127.0.0.6")
	f.set(t, "c.svc.test", "c.svc.test. 60 IN A 127.0.0.9")
	r, _ := newTestResolver(t, f, "127.0.0.7 b.svc.test\n")
	r.Ensure(context.Background(), []string{"_http._tcp.svc.test"})
	want := translator.DNSAnswer{RecordType: "SRV", Addresses: []translator.Address{
		{IP: "127.0.0.6", Port: 8081, Weight: 5, Name: "a.svc.test"},
		{IP: "127.0.0.7", Port: 8082, Weight: 7, Name: "b.svc.test"},
	}}
	got, ok := r.Lookup("_http._tcp.svc.test")
	if !ok {
		t.Fatal("SRV name not resolved")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("SRV answer (-want +got):\n%s", diff)
	}
}

func TestResolver_Retain(t *testing.T) {
	f := startFakeDNS(t)
	r, _ := newTestResolver(t, f, "127.0.0.2 a\n127.0.0.3 b\n")
	r.Ensure(context.Background(), []string{"a", "b"})
	r.Retain([]string{"a"})
	if diff := cmp.Diff([]string{"a"}, keys(r.Answers())); diff != "" {
		t.Fatalf("names after Retain (-want +got):\n%s", diff)
	}
	if _, ok := r.Lookup("b"); ok {
		t.Fatal("a forgotten name is still reported")
	}
}

func TestResolver_NoServers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte("# nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := New(Options{HostsFile: filepath.Join(t.TempDir(), "missing"), ResolvConf: path})
	r.Ensure(context.Background(), []string{"x.invalid"})
	if a, ok := r.Lookup("x.invalid"); !ok || a.Err == "" {
		t.Fatalf("x.invalid = %+v, %v; want an error without name servers", a, ok)
	}
}

func TestDNSClient_SearchList(t *testing.T) {
	c := newDNSClient(nil, &dns.ClientConfig{Servers: []string{"127.0.0.1"}, Port: "53", Search: []string{"corp.test"}, Ndots: 1}, time.Second)
	if diff := cmp.Diff([]string{"db.corp.test.", "db."}, c.names("db")); diff != "" {
		t.Fatalf("names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"db.example.", "db.example.corp.test."}, c.names("db.example")); diff != "" {
		t.Fatalf("names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"db.example."}, c.names("db.example.")); diff != "" {
		t.Fatalf("names (-want +got):\n%s", diff)
	}
}

func TestIsSRVName(t *testing.T) {
	for name, want := range map[string]bool{
		"_http._tcp.example.com": true,
		"_sip._udp.x":            true,
		"_http.example.com":      false,
		"example.com":            false,
		"_._tcp.example.com":     false,
	} {
		if got := isSRVName(name); got != want {
			t.Errorf("isSRVName(%q) = %v, want %v", name, got, want)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
