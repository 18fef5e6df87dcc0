package harness

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// Poll calls cond every interval until it reports done, returns an error,
// or ctx ends (then the error says so).
func Poll(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within the bound: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// runOutput runs a short command and returns its stdout.
func runOutput(bin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return out, fmt.Errorf("%s: %w: %s", bin, err, ee.Stderr)
	}
	return out, err
}
