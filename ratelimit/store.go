package ratelimit

import (
	"context"
	"time"
)

// Counter is one window's counter of one identifier.
type Counter struct {
	Key string
	// TTL is how long the counter must live when this request creates it.
	TTL time.Duration
}

// Store keeps the counters. MemoryStore (policy=cluster) and RedisStore
// (policy=redis) implement it.
type Store interface {
	// Take reads the counters' usage before this request and, when
	// admit(usage) is true, adds 1 to every counter (creating it with its TTL).
	// A rejected request changes nothing. usage is in counters' order.
	Take(ctx context.Context, counters []Counter, admit func(usage []int64) bool) (usage []int64, admitted bool, err error)
}
