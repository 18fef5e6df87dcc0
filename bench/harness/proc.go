package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a child process with its output in a log file.
type Proc struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	logf    *os.File
	done    chan struct{}
	err     error
}

// StartProc runs bin in its own process group, output to dir/<name>.log.
func StartProc(dir, name, bin string, args ...string) (*Proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, logf: f, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = cleanEnv()
	p.cmd.Stdout = f
	p.cmd.Stderr = f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		_ = f.Close()
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
// outlives the benchmark.
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

// cleanEnv drops SWITCHBOARD_* variables, which would override the flags
// the harness passes.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			env = append(env, kv)
		}
	}
	return env
}

// Pid is the process id (also its process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

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

// Stop sends SIGTERM to the process group, then SIGKILL after grace.
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
	case <-time.After(grace):
	}
	live.Lock()
	delete(live.procs, p)
	live.Unlock()
}

// Tail returns the last n lines of the process's output.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// BindFailed says whether the output shows a port taken between picking
// it and the child's bind.
func (p *Proc) BindFailed() bool {
	s := p.Tail(200)
	return strings.Contains(s, "address already in use") || strings.Contains(s, "Address already in use")
}

// ErrExited is returned by waits when the process died first.
var ErrExited = errors.New("process exited")
