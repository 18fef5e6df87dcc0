package testenv

import (
	"context"
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

// Backend is an HTTP server on its own loopback address, listening on one
// or more free ports (one target each). Every answer carries BackendHeader.
// StartBackend's answers every request with 200 and a short fixed body, so
// that proxy benchmarks measure the proxy rather than the backend;
// StartEchoBackend's echoes the request as httpbin does.
type Backend struct {
	Name  string
	IP    string
	Ports []int
	// Hits counts the requests served.
	Hits atomic.Int64

	srv  *http.Server
	body []byte
	echo bool
	wg   sync.WaitGroup
	once sync.Once

	mu       sync.Mutex
	serveErr error
}

// ServeErr is why a listener stopped serving other than by Close or
// Shutdown (nil normally).
func (b *Backend) ServeErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.serveErr
}

// StartBackend listens on ports free ports of a fresh loopback address and
// answers with a fixed body.
func StartBackend(name string, ports int) (*Backend, error) {
	return startBackend(&Backend{Name: name, IP: NewLoopbackIP(),
		body: []byte(fmt.Sprintf("{\"backend\":%q,\"ok\":true}\n", name))}, ports)
}

// StartEchoBackend listens on one free port of a fresh loopback address
// and answers as httpbin does (echo.go).
func StartEchoBackend(name string) (*Backend, error) {
	return startBackend(&Backend{Name: name, IP: NewLoopbackIP(), echo: true}, 1)
}

func startBackend(b *Backend, ports int) (*Backend, error) {
	name := b.Name
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
				b.mu.Lock()
				b.serveErr = err
				b.mu.Unlock()
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

func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.Hits.Add(1)
	if b.echo {
		w.Header().Set(BackendHeader, b.Name)
		serveEcho(w, r, b.Name)
		return
	}
	h := w.Header()
	h[BackendHeader] = []string{b.Name}
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(b.body))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.body)
}

// Shutdown stops listening and waits for the requests in flight (bounded
// by ctx), as a process that exits cleanly would.
func (b *Backend) Shutdown(ctx context.Context) error {
	var err error
	b.once.Do(func() {
		err = b.srv.Shutdown(ctx)
		b.wg.Wait()
	})
	return err
}

// Close stops listening and drops every open connection at once, as a
// crashed process would.
func (b *Backend) Close() {
	b.once.Do(func() {
		_ = b.srv.Close()
		b.wg.Wait()
	})
}
