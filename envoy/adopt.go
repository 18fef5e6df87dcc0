package envoy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Files a detached Envoy leaves in RunnerOptions.Dir for the next Runner.
const (
	pidFileName   = "envoy.pid"
	logFileName   = "envoy.log"
	maxLogFile    = 16 << 20 // rotated to envoy.log.1 at spawn beyond this
	logTailPoll   = 100 * time.Millisecond
	adoptedPoll   = 200 * time.Millisecond
	adoptReadyFor = 5 * time.Second
)

// The data plane outlives the control plane (ARCHITECTURE.md): with
// RunnerOptions.Detach, Envoy is not our child (launchScript), logs to a
// file rather than a pipe (a write to a pipe whose reader died would fail
// or signal it), and its pid is recorded. The next Runner on the same Dir
// adopts it when it is still LIVE and runs the very bootstrap the new one
// would write: no second Envoy, no port clash, no moment without a proxy.

// adoptable returns the Envoy a previous Runner left running on dir with
// the same bootstrap, or nil. A live Envoy with another bootstrap (the
// flags changed) is stopped, so the new one can bind its ports.
func (r *Runner) adoptable(ctx context.Context, dir, bootstrapPath string) *process {
	pid := readPID(filepath.Join(dir, pidFileName))
	if pid <= 0 || !processAlive(pid) || !isEnvoyOf(pid, bootstrapPath) {
		return nil
	}
	p := r.adoptedProcess(pid, dir)
	old, err := os.ReadFile(bootstrapPath)
	if err != nil || !bytes.Equal(old, r.opts.Bootstrap) {
		r.log.Info(r.opts.LogPrefix+": a previous Envoy runs another bootstrap; replacing it", "pid", pid)
		r.stop(p)
		return nil
	}
	readyCtx, cancel := context.WithTimeout(ctx, adoptReadyFor)
	defer cancel()
	if addr := readAdminAddress(p.adminPath); addr != "" {
		if state, err := readyState(readyCtx, &http.Client{Timeout: time.Second}, addr); err == nil && state == "LIVE" {
			r.mu.Lock()
			r.pid, r.adminAddr = pid, addr
			r.mu.Unlock()
			r.log.Info(r.opts.LogPrefix+": adopted the running Envoy", "pid", pid, "admin", addr)
			return p
		}
	}
	r.log.Warn(r.opts.LogPrefix+": a previous Envoy is not LIVE; replacing it", "pid", pid)
	r.stop(p)
	return nil
}

// adoptedProcess watches an Envoy that is not our child: it cannot be
// waited for, so its exit is noticed by polling.
func (r *Runner) adoptedProcess(pid int, dir string) *process {
	logs := newLineForwarder(r.log, r.opts.LogPrefix)
	return watchDetached(pid, dir, logs, tailFile(filepath.Join(dir, logFileName), logs, true))
}

func watchDetached(pid int, dir string, logs *lineForwarder, stopTail func()) *process {
	p := &process{pid: pid, started: time.Now(), adminPath: filepath.Join(dir, "envoy-admin-address"), exited: make(chan struct{}), logs: logs}
	go func() {
		for processAlive(pid) {
			time.Sleep(adoptedPoll)
		}
		stopTail()
		logs.flush()
		p.exitErr = errors.New("exited")
		close(p.exited)
	}()
	return p
}

// launchScript starts Envoy as a grandchild that this process does not
// parent: Envoy (1.40) asks the kernel for SIGTERM when its parent dies
// (PR_SET_PDEATHSIG), so as our child it would die with us. The outer
// shell backgrounds a subshell, records its pid and exits; the subshell
// waits (bounded) until it has been re-parented, then execs Envoy, which
// keeps that pid. $1 is the pid file, the rest Envoy's command line.
const launchScript = `pidfile=$1; shift
( i=0
  while [ $i -lt 500 ]; do
    read -r _ _ _ ppid _ < /proc/self/stat
    [ "$ppid" != "$$" ] && break
    sleep 0.01; i=$((i+1))
  done
  exec "$@" ) &
echo $! > "$pidfile"
`

// spawnDetached starts an Envoy that outlives this process (launchScript),
// logging to Dir/envoy.log, and watches it like an adopted one.
func (r *Runner) spawnDetached(dir string, args []string) (*process, error) {
	path := filepath.Join(dir, logFileName)
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogFile {
		_ = os.Rename(path, path+".1")
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("envoy runner: log file: %w", err)
	}
	defer func() { _ = out.Close() }() // Envoy holds its own copy
	logs := newLineForwarder(r.log, r.opts.LogPrefix)
	stopTail := tailFile(path, logs, true)
	pidPath := filepath.Join(dir, pidFileName)
	_ = os.Remove(pidPath)
	cmd := exec.Command("/bin/sh", append([]string{"-c", launchScript, "sh", pidPath, r.opts.Binary}, args...)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		stopTail()
		return nil, fmt.Errorf("envoy runner: start %s: %w", r.opts.Binary, err)
	}
	pid := readPID(pidPath)
	if pid <= 0 {
		stopTail()
		return nil, fmt.Errorf("envoy runner: start %s: no pid recorded", r.opts.Binary)
	}
	return watchDetached(pid, dir, logs, stopTail), nil
}

// tailFile forwards the lines appended to path from now on, until the
// returned stop is called (which forwards what is left first).
func tailFile(path string, w io.Writer, fromEnd bool) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer func() { _ = f.Close() }()
		if fromEnd {
			_, _ = f.Seek(0, io.SeekEnd)
		}
		buf := make([]byte, 32<<10)
		for {
			for {
				n, err := f.Read(buf)
				if n > 0 {
					_, _ = w.Write(buf[:n])
				}
				if err != nil || n == 0 {
					break
				}
			}
			select {
			case <-done:
				return
			case <-time.After(logTailPoll):
			}
		}
	}()
	return func() {
		select {
		case <-done:
		default:
			close(done)
		}
		<-finished
	}
}

func writePID(dir string, pid int) {
	_ = os.WriteFile(filepath.Join(dir, pidFileName), []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

func removePID(dir string, pid int) {
	path := filepath.Join(dir, pidFileName)
	if readPID(path) == pid {
		_ = os.Remove(path)
	}
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// processAlive: the process exists and is not a zombie awaiting its reaper.
func processAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	// pid (comm) state ...: comm may hold spaces, the state follows the last ')'.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// isEnvoyOf guards against a recycled pid: the process must have been
// started with our bootstrap path.
func isEnvoyOf(pid int, bootstrapPath string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	return bytes.Contains(cmdline, []byte("\x00-c\x00"+bootstrapPath+"\x00"))
}
