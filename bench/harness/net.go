package harness

import (
	"fmt"
	"net"
	"sync/atomic"
)

// FreePort returns a loopback host:port that was free a moment ago. The
// race with other processes is accepted; starters retry on bind errors.
func FreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
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

// nextIP hands out 127.0.0.2 … 127.0.0.254 round robin: each backend of a
// scenario gets its own address, so "which backend" is also "which IP" in
// Envoy's admin output. Ports are always free ports, so reusing an address
// after a wrap is harmless.
var nextIP atomic.Uint32

// NewLoopbackIP returns the next backend address.
func NewLoopbackIP() string {
	n := nextIP.Add(1)
	return fmt.Sprintf("127.0.0.%d", 2+(n-1)%253)
}
