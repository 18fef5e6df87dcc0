package ratelimit

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a real redis-server on a free loopback port, its data in a
// temp dir, stopped at the test's end. `make redis` (a dependency of make
// test) installs Debian's redis-server when absent.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
}

func redisBinary(t testing.TB) string {
	if p := os.Getenv("REDIS_SERVER_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/redis-server"); err == nil {
		return "/usr/bin/redis-server"
	}
	t.Fatal("redis-server not found: run `make redis` (make test does) or set REDIS_SERVER_BIN")
	return ""
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin := redisBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes", "--logfile", dir+"/redis.log")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd}
	t.Cleanup(s.stop)
	c := redis.NewClient(&redis.Options{Addr: s.addr, Protocol: 2, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(dir + "/redis.log")
			t.Fatalf("redis-server on %s not answering PING within 15s: %v\n%s", s.addr, err, log)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

func (s *redisServer) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func (s *redisServer) client(t testing.TB) *redis.Client { return s.clientDB(t, 0) }

func (s *redisServer) clientDB(t testing.TB, db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.addr, Protocol: 2, DB: db})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
