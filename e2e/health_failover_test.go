package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Failover load: failoverClients concurrent clients send failoverRequests
// requests in all; one of the two targets is killed after failoverKillAt.
const (
	failoverClients  = 20
	failoverRequests = 3000
	failoverKillAt   = 1000
	failoverBound    = 90 * time.Second
)

// TestHealth_Failover kills one of two targets under load and checks that,
// with retries=1, no client request fails; it logs how long Envoy kept
// trying the dead target, for active checks only, passive checks only, and
// both.
func TestHealth_Failover(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	passive := url.Values{
		"healthchecks.passive.unhealthy.tcp_failures":  {"2"},
		"healthchecks.passive.unhealthy.timeouts":      {"2"},
		"healthchecks.passive.unhealthy.http_failures": {"2"},
	}
	both := activeChecks()
	for k, v := range passive {
		both[k] = v
	}
	for _, c := range []struct {
		name     string
		upstream url.Values
	}{
		{"active-only", activeChecks()},
		{"passive-only", passive},
		{"active+passive", both},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := startCtlBackend(t, "a-"+c.name), startCtlBackend(t, "b-"+c.name)
			name := "failover-" + c.name
			name = regexp.MustCompile(`[^a-z-]`).ReplaceAllString(name, "-")
			upstreamSetup{name: name, targets: []*ctlBackend{a, b}, upstream: c.upstream, service: form("retries", "1")}.create(s)
			s.converge("failover upstream ("+c.name+")", func() (bool, string) { return sawBoth(s, "/"+name, a.name, b.name) })
			if c.upstream.Get("healthchecks.active.healthy.interval") != "" {
				s.waitHealth(name, b, "HEALTHY", convergeBound)
			}

			f := runFailover(t, s, name, b)
			t.Logf("FAILOVER %-15s requests=%d failed=%d dead-target attempts retried=%d last attempt on the dead target %s after the kill; marked out by Envoy after %s; /health UNHEALTHY after %s; load took %s",
				c.name, f.requests, f.failed, f.retries, fmtDur(f.lastAttempt), fmtDur(f.markedOut), fmtDur(f.reported), f.took.Round(time.Millisecond))
			if f.failed != 0 {
				t.Errorf("%d of %d requests failed (first: %s); with retries=1 none should", f.failed, f.requests, f.firstFailure)
			}
			if got := b.hits.Load(); got == 0 {
				t.Errorf("b got no traffic before it was killed")
			}
		})
	}
}

// failover is what one run measured. Durations are from the kill; -1 when
// it did not happen within the run.
type failover struct {
	requests, failed int
	firstFailure     string
	retries          int64 // Envoy's upstream_rq_retry after the kill
	lastAttempt      time.Duration
	markedOut        time.Duration
	reported         time.Duration
	took             time.Duration
}

func fmtDur(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.Round(time.Millisecond).String()
}

// runFailover drives the load, kills dead after failoverKillAt requests,
// and watches Envoy's retry counter and host flags until the load ends and
// the Admin API reports dead UNHEALTHY.
func runFailover(t *testing.T, s *stack, upstream string, dead *ctlBackend) failover {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: failoverClients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: requestTimeout}
	path := s.proxyURL("/" + upstream)

	var (
		issued, done atomic.Int64
		killedAt     atomic.Pointer[time.Time]
		mu           sync.Mutex
		res          = failover{lastAttempt: -1, markedOut: -1, reported: -1}
	)
	retriesBefore := s.retryCount(upstream)
	start := time.Now()
	deadline := start.Add(failoverBound)
	var wg sync.WaitGroup
	for i := 0; i < failoverClients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for issued.Add(1) <= failoverRequests && time.Now().Before(deadline) {
				err := getOK(client, path)
				mu.Lock()
				res.requests++
				if err != nil {
					res.failed++
					if res.firstFailure == "" {
						res.firstFailure = err.Error()
					}
				}
				mu.Unlock()
				if done.Add(1) == failoverKillAt {
					dead.kill()
					now := time.Now()
					killedAt.Store(&now)
				}
			}
		}()
	}
	loadDone := make(chan struct{})
	go func() { wg.Wait(); close(loadDone) }()

	// Watch Envoy while the load runs (and a little after, for the report).
	lastRetries := retriesBefore
	watchUntil := time.Time{}
	for {
		select {
		case <-loadDone:
			if watchUntil.IsZero() {
				res.took = time.Since(start)
				watchUntil = time.Now().Add(convergeBound)
			}
		default:
		}
		k := killedAt.Load()
		if k != nil {
			since := time.Since(*k)
			if n := s.retryCount(upstream); n > lastRetries {
				lastRetries = n
				res.lastAttempt = since
			}
			if res.markedOut < 0 {
				if bad, _ := s.envoyHosts(upstream)[dead.addr()].failed(); bad {
					res.markedOut = since
				}
			}
			if res.reported < 0 && s.health(upstream)[dead.target()].Health == "UNHEALTHY" {
				res.reported = since
			}
		}
		if !watchUntil.IsZero() && (res.reported >= 0 || time.Now().After(watchUntil)) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	res.retries = lastRetries - retriesBefore
	if res.requests != failoverRequests {
		t.Errorf("the load ran %d of %d requests within %s", res.requests, failoverRequests, failoverBound)
	}
	if res.reported < 0 {
		t.Errorf("the killed target never showed UNHEALTHY in /health")
	}
	return res
}

// getOK is one request that must come back 200.
func getOK(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

var retryStat = regexp.MustCompile(`upstream_rq_retry: (\d+)`)

// retryCount is Envoy's count of retried requests on the upstream's
// cluster: every attempt that reached the dead target and failed.
func (s *stack) retryCount(upstream string) int64 {
	s.t.Helper()
	filter := url.QueryEscape(`^cluster\.upstream/` + regexp.QuoteMeta(upstream) + `/.*\.upstream_rq_retry$`)
	var n int64
	for _, m := range retryStat.FindAllStringSubmatch(s.envoyAdmin("/stats?filter="+filter), -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		n += v
	}
	return n
}
