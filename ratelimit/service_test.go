package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	rlcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// desc builds a descriptor from "key=value" pairs.
func desc(kv ...string) *rlcommonv3.RateLimitDescriptor {
	d := &rlcommonv3.RateLimitDescriptor{}
	for _, p := range kv {
		k, v, _ := strings.Cut(p, "=")
		d.Entries = append(d.Entries, &rlcommonv3.RateLimitDescriptor_Entry{Key: k, Value: v})
	}
	return d
}

type result struct {
	over    bool
	headers map[string]string
	body    string
}

func ask(t *testing.T, s *Service, ds ...*rlcommonv3.RateLimitDescriptor) result {
	t.Helper()
	resp, err := s.ShouldRateLimit(context.Background(), &rlsv3.RateLimitRequest{Domain: "switchboard", Descriptors: ds})
	if err != nil {
		t.Fatalf("ShouldRateLimit: %v", err)
	}
	r := result{over: resp.GetOverallCode() == rlsv3.RateLimitResponse_OVER_LIMIT, headers: map[string]string{}, body: string(resp.GetRawBody())}
	for _, h := range resp.GetResponseHeadersToAdd() {
		if _, dup := r.headers[h.GetKey()]; dup {
			t.Fatalf("header %s twice", h.GetKey())
		}
		r.headers[h.GetKey()] = h.GetValue()
	}
	if len(resp.GetStatuses()) != len(ds) {
		t.Fatalf("%d statuses for %d descriptors", len(resp.GetStatuses()), len(ds))
	}
	return r
}

// stores runs f against the memory store and a real Redis.
func stores(t *testing.T, f func(t *testing.T, policy string, s *Service, clock *fakeClock)) {
	t.Run("memory", func(t *testing.T) {
		clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 5, 0, time.UTC)}
		f(t, PolicyCluster, New(Options{Now: clock.Now}), clock)
	})
	t.Run("redis", func(t *testing.T) {
		srv := startRedis(t)
		rs := NewRedisStore(srv.client(t))
		clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 5, 0, time.UTC)}
		f(t, PolicyRedis, New(Options{Now: clock.Now, Redis: func(string) (Store, error) { return rs, nil }}), clock)
	})
}

