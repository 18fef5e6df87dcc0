package harness

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// BackendHeader names the backend that answered.
const BackendHeader = "X-Backend-Name"

// Backend is a minimal HTTP server on its own loopback address: every
// request gets 200 and a short fixed body, so that proxy benchmarks measure
// the proxy rather than the backend. It can listen on several ports (one
// target each).
type Backend struct {
	Name  string
	IP    string
	Ports []int
	Hits  atomic.Int64

	srv  *http.Server
	body []byte
	wg   sync.WaitGroup
	once sync.Once
}

// StartBackend listens on ports free ports of a fresh loopback address.
func StartBackend(name string, ports int) (*Backend, error) {
	b := &Backend{Name: name, IP: NewLoopbackIP()}
	b.body = []byte(fmt.Sprintf("{\"backend\":%q,\"ok\":true}\n", name))
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	for range max(ports, 1) {
		l, err := net.Listen("tcp", net.JoinHostPort(b.IP, "0"))
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("backend %s: listen on %s: %w", name, b.IP, err)
		}
		b.Ports = append(b.Ports, l.Addr().(*net.TCPAddr).Port)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			if err := b.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				_ = err // a closed backend is the point of the failover scenario
			}
		}()
	}
	return b, nil
}

// Addr is ip:port of the first (or i-th) listener.
func (b *Backend) Addr(i ...int) string {
	n := 0
	if len(i) > 0 {
		n = i[0]
	}
	return net.JoinHostPort(b.IP, strconv.Itoa(b.Ports[n]))
}

// URL is http://ip:port of the first listener.
func (b *Backend) URL() string { return "http://" + b.Addr() }

func (b *Backend) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	b.Hits.Add(1)
	h := w.Header()
	h[BackendHeader] = []string{b.Name}
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(b.body))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.body)
}

// Close stops listening and drops every open connection at once, as a
// crashed process would.
func (b *Backend) Close() {
	b.once.Do(func() {
		_ = b.srv.Close()
		b.wg.Wait()
	})
}
