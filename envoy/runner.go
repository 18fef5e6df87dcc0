package envoy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults of RunnerOptions.
const (
	DefaultReadyTimeout = 30 * time.Second
	DefaultStopTimeout  = 10 * time.Second
	DefaultMinBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	// backoffResetAfter: a child that stayed up this long was healthy, so
	// its death restarts it after the shortest backoff again.
	backoffResetAfter = time.Minute
	// readyPoll is how often /ready is polled while waiting for LIVE.
	readyPoll = 50 * time.Millisecond
)

// RunnerOptions configure a Runner. Binary and Bootstrap are required.
type RunnerOptions struct {
	// Binary is the Envoy executable (see FindBinary).
	Binary string
	// Bootstrap is the YAML Envoy starts from (see Bootstrap).
	Bootstrap []byte
	// Dir receives the bootstrap file and Envoy's admin-address file. Empty
	// means a temporary directory, removed when the Runner stops.
	Dir string
	// Logger receives Envoy's log lines; nil means slog.Default().
	Logger *slog.Logger
	// LogPrefix starts each forwarded message; empty means "envoy".
	LogPrefix string
	// LogLevel is Envoy's --log-level; empty means "info".
	LogLevel string
	// BaseID is Envoy's --base-id (the hot-restart shared-memory key). Zero
	// means --use-dynamic-base-id, so several Envoys share one host.
	BaseID uint32
	// ReadyTimeout bounds the wait for the admin /ready endpoint to say LIVE.
	ReadyTimeout time.Duration
	// StopTimeout is how long Envoy gets between SIGTERM and SIGKILL.
	StopTimeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential delay between restarts.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// ExtraArgs are appended to Envoy's command line.
	ExtraArgs []string
	// Detach lets Envoy outlive this process (adopt.go): no parent-death
	// signal, logs through Dir/envoy.log, pid in Dir/envoy.pid, and Start
	// adopts a LIVE Envoy a previous Runner left on Dir with the same
	// bootstrap. Cancelling Start's context still stops it. Needs Dir.
	Detach bool
}

// Runner supervises one local Envoy child process: it starts it, waits for
// it to be LIVE, forwards its logs, restarts it with backoff when it dies,
// and stops it when the context given to Start is cancelled.
//
// On Linux the child gets SIGKILL if the supervising process dies, so a
// crashed control plane never leaves an orphan Envoy holding the proxy
// port, unless RunnerOptions.Detach asks for the opposite: then Envoy keeps
// serving through a crash of its supervisor and the next Runner adopts it.
type Runner struct {
	opts RunnerOptions
	log  *slog.Logger

	mu        sync.Mutex
	pid       int
	adminAddr string
	restarts  int
	started   bool

	done chan struct{}
}

// NewRunner checks opts and fills in defaults. It starts nothing.
func NewRunner(opts RunnerOptions) (*Runner, error) {
	if opts.Binary == "" {
		return nil, errors.New("envoy runner: no binary")
	}
	if len(opts.Bootstrap) == 0 {
		return nil, errors.New("envoy runner: no bootstrap")
	}
	if opts.Detach && opts.Dir == "" {
		return nil, errors.New("envoy runner: Detach needs Dir")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LogPrefix == "" {
		opts.LogPrefix = "envoy"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(DefaultMaxBackoff, opts.MinBackoff)
	}
	return &Runner{opts: opts, log: opts.Logger, done: make(chan struct{})}, nil
}

// Start launches Envoy and returns once its admin /ready says LIVE. It
// fails if Envoy exits or is not LIVE within ReadyTimeout on this first
// start: that is a configuration problem (a taken port, a bad bootstrap)
// better reported than retried. After a successful Start the Runner keeps
// Envoy alive until ctx is cancelled; Wait then returns once it has exited.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("envoy runner: already started")
	}
	r.started = true
	r.mu.Unlock()

	dir, cleanup, err := r.workDir()
	if err != nil {
		close(r.done)
		return err
	}
	bootstrapPath := filepath.Join(dir, "envoy-bootstrap.yaml")
	var adopted *process
	if r.opts.Detach {
		adopted = r.adoptable(ctx, dir, bootstrapPath)
	}
	if err := os.WriteFile(bootstrapPath, r.opts.Bootstrap, 0o600); err != nil {
		cleanup()
		close(r.done)
		return fmt.Errorf("envoy runner: write bootstrap: %w", err)
	}

	firstReady := make(chan error, 1)
	go func() {
		defer close(r.done)
		defer cleanup()
		r.supervise(ctx, dir, bootstrapPath, adopted, firstReady)
	}()
	select {
	case err := <-firstReady:
		if err != nil {
			<-r.done
		}
		return err
	case <-ctx.Done():
		<-r.done
		return ctx.Err()
	}
}