// Kong's spec "blocks if exceeding limit": minute=6, seven requests.
func TestSingleWindow(t *testing.T) {
	stores(t, func(t *testing.T, policy string, s *Service, clock *fakeClock) {
		d := desc("kong_minute=6", "kong_policy="+policy, "kong_plugin=p1", "remote_address=127.0.0.1")
		var got []string
		for i := range 7 {
			r := ask(t, s, d)
			got = append(got, fmt.Sprintf("%v/%s/%s/%s/%s/%s", r.over, r.headers["X-RateLimit-Limit-Minute"],
				r.headers["X-RateLimit-Remaining-Minute"], r.headers["RateLimit-Limit"], r.headers["RateLimit-Remaining"],
				r.headers["RateLimit-Reset"]))
			if i == 6 {
				if r.headers["Retry-After"] != "55" || r.body != `{"message":"API rate limit exceeded"}` {
					t.Errorf("7th: Retry-After %q body %q", r.headers["Retry-After"], r.body)
				}
			} else if _, ok := r.headers["Retry-After"]; ok || r.body != "" {
				t.Errorf("request %d allowed but has Retry-After or a body", i+1)
			}
		}
		want := []string{"false/6/5/6/5/55", "false/6/4/6/4/55", "false/6/3/6/3/55", "false/6/2/6/2/55",
			"false/6/1/6/1/55", "false/6/0/6/0/55", "true/6/0/6/0/55"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
		// The next calendar minute starts afresh (fixed window, not a sliding one).
		clock.Set(time.Date(2026, 12, 1, 10, 1, 0, 0, time.UTC))
		if r := ask(t, s, d); r.over || r.headers["X-RateLimit-Remaining-Minute"] != "5" || r.headers["RateLimit-Reset"] != "60" {
			t.Errorf("next minute: %+v", r)
		}
	})
}

// Every configured window counts; rejected requests count in none of them;
// the RateLimit-* trio follows the lowest remaining, ties to the longer window.
func TestMultipleWindowsAndRejectIncrementsNothing(t *testing.T) {
	stores(t, func(t *testing.T, policy string, s *Service, clock *fakeClock) {
		d := desc("kong_second=2", "kong_minute=3", "kong_hour=10", "kong_policy="+policy, "kong_plugin=p1", "kong_identifier=alice")
		r := ask(t, s, d) // usage s0 m0 h0
		if r.over || r.headers["X-RateLimit-Remaining-Second"] != "1" || r.headers["X-RateLimit-Remaining-Minute"] != "2" ||
			r.headers["X-RateLimit-Remaining-Hour"] != "9" || r.headers["RateLimit-Limit"] != "2" || r.headers["RateLimit-Reset"] != "1" {
			t.Fatalf("1st: %+v", r)
		}
		r = ask(t, s, d) // s1 m1 h1 → second and minute left 0 and 1
		if r.over || r.headers["RateLimit-Limit"] != "2" || r.headers["RateLimit-Remaining"] != "0" {
			t.Fatalf("2nd: %+v", r)
		}
		for i := range 3 { // second exhausted: rejected, nothing counted
			r = ask(t, s, d)
			if !r.over || r.headers["X-RateLimit-Remaining-Second"] != "0" || r.headers["X-RateLimit-Remaining-Minute"] != "1" ||
				r.headers["X-RateLimit-Remaining-Hour"] != "8" || r.headers["Retry-After"] != "1" {
				t.Fatalf("reject %d: %+v", i, r)
			}
		}
		clock.Set(clock.Now().Add(time.Second)) // new second, same minute
		r = ask(t, s, d)                        // s0 m2 h2: minute goes to 0, hour 7
		if r.over || r.headers["X-RateLimit-Remaining-Minute"] != "0" || r.headers["X-RateLimit-Remaining-Hour"] != "7" ||
			r.headers["RateLimit-Limit"] != "3" || r.headers["RateLimit-Reset"] != "54" {
			t.Fatalf("after the second rolled: %+v", r)
		}
		clock.Set(clock.Now().Add(time.Second))
		r = ask(t, s, d) // minute exhausted
		if !r.over || r.headers["RateLimit-Limit"] != "3" || r.headers["RateLimit-Remaining"] != "0" ||
			r.headers["Retry-After"] != "53" || r.headers["X-RateLimit-Remaining-Second"] != "2" {
			t.Fatalf("minute exhausted: %+v", r)
		}
		clock.Set(time.Date(2026, 12, 1, 10, 1, 0, 0, time.UTC))
		r = ask(t, s, d) // h3 before → 6 left: three admitted requests counted, the four rejected did not
		if r.over || r.headers["X-RateLimit-Remaining-Hour"] != "6" {
			t.Fatalf("next minute: %+v", r)
		}
	})
}

func TestTieGoesToLongerWindowAndFractionsCeil(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)}
	s := New(Options{Now: clock.Now})
	r := ask(t, s, desc("kong_minute=4.2", "kong_hour=5", "remote_address=10.0.0.1"))
	// minute 5 (ceil 4.2) and hour 5 both have 4 left: the hour reports.
	if r.headers["X-RateLimit-Limit-Minute"] != "5" || r.headers["RateLimit-Limit"] != "5" ||
		r.headers["RateLimit-Reset"] != "1800" || r.headers["RateLimit-Remaining"] != "4" {
		t.Fatalf("%+v", r)
	}
}

// Counters are keyed by the instance's route/service ids and the identifier.
func TestCounterScopes(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)}
	s := New(Options{Now: clock.Now})
	ask(t, s, desc("kong_minute=3", "kong_route=r1", "remote_address=10.0.0.1"))
	for _, c := range []struct {
		d    *rlcommonv3.RateLimitDescriptor
		want string
	}{
		{desc("kong_minute=3", "kong_route=r1", "remote_address=10.0.0.1"), "1"}, // same counter
		{desc("kong_minute=3", "kong_route=r2", "remote_address=10.0.0.1"), "2"}, // another route instance
		{desc("kong_minute=3", "kong_route=r1", "remote_address=10.0.0.2"), "2"}, // another client
		{desc("kong_minute=3", "kong_route=r1", "kong_identifier=c1", "remote_address=10.0.0.1"), "2"},
		{desc("kong_minute=3", "remote_address=10.0.0.1"), "2"}, // global instance
		{desc("kong_minute=3", "remote_address=10.0.0.1"), "1"}, // shared by every route
	} {
		if r := ask(t, s, c.d); r.headers["X-RateLimit-Remaining-Minute"] != c.want {
			t.Errorf("%v: remaining %s, want %s", c.d.GetEntries(), r.headers["X-RateLimit-Remaining-Minute"], c.want)
		}
	}
}

