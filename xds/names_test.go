package xds

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDNSNames(t *testing.T) {
	st := newStore(t,
		upsertUpstream(kongUpstream("u1", "my_upstream")),
		upsertTarget(kongTarget("t1", "u1", "backend.test:8080", 1)),
		upsertTarget(kongTarget("t2", "u1", "127.0.0.2:8080", 1)),
		upsertTarget(kongTarget("t3", "u1", "[::1]:8080", 1)),
		upsertTarget(kongTarget("t4", "u1", "_http._tcp.srv.test:8000", 1)),
		upsertService(kongService("s1", "a", "my_upstream", 80)),
		upsertService(kongService("s2", "b", "plain.test", 80)),
		upsertService(kongService("s3", "c", "10.0.0.1", 80)),
		upsertService(kongService("s4", "d", "backend.test", 80)),
	)
	got, err := dnsNames(st.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"_http._tcp.srv.test", "backend.test", "plain.test"}, got); diff != "" {
		t.Fatalf("names (-want +got):\n%s", diff)
	}
	tn, err := targetNames(st.Snapshot(), []string{"u1"})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tn)
	if diff := cmp.Diff([]string{"_http._tcp.srv.test", "backend.test"}, tn); diff != "" {
		t.Fatalf("target names (-want +got):\n%s", diff)
	}
}