// Wait blocks until the Runner has stopped Envoy for good (after the
// context given to Start is cancelled, or after Start failed).
func (r *Runner) Wait() { <-r.done }

// Done is closed when the Runner has stopped Envoy for good.
func (r *Runner) Done() <-chan struct{} { return r.done }

// PID is the current Envoy's process id, 0 while none runs.
func (r *Runner) PID() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pid
}

// AdminAddress is the host:port the current Envoy's admin listener bound,
// "" until it is known.
func (r *Runner) AdminAddress() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.adminAddr
}

// Restarts counts how many times Envoy was started again after dying.
func (r *Runner) Restarts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.restarts
}

func (r *Runner) workDir() (string, func(), error) {
	if r.opts.Dir != "" {
		if err := os.MkdirAll(r.opts.Dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("envoy runner: %w", err)
		}
		return r.opts.Dir, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "switchboard-envoy-")
	if err != nil {
		return "", nil, fmt.Errorf("envoy runner: %w", err)
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// supervise runs Envoy until ctx is cancelled. firstReady gets exactly one
// value: nil once the first Envoy is LIVE, or why it never got there (in
// which case supervise returns).
func (r *Runner) supervise(ctx context.Context, dir, bootstrapPath string, adopted *process, firstReady chan<- error) {
	// Pdeathsig is delivered when the *thread* that forked the child exits,
	// not the process (golang/go#27505): pin this goroutine to its thread
	// for as long as it has children.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	backoff := r.opts.MinBackoff
	everReady := false
	for {
		p, err := adopted, error(nil)
		if adopted == nil {
			p, err = r.spawn(dir, bootstrapPath)
		}
		adopted = nil
		switch {
		case err != nil && !everReady:
			firstReady <- err
			return
		case err != nil:
			r.log.Error(r.opts.LogPrefix+": start failed", "err", err, "retry_in", backoff)
		default:
			died, shutdown := r.runOnce(ctx, p, &everReady, firstReady)
			if shutdown {
				return
			}
			if time.Since(p.started) >= backoffResetAfter {
				backoff = r.opts.MinBackoff
			}
			r.log.Error(r.opts.LogPrefix+": exited; restarting", "err", died, "retry_in", backoff)
		}

		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, r.opts.MaxBackoff)
		r.mu.Lock()
		r.restarts++
		r.mu.Unlock()
	}
}

// runOnce watches one Envoy until it dies or ctx ends. It reports the
// first readiness through firstReady. shutdown is true when the Runner must
// stop (ctx ended, or the first Envoy never became LIVE); otherwise died
// says why the child exited and it should be restarted.
func (r *Runner) runOnce(ctx context.Context, p *process, everReady *bool, firstReady chan<- error) (died error, shutdown bool) {
	readyCtx, cancelReady := context.WithCancel(ctx)
	defer cancelReady()
	readyErr := make(chan error, 1)
	go func() { readyErr <- r.waitReady(readyCtx, p) }()
	for {
		select {
		case err := <-readyErr:
			readyErr = nil // one answer per process
			switch {
			case errors.Is(err, errExited), errors.Is(err, context.Canceled):
				// The exit (or ctx) branch below reports it.
			case err == nil && !*everReady:
				*everReady = true
				firstReady <- nil
			case err != nil && !*everReady:
				r.stop(p)
				r.clearProcess()
				firstReady <- err
				return nil, true
			case err != nil:
				r.log.Warn(r.opts.LogPrefix+": not ready after restart", "err", err)
			}
		case <-p.exited:
			r.clearProcess()
			err := p.exitErr
			if err == nil {
				err = errors.New("exited with status 0")
			}
			err = fmt.Errorf("envoy pid %d: %w%s", p.pid, err, p.tail())
			if !*everReady {
				firstReady <- err
				return nil, true
			}
			return err, false
		case <-ctx.Done():
			r.stop(p)
			r.clearProcess()
			if !*everReady {
				firstReady <- ctx.Err()
			}
			return nil, true
		}
	}
}

// errExited: the process exited while waitReady polled it.
var errExited = errors.New("envoy exited before it was ready")

// process is one running Envoy: our child, or one adopted (adopt.go).
type process struct {
	pid       int
	started   time.Time
	adminPath string
	exited    chan struct{}
	exitErr   error
	logs      *lineForwarder
}

// tail returns Envoy's last log lines for an error message.
func (p *process) tail() string {
	lines := p.logs.last()
	if len(lines) == 0 {
		return ""
	}
	return "; last log lines:\n  " + strings.Join(lines, "\n  ")
}

func (r *Runner) spawn(dir, bootstrapPath string) (*process, error) {
	adminPath := filepath.Join(dir, "envoy-admin-address")
	_ = os.Remove(adminPath) // a stale file would name the previous Envoy's port
	args := []string{
		"-c", bootstrapPath,
		"--log-level", r.opts.LogLevel,
		// A level and logger name we can parse; slog adds the timestamp.
		"--log-format", "[%l][%n] %v",
		"--admin-address-path", adminPath,
	}
	if r.opts.BaseID != 0 {
		args = append(args, "--base-id", strconv.FormatUint(uint64(r.opts.BaseID), 10))
	} else {
		args = append(args, "--use-dynamic-base-id")
	}
	args = append(args, r.opts.ExtraArgs...)

	if r.opts.Detach {
		p, err := r.spawnDetached(dir, args)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.pid, r.adminAddr = p.pid, ""
		r.mu.Unlock()
		r.log.Info(r.opts.LogPrefix+": started", "pid", p.pid, "binary", r.opts.Binary, "detached", true)
		return p, nil
	}
	logs := newLineForwarder(r.log, r.opts.LogPrefix)
	cmd := exec.Command(r.opts.Binary, args...)
	cmd.Dir = dir
	cmd.Stdout = logs
	cmd.Stderr = logs
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("envoy runner: start %s: %w", r.opts.Binary, err)
	}
	p := &process{pid: cmd.Process.Pid, started: time.Now(), adminPath: adminPath, exited: make(chan struct{}), logs: logs}
	go func() {
		p.exitErr = cmd.Wait()
		logs.flush()
		close(p.exited)
	}()
	r.mu.Lock()
	r.pid = cmd.Process.Pid
	r.adminAddr = ""
	r.mu.Unlock()
	r.log.Info(r.opts.LogPrefix+": started", "pid", cmd.Process.Pid, "binary", r.opts.Binary)
	return p, nil
}