func TestHideHeadersMessageAndForeignDescriptors(t *testing.T) {
	s := New(Options{})
	d := desc("kong_minute=1", "kong_hide_client_headers=true", "kong_error_message=Fake Not Found", "remote_address=1.2.3.4")
	if r := ask(t, s, d); r.over || len(r.headers) != 0 {
		t.Fatalf("1st: %+v", r)
	}
	if r := ask(t, s, d); !r.over || len(r.headers) != 0 || r.body != `{"message":"Fake Not Found"}` {
		t.Fatalf("2nd: %+v", r)
	}
	// A descriptor that is not ours is OK and counts nothing; ours still decides.
	r := ask(t, s, desc("generic_key=x"), desc("kong_minute=1", "remote_address=5.6.7.8"))
	if r.over || r.headers["X-RateLimit-Remaining-Minute"] != "0" {
		t.Fatalf("mixed: %+v", r)
	}
	_, err := s.ShouldRateLimit(context.Background(), &rlsv3.RateLimitRequest{Descriptors: []*rlcommonv3.RateLimitDescriptor{desc("kong_minute=-1")}})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad limit: %v", err)
	}
}

type failingStore struct{}

func (failingStore) Take(context.Context, []Counter, func([]int64) bool) ([]int64, bool, error) {
	return nil, false, errors.New("disk on fire")
}

// A store failure is Unavailable: Envoy's failure_mode_deny (= !fault_tolerant) decides.
func TestStoreErrorIsUnavailable(t *testing.T) {
	s := New(Options{Memory: failingStore{}})
	_, err := s.ShouldRateLimit(context.Background(), &rlsv3.RateLimitRequest{Descriptors: []*rlcommonv3.RateLimitDescriptor{desc("kong_minute=1")}})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("memory failure: %v", err)
	}
	srv := startRedis(t)
	rs := NewRedisStore(srv.client(t))
	s = New(Options{Redis: func(string) (Store, error) { return rs, nil }})
	d := desc("kong_minute=5", "kong_policy=redis", "remote_address=1.1.1.1")
	ask(t, s, d)
	srv.stop()
	_, err = s.ShouldRateLimit(context.Background(), &rlsv3.RateLimitRequest{Descriptors: []*rlcommonv3.RateLimitDescriptor{d}})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("redis down: %v", err)
	}
	s = New(Options{})
	_, err = s.ShouldRateLimit(context.Background(), &rlsv3.RateLimitRequest{Descriptors: []*rlcommonv3.RateLimitDescriptor{d}})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("redis not configured: %v", err)
	}
}

// Kong's "blocks with a custom error code and message": the code travels in
// StatusHeader on the rejection only; 429 (the default) sends nothing.
func TestErrorCodeHeader(t *testing.T) {
	s := New(Options{})
	d := desc("kong_minute=1", "kong_error_code=404", "kong_error_message=Fake Not Found", "remote_address=1.2.3.4")
	if r := ask(t, s, d); r.over || r.headers[StatusHeader] != "" {
		t.Fatalf("1st: %+v", r)
	}
	if r := ask(t, s, d); !r.over || r.headers[StatusHeader] != "404" || r.body != `{"message":"Fake Not Found"}` {
		t.Fatalf("2nd: %+v", r)
	}
	d = desc("kong_minute=1", "kong_error_code=429", "remote_address=1.2.3.5")
	ask(t, s, d)
	if r := ask(t, s, d); !r.over || r.headers[StatusHeader] != "" {
		t.Fatalf("429: %+v", r)
	}
	for _, bad := range []string{"kong_error_code=200", "kong_error_code=x"} {
		_, err := s.ShouldRateLimit(context.Background(), &rlsv3.RateLimitRequest{Descriptors: []*rlcommonv3.RateLimitDescriptor{desc("kong_minute=1", bad)}})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
