package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// redisServer is a real redis-server on its own loopback address and a
// free port, its data in a temp dir, killed at the test's end. `make redis`
// (a dependency of make test and make e2e) installs Debian's when absent.
type redisServer struct {
	ip   string
	port int
	cmd  *exec.Cmd
}

func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin := os.Getenv("REDIS_SERVER_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("redis-server"); err != nil {
			bin = "/usr/bin/redis-server"
		}
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("redis-server not found (%v): run `make redis` or set REDIS_SERVER_BIN", err)
	}
	ip := newLoopbackIP(t)
	addr, err := testenv.FreePort() // a port free on 127.0.0.1 is free on ip too, unless taken there
	if err != nil {
		t.Fatal(err)
	}
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	dir := t.TempDir()
	r := &redisServer{ip: ip, port: port, cmd: exec.Command(bin, "--bind", ip, "--port", portStr, "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", dir+"/redis.log")}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	eventually(t, startBound, "redis-server answers PING", func() (bool, string) {
		out, err := r.do("PING")
		return err == nil && out == "+PONG", fmt.Sprint(out, err)
	})
	return r
}

func (r *redisServer) stop() {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

func (r *redisServer) addr() string { return net.JoinHostPort(r.ip, strconv.Itoa(r.port)) }

// do sends one inline command and returns the first line of the reply.
func (r *redisServer) do(cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", r.addr(), 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}
