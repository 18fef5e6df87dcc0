package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a child process with its output kept for failure reports: the
// last few MiB in memory, and everything in a log file when started with a
// log directory.
type Proc struct {
	Name string
	// LogPath is the file the output also goes to ("" for memory only).
	LogPath string

	cmd  *exec.Cmd
	out  *LogBuffer
	done chan struct{}
	err  error
}

// StartProc runs bin in its own process group. With logDir set, the output
// also goes to logDir/<name>.log.
func StartProc(logDir, name, bin string, args ...string) (*Proc, error) {
	p := &Proc{Name: name, out: &LogBuffer{}, done: make(chan struct{})}
	var w io.Writer = p.out
	var logf *os.File
	if logDir != "" {
		p.LogPath = filepath.Join(logDir, name+".log")
		f, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		logf = f
		w = io.MultiWriter(p.out, f)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = CleanEnv()
	p.cmd.Stdout = w
	p.cmd.Stderr = w
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		if logf != nil {
			_ = logf.Close()
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		if logf != nil {
			_ = logf.Close()
		}
		close(p.done)
	}()
	live.Lock()
	live.procs[p] = true
	live.Unlock()
	return p, nil
}

// live tracks the processes started and not yet stopped, for StopAll.
var live = struct {
	sync.Mutex
	procs map[*Proc]bool
}{procs: map[*Proc]bool{}}

// StopAll stops every process started here and not stopped yet: the exit
// path of an interrupted run, so that no switchboard, Envoy or nginx
// outlives it.
func StopAll() {
	live.Lock()
	ps := make([]*Proc, 0, len(live.procs))
	for p := range live.procs {
		ps = append(ps, p)
	}
	live.Unlock()
	for _, p := range ps {
		p.Stop(2 * time.Second)
	}
}

// CleanEnv is this process's environment without SWITCHBOARD_* variables,
// which would otherwise override the flags the harness passes.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			env = append(env, kv)
		}
	}
	return env
}

// Cmd is the running command (its Process holds the pid).
func (p *Proc) Cmd() *exec.Cmd { return p.cmd }

// Pid is the process id (also its process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr is why the process ended (valid once Exited).
func (p *Proc) ExitErr() error { return p.err }

// Stop sends SIGTERM to the process group, then SIGKILL after grace, and
// kills what is left of the group either way.
func (p *Proc) Stop(grace time.Duration) {
	if p == nil {
		return
	}
	pgid := p.cmd.Process.Pid
	if !p.Exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // stragglers of the group
	select {
	case <-p.done:
	case <-time.After(max(grace, 5*time.Second)):
	}
	live.Lock()
	delete(live.procs, p)
	live.Unlock()
}

// Kill SIGKILLs the process alone (not its group, so an Envoy it started
// lives on) and waits for it to end: a crash.
func (p *Proc) Kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !p.Exited() {
		return fmt.Errorf("kill %s: %w", p.Name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s did not die after SIGKILL", p.Name)
	}
}

// Output is what the process wrote (the last few MiB).
func (p *Proc) Output() string { return p.out.String() }

// Tail returns the last n lines of the process's output.
func (p *Proc) Tail(n int) string { return p.out.Tail(n) }

// BindFailed says whether the output shows a port taken between picking
// it and the child's bind.
func (p *Proc) BindFailed() bool { return IsBindError(p.out.String()) }

// IsBindError says whether a process's output shows a failed bind.
func IsBindError(out string) bool {
	return strings.Contains(out, "address already in use") || strings.Contains(out, "Address already in use")
}

// ErrExited is returned by waits when the process died first.
var ErrExited = errors.New("process exited")

// LogBuffer collects a process's output, keeping the last 4–8 MiB of a
// chatty one.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 8<<20 {
		rest := l.b.Bytes()[l.b.Len()-(4<<20):]
		l.b = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Tail returns the last n lines.
func (l *LogBuffer) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(l.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
