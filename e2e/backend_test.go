package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// backendHeader names the backend that answered, on every backend response,
// so load-balancing tests can count without parsing bodies.
const backendHeader = "X-Backend-Name"

// nextLoopback hands out 127.0.0.2, 127.0.0.3, …: every backend of the run
// gets its own address, so "which backend" is also "which IP" in Envoy's
// /clusters output and in the hosts file.
var nextLoopback atomic.Uint32

func init() { nextLoopback.Store(1) }

func newLoopbackIP(t *testing.T) string {
	n := nextLoopback.Add(1)
	if n > 254 {
		t.Fatal("out of 127.0.0.x addresses for backends")
	}
	return fmt.Sprintf("127.0.0.%d", n)
}

// backend is an httpbin-like HTTP server on its own loopback address. It
// echoes what it received (method, path, query, headers, body) as
// pretty-printed JSON, in httpbin's shapes, plus its own name.
type backend struct {
	name string
	ip   string
	port int
	srv  *http.Server
	hits atomic.Int64
}

// addr is ip:port.
func (b *backend) addr() string { return net.JoinHostPort(b.ip, strconv.Itoa(b.port)) }

// startBackend starts a backend named name on a fresh loopback address.
func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	ip := newLoopbackIP(t)
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("backend %s: listen on %s: %v", name, ip, err)
	}
	b := &backend{name: name, ip: ip, port: l.Addr().(*net.TCPAddr).Port}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := b.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("backend %s: %v", name, err)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.srv.Shutdown(ctx)
		<-done
	})
	return b
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.hits.Add(1)
	w.Header().Set(backendHeader, b.name)
	path := r.URL.Path
	switch {
	case path == "/headers":
		b.writeJSON(w, http.StatusOK, map[string]any{"headers": echoHeaders(r)})
	case strings.HasPrefix(path, "/status/"):
		code, err := strconv.Atoi(strings.TrimPrefix(path, "/status/"))
		if err != nil || code < 100 || code > 599 {
			b.writeJSON(w, http.StatusBadRequest, map[string]any{"error": "bad status code"})
			return
		}
		w.WriteHeader(code)
	case strings.HasPrefix(path, "/delay/"):
		secs, err := strconv.ParseFloat(strings.TrimPrefix(path, "/delay/"), 64)
		if err != nil || secs < 0 {
			b.writeJSON(w, http.StatusBadRequest, map[string]any{"error": "bad delay"})
			return
		}
		// httpbin caps delays at 10s; so do we, and a client that goes away
		// ends the wait.
		d := time.Duration(min(secs, 10) * float64(time.Second))
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		b.writeJSON(w, http.StatusOK, b.anything(r))
	default:
		// /anything, /anything/…, and every other path: echo the request.
		b.writeJSON(w, http.StatusOK, b.anything(r))
	}
}

// anything is httpbin's /anything body, plus "backend" and "path".
func (b *backend) anything(r *http.Request) map[string]any {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	args := map[string]any{}
	for k, v := range r.URL.Query() {
		if len(v) == 1 {
			args[k] = v[0]
		} else {
			args[k] = v
		}
	}
	origin, _, _ := net.SplitHostPort(r.RemoteAddr)
	return map[string]any{
		"args":    args,
		"backend": b.name,
		"data":    string(body),
		"headers": echoHeaders(r),
		"method":  r.Method,
		"origin":  origin,
		"path":    r.URL.Path,
		"url":     "http://" + r.Host + r.URL.RequestURI(),
	}
}

// echoHeaders renders request headers as httpbin does: canonical names,
// one string each (repeated values joined by ","), Host included.
func echoHeaders(r *http.Request) map[string]string {
	h := map[string]string{"Host": r.Host}
	for k, v := range r.Header {
		h[k] = strings.Join(v, ",")
	}
	return h
}

// writeJSON pretty-prints like httpbin: two-space indent, one key per line,
// so `grep -i -A1 '"host"'` finds the Host line as it does on httpbin.org.
func (b *backend) writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// echo is a decoded backend answer.
type echo struct {
	Backend string            `json:"backend"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	URL     string            `json:"url"`
	Args    map[string]any    `json:"args"`
	Headers map[string]string `json:"headers"`
}

// header returns an echoed request header, case-insensitively.
func (e echo) header(name string) (string, bool) {
	for k, v := range e.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func TestBackend_Echo(t *testing.T) {
	b := startBackend(t, "echo-a")
	base := "http://" + b.addr()

	resp, err := http.Get(base + "/headers")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get(backendHeader) != "echo-a" {
		t.Errorf("%s = %q", backendHeader, resp.Header.Get(backendHeader))
	}
	// httpbin layout: the Host header on a line of its own.
	if !strings.Contains(string(body), "\n    \"Host\": \""+b.addr()+"\"") {
		t.Errorf("/headers body lacks an indented Host line:\n%s", body)
	}

	req, _ := http.NewRequest(http.MethodPost, base+"/anything/x?q=1&q=2&r=s", strings.NewReader("hello"))
	req.Header.Set("X-Test", "yes")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if e.Backend != "echo-a" || e.Method != "POST" || e.Path != "/anything/x" || e.Args["r"] != "s" {
		t.Errorf("echo = %+v", e)
	}
	if v, _ := e.header("x-test"); v != "yes" {
		t.Errorf("X-Test echoed as %q", v)
	}

	resp, err = http.Get(base + "/status/418")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 418 {
		t.Errorf("/status/418 = %d", resp.StatusCode)
	}

	resp, err = http.Get(base + "/delay/0.01")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/delay = %d", resp.StatusCode)
	}
	if b.hits.Load() != 4 {
		t.Errorf("hits = %d, want 4", b.hits.Load())
	}
}
