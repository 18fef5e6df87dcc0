package testenv

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// RunOutput runs a short command (bounded to 30s) and returns its stdout;
// the error carries its stderr.
func RunOutput(bin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = CleanEnv()
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return out, fmt.Errorf("%s: %w: %s", bin, err, ee.Stderr)
	}
	return out, err
}
