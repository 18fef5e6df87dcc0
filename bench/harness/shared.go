package harness

import (
	"context"
	"time"

	"github.com/switchboard-gw/switchboard/internal/poll"
	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// The process and stack harness is internal/testenv, shared with the e2e
// tests; these names keep the scenarios' spelling. New code may use
// testenv directly.
type (
	Bins         = testenv.Bins
	Proc         = testenv.Proc
	Stack        = testenv.Stack
	StackOptions = testenv.StackOptions
	Admin        = testenv.Admin
	Response     = testenv.Response
	Op           = testenv.Op
	BatchResult  = testenv.BatchResult
	EnvoyAdmin   = testenv.EnvoyAdmin
	HostHealth   = testenv.HostHealth
	Backend      = testenv.Backend
)

const (
	RevisionHeader = testenv.RevisionHeader
	BackendHeader  = testenv.BackendHeader
	StartBound     = testenv.StartBound
)

var (
	ErrExited      = testenv.ErrExited
	StartProc      = testenv.StartProc
	StopAll        = testenv.StopAll
	FreePort       = testenv.FreePort
	FreePorts      = testenv.FreePorts
	NewLoopbackIP  = testenv.NewLoopbackIP
	NewAdmin       = testenv.NewAdmin
	NewEnvoyAdmin  = testenv.NewEnvoyAdmin
	StartBackend   = testenv.StartBackend
	runOutput      = testenv.RunOutput
	waitEnvoyReady = testenv.WaitEnvoyServing
)

// StartStack starts a stack as the scenarios expect: node id
// "sbbench-<name>", warnings only in the logs, which go to files in the
// stack's directory, and the Envoy on delta xDS, the product's default
// (`serve --envoy-delta`). testenv's zero value is SotW, which the
// benchmark used by mistake until 2026-12-02: over SotW every new service
// re-sends every cluster, so a bulk load at 50,000 routes spent its time
// in Envoy's cluster diffs (1.9 GiB RSS) and never finished.
func StartStack(bins Bins, workDir string, opts StackOptions) (*Stack, error) {
	opts.Delta = true
	if opts.NodeID == "" {
		opts.NodeID = "sbbench-" + opts.Name
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "warn"
	}
	if opts.EnvoyLogLevel == "" {
		opts.EnvoyLogLevel = "warn"
	}
	opts.LogFiles = true
	return testenv.StartStack(bins, workDir, opts)
}

// Poll calls cond every interval until it reports done, returns an error,
// or ctx ends (poll.Until).
func Poll(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	return poll.Until(ctx, interval, cond)
}
