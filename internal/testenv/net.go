package testenv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The range FreePort draws from, below Linux's ephemeral range
// (32768–60999): a port the kernel picks for "port 0" is also what it gives
// outgoing connections, so on a machine busy with connections (a load test
// next door) the kernel offered the same last free port to every "port 0"
// listen of a stack, and the admin and xDS listeners collided on every retry.
const freePortLow, freePortHigh = 20000, 32768

// handedOut holds every address FreePort returned: none is handed out
// twice in one process.
var handedOut sync.Map

// FreePort returns a loopback host:port that was free a moment ago. The
// race with other processes is accepted; starters retry on a bind error.
func FreePort() (string, error) {
	for range 1000 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePortLow+rand.IntN(freePortHigh-freePortLow)))
		if _, dup := handedOut.LoadOrStore(addr, true); dup {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		_ = l.Close()
		return addr, nil
	}
	return "", errors.New("free port: none free below the ephemeral range")
}

// FreePorts returns n free loopback addresses.
func FreePorts(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		a, err := FreePort()
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// nextIP hands out 127.0.0.2 … 127.0.0.254 round robin: each backend gets
// its own address, so "which backend" is also "which IP" in Envoy's admin
// output and in the hosts file. Listeners always take a free port, so an
// address reused after a wrap (past 253 backends) is harmless.
var nextIP atomic.Uint32

// NewLoopbackIP returns the next backend address.
func NewLoopbackIP() string {
	n := nextIP.Add(1)
	return fmt.Sprintf("127.0.0.%d", 2+(n-1)%253)
}

// WriteHostsFile writes an /etc/hosts-style file (name → IP, sorted) for
// switchboard's --dns-hostsfile: tests never use the machine's resolver.
func WriteHostsFile(dir string, hosts map[string]string) (string, error) {
	names := make([]string, 0, len(hosts))
	for n := range hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# written by the switchboard test harness (internal/testenv)\n127.0.0.1 localhost\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", hosts[n], n)
	}
	path := filepath.Join(dir, "hosts")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
