package ratelimit

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"testing"
	"time"
)

// The counters land in Redis under Kong's keys, with an expiry at the window's end.
func TestRedisKeysAndExpiry(t *testing.T) {
	srv := startRedis(t)
	host, port, _ := net.SplitHostPort(srv.addr)
	cfg := json.RawMessage(`{"minute":5,"policy":"redis","redis":{"host":"` + host + `","port":` + port +
		`,"timeout":2000,"database":3,"username":null,"password":null,"ssl":false,"ssl_verify":false,"server_name":null}}`)
	stores := &RedisStores{Lookup: func(id string) (RedisConfig, error) {
		if id != "p1" {
			t.Errorf("looked up plugin %q", id)
		}
		return RedisConfigFromPlugin(cfg)
	}}
	t.Cleanup(func() { _ = stores.Close() })
	now := time.Date(2026, 12, 1, 10, 0, 5, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return now }, Redis: stores.Store})
	d := desc("kong_minute=5", "kong_hour=50", "kong_policy=redis", "kong_plugin=p1",
		"kong_route=r1", "kong_service=s1", "remote_address=127.0.0.1")
	for range 2 {
		ask(t, s, d)
	}
	db3 := srv.clientDB(t, 3)
	for w, wantTTL := range map[string]time.Duration{"minute": 55 * time.Second, "hour": 3595 * time.Second} {
		start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
		key := "ratelimit:r1:s1:127.0.0.1:" + strconv.FormatInt(start, 10) + ":" + w
		n, err := db3.Get(context.Background(), key).Int()
		if err != nil || n != 2 {
			t.Errorf("%s = %d, %v; want 2", key, n, err)
		}
		ttl, err := db3.TTL(context.Background(), key).Result()
		if err != nil || ttl <= 0 || ttl > wantTTL {
			t.Errorf("%s TTL %v, %v; want (0, %v]", key, ttl, err, wantTTL)
		}
	}
}
