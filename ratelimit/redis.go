package ratelimit

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisStore keeps counters in Redis (policy=redis): MGET reads the usage,
// then one MULTI runs INCR and EXPIRE NX per window key, so a counter and its
// expiry are created together. As in Kong, the read and the increment are two
// steps: concurrent requests on the last unit may both pass.
type RedisStore struct{ c redis.UniversalClient }

// NewRedisStore wraps a go-redis client.
func NewRedisStore(c redis.UniversalClient) *RedisStore { return &RedisStore{c: c} }

// Take implements Store.
func (r *RedisStore) Take(ctx context.Context, counters []Counter, admit func([]int64) bool) ([]int64, bool, error) {
	keys := make([]string, len(counters))
	for i, c := range counters {
		keys[i] = c.Key
	}
	vals, err := r.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, false, fmt.Errorf("redis MGET: %w", err)
	}
	usage := make([]int64, len(counters))
	for i, v := range vals {
		s, isStr := v.(string)
		if !isStr {
			continue // nil: no counter yet
		}
		if usage[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, false, fmt.Errorf("redis counter %s: %q is not an integer", keys[i], s)
		}
	}
	if !admit(usage) {
		return usage, false, nil
	}
	_, err = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range counters {
			p.Incr(ctx, c.Key)
			p.ExpireNX(ctx, c.Key, max(c.TTL, time.Second))
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("redis INCR/EXPIRE: %w", err)
	}
	return usage, true, nil
}

// RedisConfig is the plugin's config.redis record (Kong's field names).
type RedisConfig struct {
	Host       string  `json:"host"`
	Port       int     `json:"port"`
	Timeout    float64 `json:"timeout"` // milliseconds
	Username   *string `json:"username"`
	Password   *string `json:"password"`
	Database   int     `json:"database"`
	SSL        bool    `json:"ssl"`
	SSLVerify  bool    `json:"ssl_verify"`
	ServerName *string `json:"server_name"`
}

// RedisConfigFromPlugin reads config.redis from a stored plugin config.
func RedisConfigFromPlugin(config json.RawMessage) (RedisConfig, error) {
	var c struct {
		Redis RedisConfig `json:"redis"`
	}
	if err := json.Unmarshal(config, &c); err != nil {
		return RedisConfig{}, err
	}
	if c.Redis.Host == "" {
		return RedisConfig{}, errors.New("config.redis.host is not set")
	}
	return c.Redis, nil
}

// redisKey is RedisConfig by value (its pointers dereferenced), a map key.
type redisKey struct {
	host                          string
	port, database                int
	timeout                       float64
	username, password, sni       string
	hasUser, hasPass, ssl, verify bool
}

func (c RedisConfig) key() redisKey {
	k := redisKey{host: c.Host, port: c.Port, database: c.Database, timeout: c.Timeout, ssl: c.SSL, verify: c.SSLVerify}
	if c.Username != nil {
		k.username, k.hasUser = *c.Username, true
	}
	if c.Password != nil {
		k.password, k.hasPass = *c.Password, true
	}
	if c.ServerName != nil {
		k.sni = *c.ServerName
	}
	return k
}

func (c RedisConfig) options() *redis.Options {
	o := &redis.Options{
		Addr:     net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		DB:       c.Database,
		Protocol: 2, // RESP2: works with every Redis Kong supports
	}
	if c.Timeout > 0 {
		t := time.Duration(c.Timeout * float64(time.Millisecond))
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = t, t, t
	}
	if c.Username != nil {
		o.Username = *c.Username
	}
	if c.Password != nil {
		o.Password = *c.Password
	}
	if c.SSL {
		o.TLSConfig = &tls.Config{InsecureSkipVerify: !c.SSLVerify} //nolint:gosec // Kong's ssl_verify=false means exactly this
		if c.ServerName != nil {
			o.TLSConfig.ServerName = *c.ServerName
		}
	}
	return o
}

// RedisStores hands out one RedisStore per distinct config.redis, found by
// plugin id through Lookup, so secrets stay in the store, never in Envoy's
// descriptors.
type RedisStores struct {
	Lookup func(pluginID string) (RedisConfig, error)

	mu      sync.Mutex
	clients map[redisKey]*RedisStore
}

// Store returns the store of the plugin's Redis.
func (r *RedisStores) Store(pluginID string) (Store, error) {
	if r.Lookup == nil {
		return nil, errors.New("policy=redis: no plugin lookup configured")
	}
	cfg, err := r.Lookup(pluginID)
	if err != nil {
		return nil, fmt.Errorf("policy=redis plugin %s: %w", pluginID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := cfg.key()
	if s, ok := r.clients[k]; ok {
		return s, nil
	}
	if r.clients == nil {
		r.clients = make(map[redisKey]*RedisStore)
	}
	s := NewRedisStore(redis.NewClient(cfg.options()))
	r.clients[k] = s
	return s, nil
}

// Close closes every client.
func (r *RedisStores) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for k, s := range r.clients {
		errs = append(errs, s.c.Close())
		delete(r.clients, k)
	}
	return errors.Join(errs...)
}
