package admin

import (
	"net"
	"net/http"
	"testing"
	"time"
)

func TestNewHTTPServer_Limits(t *testing.T) {
	srv := NewHTTPServer(http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("unbounded server: %+v", srv)
	}
}

// LimitListener serves at most n connections at once; the next waits
// until one closes.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis := LimitListener(inner, 1)
	defer lis.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first := <-accepted
	select {
	case <-accepted:
		t.Fatal("a second connection was accepted beyond the limit")
	case <-time.After(200 * time.Millisecond):
	}
	first.Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting connection was never accepted")
	}
}

// A body dribbled byte by byte and an idle keep-alive both lose their
// connection: the server's timeouts (shortened here; NewHTTPServer's own
// values are checked above) end them. (Verified to fail with both
// timeouts off.)
func TestNewHTTPServer_CutsDribblersAndIdlers(t *testing.T) {
	ts := newTestServer(t)
	srv := NewHTTPServer(ts.h)
	srv.ReadTimeout, srv.IdleTimeout = 300*time.Millisecond, 300*time.Millisecond
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { _ = srv.Close() })

	// Dribble: 1000 announced bytes, one every 50 ms, never all sent.
	c, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("POST /services HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	cut := false
	for time.Now().Before(deadline) && !cut {
		if _, err := c.Write([]byte(" ")); err != nil {
			cut = true
			break
		}
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				cut = true // EOF or reset: the server hung up
			}
		} else {
			cut = true // the server answered (an error) instead of waiting
		}
	}
	if !cut {
		t.Fatal("a dribbled request kept its connection for 5 s")
	}
	if ts.store.Revision() != 0 {
		t.Fatal("the dribbled write was applied")
	}

	// Idle keep-alive: one request, then silence; the server closes it.
	k, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, err := k.Write([]byte("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = k.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	for {
		if _, err := k.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("an idle keep-alive stayed open for 5 s")
			}
			return // closed by the server
		}
	}
}