func (r *Runner) clearProcess() {
	r.mu.Lock()
	r.pid = 0
	r.adminAddr = ""
	r.mu.Unlock()
}

// stop sends SIGTERM, then SIGKILL after StopTimeout, and waits for exit.
func (r *Runner) stop(p *process) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.exited:
		r.log.Info(r.opts.LogPrefix+": stopped", "pid", p.pid)
	case <-time.After(r.opts.StopTimeout):
		r.log.Warn(r.opts.LogPrefix+": no exit after SIGTERM; sending SIGKILL", "pid", p.pid, "after", r.opts.StopTimeout)
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.exited
	}
	if r.opts.Detach {
		removePID(r.opts.Dir, p.pid)
	}
}

// waitReady polls the admin /ready endpoint until it answers 200 "LIVE",
// the process exits, or ReadyTimeout passes.
func (r *Runner) waitReady(ctx context.Context, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.ReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	var last string
	for {
		if addr := readAdminAddress(p.adminPath); addr != "" {
			r.mu.Lock()
			r.adminAddr = addr
			r.mu.Unlock()
			state, err := readyState(ctx, client, addr)
			if err == nil && state == "LIVE" {
				r.log.Info(r.opts.LogPrefix+": ready", "pid", p.pid, "admin", addr,
					"after", time.Since(p.started).Round(time.Millisecond))
				return nil
			}
			last = state
			if err != nil {
				last = err.Error()
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return ctx.Err()
			}
			if last == "" {
				last = "admin listener not up"
			}
			return fmt.Errorf("envoy pid %d not LIVE within %s (last: %s)%s", p.pid, r.opts.ReadyTimeout, last, p.tail())
		case <-p.exited:
			return errExited
		case <-tick.C:
		}
	}
}

// readAdminAddress reads the file Envoy writes once its admin listener is
// bound (--admin-address-path), "" until then.
func readAdminAddress(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// readyState returns the body of GET /ready: "LIVE" when serving,
// otherwise the server state (e.g. "PRE_INITIALIZING").
func readyState(ctx context.Context, client *http.Client, addr string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/ready", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return "", err
	}
	state := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return state, fmt.Errorf("/ready: %s %s", resp.Status, state)
	}
	return state, nil
}
