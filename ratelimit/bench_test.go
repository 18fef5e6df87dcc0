package ratelimit

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rlcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// BenchmarkShouldRateLimit measures the service as Envoy sees it: gRPC over
// loopback, minute+hour windows, 1000 client identifiers, reporting req/s and
// the p99 of one call. Run: go test -run '^$' -bench ShouldRateLimit ./ratelimit/
func BenchmarkShouldRateLimit(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchService(b, PolicyCluster, New(Options{})) })
	b.Run("redis", func(b *testing.B) {
		srv := startRedis(b)
		rs := NewRedisStore(srv.client(b))
		benchService(b, PolicyRedis, New(Options{Redis: func(string) (Store, error) { return rs, nil }}))
	})
}

func benchService(b *testing.B, policy string, s *Service) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	g := grpc.NewServer()
	s.Register(g)
	go func() { _ = g.Serve(l) }()
	b.Cleanup(g.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	client := rlsv3.NewRateLimitServiceClient(conn)
	reqs := make([]*rlsv3.RateLimitRequest, 1000)
	for i := range reqs {
		reqs[i] = &rlsv3.RateLimitRequest{Domain: "switchboard", Descriptors: []*rlcommonv3.RateLimitDescriptor{
			desc("kong_minute=1000000000", "kong_hour=1000000000", "kong_policy="+policy, "kong_plugin=p1",
				"kong_route=r1", "remote_address=10.0.0."+strconv.Itoa(i)),
		}}
	}
	var (
		mu   sync.Mutex
		all  []time.Duration
		next atomic.Int64
	)
	b.SetParallelism(8) // 8×GOMAXPROCS concurrent calls, like several Envoy workers
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			req := reqs[next.Add(1)%int64(len(reqs))]
			t0 := time.Now()
			if _, err := client.ShouldRateLimit(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(t0))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}
