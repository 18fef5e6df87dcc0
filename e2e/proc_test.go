package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// proc is a child process of the test (switchboard, or an Envoy the test
// starts itself): a testenv.Proc under the names the scenarios use.
type proc struct {
	*testenv.Proc
	name string
	cmd  *exec.Cmd
	out  procOutput
	done chan struct{}
	err  error // exit status, valid after done
}

// procOutput is a process's captured output.
type procOutput struct{ p *testenv.Proc }

func (o procOutput) String() string    { return o.p.Output() }
func (o procOutput) tail(n int) string { return o.p.Tail(n) }

// startProc runs bin with args in its own process group. Cleanup stops the
// whole group (SIGTERM, then SIGKILL), so no child of it outlives the test,
// and prints its output when the test failed.
func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	tp, err := testenv.StartProc("", name, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	p := wrapProc(tp)
	t.Logf("started %s (pid %d): %s %s", name, tp.Pid(), bin, strings.Join(args, " "))
	t.Cleanup(func() {
		p.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("---- output of %s (pid %d) ----\n%s", name, tp.Pid(), tp.Tail(300))
		}
	})
	return p
}

// wrapProc gives tp the e2e names; err is copied before done closes, so a
// reader that saw exited() reads it safely.
func wrapProc(tp *testenv.Proc) *proc {
	p := &proc{Proc: tp, name: tp.Name, cmd: tp.Cmd(), out: procOutput{tp}, done: make(chan struct{})}
	go func() {
		<-tp.Done()
		p.err = tp.ExitErr()
		close(p.done)
	}()
	return p
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
	p.Stop(grace)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// kill SIGKILLs the process alone (not its group) and waits: a crash.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// freePort returns a loopback host:port that was free a moment ago, below
// the ephemeral range and never twice in one run (testenv.FreePort).
func freePort(t *testing.T) string {
	t.Helper()
	addr, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// cleanEnv is the test's environment without SWITCHBOARD_* variables, which
// would otherwise override the flags the harness passes.
func cleanEnv() []string { return testenv.CleanEnv() }
