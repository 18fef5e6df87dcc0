package e2e

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a child process of the test (switchboard, or an Envoy the test
// starts itself) with its output captured for failure reports.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *logBuffer
	done chan struct{}
	err  error // exit status, valid after done
}

// startProc runs bin with args in its own process group. Cleanup stops the
// whole group (SIGTERM, then SIGKILL), so no child of it outlives the test,
// and prints its output when the test failed.
func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &logBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = cleanEnv()
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Logf("started %s (pid %d): %s %s", name, p.cmd.Process.Pid, bin, strings.Join(args, " "))
	t.Cleanup(func() {
		p.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("---- output of %s (pid %d) ----\n%s", name, p.cmd.Process.Pid, p.out.tail(300))
		}
	})
	return p
}

// cleanEnv is the test's environment without SWITCHBOARD_* variables, which
// would otherwise override the flags the harness passes.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // stray children
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// kill SIGKILLs the process alone (not its group) and waits: a crash.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !p.exited() {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not die after SIGKILL", p.name)
	}
}

// logBuffer collects a process's output.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Bound memory: keep the last 4 MiB of a chatty process.
	if l.b.Len() > 8<<20 {
		rest := l.b.Bytes()[l.b.Len()-(4<<20):]
		l.b = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tail returns the last n lines.
func (l *logBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(l.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePort returns a loopback host:port that was free a moment ago. The
// race with other processes is accepted; startStack retries on a bind error.
//
// Ports come from below Linux's ephemeral range (32768–60999): a port the
// kernel picks for "port 0" is also what it gives outgoing connections, so
// on a machine busy with connections (a load test next door) the kernel
// offered the same last free port to every freePort call of a stack, and
// the admin and xDS listeners collided on every retry. A port is never
// handed out twice in one run.
func freePort(t *testing.T) string {
	t.Helper()
	for i := 0; i < 1000; i++ {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePortLow+rand.IntN(freePortHigh-freePortLow)))
		if _, dup := handedOut.LoadOrStore(addr, true); dup {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		l.Close()
		return addr
	}
	t.Fatal("freePort: no free port below the ephemeral range")
	return ""
}

// The range freePort draws from, and every address it returned.
const freePortLow, freePortHigh = 20000, 32768

var handedOut sync.Map

// isBindError says whether output shows a port taken between freePort and
// the child's bind.
func isBindError(out string) bool {
	return strings.Contains(out, "address already in use") || strings.Contains(out, "Address already in use")
}

var errExited = errors.New("process exited")
