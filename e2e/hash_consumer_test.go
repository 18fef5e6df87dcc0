package e2e

import (
	"fmt"
	"net/http"
	"testing"
)

// TestHashOnConsumer is D8 of the plugin contract through a real Envoy:
// hash_on=consumer picks the target by the consumer key-auth
// authenticated, where key-auth applies; on a route without an auth
// plugin no request has a consumer and Kong's hash_fallback decides; a
// client-sent X-Consumer-ID chooses nothing anywhere.
func TestHashOnConsumer(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	a, b := startCtlBackend(t, "hash-a"), startCtlBackend(t, "hash-b")
	upstreamSetup{
		name:     "hash-consumer",
		upstream: form("hash_on", "consumer", "hash_fallback", "header", "hash_fallback_header", "X-Tenant"),
		targets:  []*ctlBackend{a, b},
	}.create(s)
	s.mustAPI("POST", "/services/hash-consumer/routes", form("name", "hash-auth", "paths[]", "/hash-auth"), 201)
	s.mustAPI("POST", "/routes/hash-auth/plugins", form("name", "key-auth"), 201)

	// With 20 consumers on two targets, all on one by chance is a
	// one-in-500000 event; it means the hash ignores the consumer.
	const consumers = 20
	ids := make([]string, consumers)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-0000000000%02d", i+1)
		s.mustAPI("POST", "/consumers", form("id", ids[i], "username", fmt.Sprintf("c%02d", i+1)), 201)
		s.mustAPI("POST", "/consumers/"+ids[i]+"/key-auth", form("key", keyOf(i)), 201)
	}
	s.converge("key-auth with every key on /hash-auth", func() (bool, string) {
		r := s.getWith(nil, "/hash-auth", http.Header{"Apikey": {keyOf(consumers - 1)}})
		return r.backend != "", r.String()
	})

	pinned := make([]string, consumers)
	used := map[string]int{}
	for i := range ids {
		pinned[i] = pinnedTarget(t, s, nil, "/hash-auth", http.Header{"Apikey": {keyOf(i)}}, 10)
		used[pinned[i]]++
	}
	t.Logf("consumers per target: %s", fmtCounts(used))
	if len(used) != 2 {
		t.Fatalf("%d consumers all hashed to one target (%s): the hash does not read the consumer", consumers, fmtCounts(used))
	}

	// Spoofing the header Kong sets for the upstream changes nothing: the
	// hash reads what key-auth authenticated.
	other := -1
	for i := range ids {
		if pinned[i] != pinned[0] {
			other = i
			break
		}
	}
	spoofed := pinnedTarget(t, s, nil, "/hash-auth", http.Header{"Apikey": {keyOf(0)}, "X-Consumer-Id": {ids[other]}}, 10)
	if spoofed != pinned[0] {
		t.Errorf("c01 claiming c%02d's id went to %s, c01's target is %s", other+1, spoofed, pinned[0])
	}

	// No auth plugin on the route: the fallback (X-Tenant) alone decides,
	// whatever X-Consumer-ID the client sends.
	s.mustAPI("POST", "/services/hash-consumer/routes", form("name", "hash-open", "paths[]", "/hash-open"), 201)
	s.converge("/hash-open", func() (bool, string) {
		r := s.getWith(nil, "/hash-open", nil)
		return r.backend != "", r.String()
	})
	counts := map[string]int{}
	for i := range ids {
		r := s.getWith(nil, "/hash-open", http.Header{"X-Tenant": {"tenant-1"}, "X-Consumer-Id": {ids[i]}})
		if r.err != nil || r.backend == "" {
			t.Fatalf("/hash-open: %v", r)
		}
		counts[r.backend]++
	}
	if len(counts) != 1 {
		t.Errorf("/hash-open with one X-Tenant spread over %s: a client-sent X-Consumer-ID chose the target", fmtCounts(counts))
	}
}

func keyOf(i int) string { return fmt.Sprintf("hash-key-%02d", i+1) }
