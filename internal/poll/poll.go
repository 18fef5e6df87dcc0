// Package poll is the one bounded wait of the tests and benchmarks: call a
// condition with a growing pause until it holds or a bound passes. Every wait
// on another goroutine, process or Envoy goes through it, so none is a fixed
// sleep and every one has a bound.
//
// It imports nothing of ours (internal/archtest).
package poll

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Pauses between two calls of a condition: short first, so a fast change
// is seen at once, then longer, so a slow one does not spin a core.
const (
	firstPause = 5 * time.Millisecond
	maxPause   = 100 * time.Millisecond
)

// Until calls cond until it reports done, returns an error, or ctx ends
// (the error then says so and wraps ctx's). interval is the pause between
// calls; 0 means start at 5ms and double up to 100ms.
func Until(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	pause := interval
	if pause <= 0 {
		pause = firstPause
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		timer.Reset(pause)
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within the bound: %w", ctx.Err())
		case <-timer.C:
		}
		if interval <= 0 {
			pause = min(pause*2, maxPause)
		}
	}
}

// Eventually polls cond until it holds, and fails t when bound passes
// first, naming what was awaited and cond's last detail (why it did not
// hold yet). It returns how long the wait took, for tests that log it;
// that duration is an observation, never an assertion.
func Eventually(t testing.TB, bound time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	var detail string
	err := Until(ctx, 0, func() (bool, error) {
		var ok bool
		ok, detail = cond()
		return ok, nil
	})
	switch {
	case err != nil && detail != "":
		t.Fatalf("%s: not within %s (last: %s)", what, bound, detail)
	case err != nil:
		t.Fatalf("%s: not within %s", what, bound)
	}
	return time.Since(start)
}

// True is Eventually for a condition with nothing to explain.
func True(t testing.TB, bound time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	return Eventually(t, bound, what, func() (bool, string) { return cond(), "" })
}
