package poll

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	var calls atomic.Int32
	err := Until(context.Background(), 0, func() (bool, error) { return calls.Add(1) == 3, nil })
	if err != nil || calls.Load() != 3 {
		t.Fatalf("err %v after %d calls, want nil after 3", err, calls.Load())
	}

	boom := errors.New("boom")
	if err := Until(context.Background(), time.Millisecond, func() (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the condition's", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = Until(ctx, time.Millisecond, func() (bool, error) { return false, nil })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not within the bound") {
		t.Fatalf("err = %v, want the bound's", err)
	}
}

// recorder is a testing.TB that records a Fatalf instead of stopping.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = format
	for range args {
		r.msg += "|"
	}
}

func TestEventually(t *testing.T) {
	var n atomic.Int32
	True(t, 5*time.Second, "third call", func() bool { return n.Add(1) >= 3 })

	r := &recorder{TB: t}
	Eventually(r, 10*time.Millisecond, "never", func() (bool, string) { return false, "still no" })
	if !strings.Contains(r.msg, "last:") {
		t.Fatalf("a missed bound reports %q, want the last detail", r.msg)
	}
}
