package scenario

import (
	"context"
	"fmt"
	"sync"
	"time"

	rlcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/switchboard-gw/switchboard/bench/load"
)

// RateLimitServiceRun is the rate-limit service driven alone, as Envoy's
// ratelimit filter calls it: concurrent ShouldRateLimit calls over one
// HTTP/2 connection, each a policy=cluster descriptor (minute and hour
// windows) for one of rateLimitClients client addresses.
type RateLimitServiceRun struct {
	Concurrency int
	Calls       int
	Errors      int
	Duration    time.Duration
	Throughput  float64 // calls per second
	Latency     load.Summary
}

const rateLimitClients = 1000

// loadRateLimitService calls the service at addr from conc goroutines for
// d (bounded) and summarizes the latencies.
func loadRateLimitService(addr string, conc int, d time.Duration) (RateLimitServiceRun, error) {
	run := RateLimitServiceRun{Concurrency: conc}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return run, err
	}
	defer func() { _ = conn.Close() }()
	client := rlsv3.NewRateLimitServiceClient(conn)
	call := func(ctx context.Context, i int) error {
		_, err := client.ShouldRateLimit(ctx, &rlsv3.RateLimitRequest{Domain: "switchboard", Descriptors: []*rlcommonv3.RateLimitDescriptor{{
			Entries: []*rlcommonv3.RateLimitDescriptor_Entry{
				{Key: "kong_minute", Value: "1000000000"}, {Key: "kong_hour", Value: "1000000000"},
				{Key: "kong_policy", Value: "cluster"},
				{Key: "remote_address", Value: fmt.Sprintf("10.0.%d.%d", i/256%256, i%256)},
			},
		}}})
		return err
	}
	// One call first: the connection is up before the clock starts.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = call(ctx, 0)
	cancel()
	if err != nil {
		return run, err
	}
	var (
		mu      sync.Mutex
		samples []time.Duration
		wg      sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			errs := 0
			for i := w; time.Now().Before(deadline); i += conc {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				t0 := time.Now()
				err := call(ctx, i%rateLimitClients)
				cancel()
				if err != nil {
					errs++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			samples = append(samples, mine...)
			run.Errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	run.Duration = time.Since(start)
	run.Calls = len(samples)
	run.Throughput = float64(run.Calls) / run.Duration.Seconds()
	run.Latency = load.Summarize(samples)
	if run.Errors > 0 {
		return run, fmt.Errorf("%d of %d calls failed", run.Errors, run.Errors+run.Calls)
	}
	return run, nil
}
