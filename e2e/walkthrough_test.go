package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// walkthroughChecks is how often the script runs the page's validation
// command. Consecutive curls are new connections that Envoy's worker
// threads may share out unevenly, so the test asserts that both hosts
// show up, not a strict A/B/A/B order.
const walkthroughChecks = 12

// TestWalkthroughScript runs e2e/walkthrough.sh, Kong's own curl commands,
// with the system curl against a live stack, and reads what it prints.
func TestWalkthroughScript(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on PATH")
	}
	httpbun := startBackend(t, "httpbun")
	httpbin := startBackend(t, "httpbin")
	s := startStack(t, stackOptions{hosts: map[string]string{
		"httpbun.test": httpbun.ip,
		"httpbin.test": httpbin.ip,
	}})
	env := []string{
		"KONG_ADMIN=" + s.adminURL(""),
		"KONG_PROXY=" + s.proxyURL(""),
		fmt.Sprintf("SERVICE_URL=http://httpbin.test:%d", httpbin.port),
		fmt.Sprintf("TARGET_1=httpbun.test:%d", httpbun.port),
		fmt.Sprintf("TARGET_2=httpbin.test:%d", httpbin.port),
		fmt.Sprintf("CHECKS=%d", walkthroughChecks),
	}

	out := runWalkthrough(t, env, "setup")
	for _, want := range []string{"HTTP/1.1 201", `"name":"example_service"`, `"name":"example_upstream"`} {
		if !strings.Contains(strings.ReplaceAll(out, `": "`, `":"`), want) {
			t.Errorf("setup output lacks %q", want)
		}
	}
	// A person reads the page between commands; the test waits for the
	// last write to reach Envoy instead.
	s.converge("walkthrough setup", func() (bool, string) {
		return sawBoth(s, "/mock/headers", "httpbun", "httpbin")
	})

	out = runWalkthrough(t, env, "validate")
	hosts := hostLines(out)
	t.Logf("validation printed these hosts: %v", hosts)
	if len(hosts) != walkthroughChecks {
		t.Fatalf("%d \"host\" lines, want %d:\n%s", len(hosts), walkthroughChecks, out)
	}
	seen := map[string]int{}
	for _, h := range hosts {
		name := strings.SplitN(h, ":", 2)[0]
		if name != "httpbun.test" && name != "httpbin.test" {
			t.Errorf("host line %q names neither target", h)
		}
		seen[name]++
	}
	if seen["httpbun.test"] == 0 || seen["httpbin.test"] == 0 {
		t.Errorf("the host did not change between the targets: %v", seen)
	}
}

// runWalkthrough runs the script with one step and returns its output.
func runWalkthrough(t *testing.T, env []string, step string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "walkthrough.sh", step)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("walkthrough.sh %s:\n%s", step, out)
	if err != nil {
		t.Fatalf("walkthrough.sh %s: %v", step, err)
	}
	return string(out)
}

// hostRe matches the Host line of httpbin's pretty-printed /headers.
var hostRe = regexp.MustCompile(`(?i)^\s*"host":\s*"([^"]*)"`)

// hostLines extracts the Host values that `grep -i -A1 '"host"'` printed.
func hostLines(out string) []string {
	var hosts []string
	for _, line := range strings.Split(out, "\n") {
		if m := hostRe.FindStringSubmatch(line); m != nil {
			hosts = append(hosts, m[1])
		}
	}
	return hosts
}
