package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// The HTTPS listener through a real Envoy (kong-tls.md D1–D4, §3.2–3.5),
// with throw-away certificates made here: Kong's certificate order by SNI,
// HTTP/2 by ALPN, https-only routes over plain HTTP, route snis, the
// X-Forwarded headers, and a rotation under a held keep-alive connection.
// Both xDS protocols: secrets reach a SotW Envoy by name, a delta one by
// subscription.
func TestHTTPS_Listener(t *testing.T) {
	t.Parallel()
	for name, delta := range map[string]bool{"delta": true, "sotw": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			httpsListener(t, delta)
		})
	}
}

func httpsListener(t *testing.T, delta bool) {
	s := startStack(t, stackOptions{delta: delta, extraArgs: []string{"--log-level", "debug"}})
	be := startBackend(t, "tls-echo")
	ca := newTestCA(t, "https-ca")

	s.mustAPI("POST", "/services", form("name", "echo", "url", "http://"+be.addr()), 201)
	for _, r := range [][]string{
		{"name", "both", "paths[]", "/both"},
		{"name", "secure", "paths[]", "/secure", "protocols[]", "https"},
		{"name", "redirect", "paths[]", "/redirect", "protocols[]", "https", "https_redirect_status_code", "301"},
		{"name", "sni", "paths[]", "/sni", "protocols[]", "https", "snis[]", "exact.test"},
		{"name", "grpcs", "paths[]", "/grpcs", "protocols[]", "grpcs"},
	} {
		s.mustAPI("POST", "/services/echo/routes", form(r...), 201)
	}
	certs := map[string]string{} // CN → certificate id
	for _, c := range []struct{ cn, sni string }{
		{"exact.test", "exact.test"}, {"prefix", "*.wild.test"}, {"suffix", "wild.*"}, {"star", "*"},
	} {
		cert, key := ca.issue(t, c.cn)
		body := s.mustAPI("POST", "/certificates", form("cert", string(cert), "key", string(key), "snis[]", c.sni), 201)
		certs[c.cn] = body["id"].(string)
	}

	// Kong's order: exact, one-label prefix wildcard, one-label suffix
	// wildcard, the "*" SNI; no SNI gets the default certificate.
	want := map[string]string{
		"exact.test": "exact.test", "a.wild.test": "prefix", "a.b.wild.test": "star",
		"wild.org": "suffix", "other.example": "star", "": "localhost",
	}
	s.converge("every SNI served its certificate", func() (bool, string) {
		for sni, cn := range want {
			leaf, _, err := s.handshake(sni)
			if err != nil {
				return false, err.Error()
			}
			if leaf.Subject.CommonName != cn {
				return false, fmt.Sprintf("SNI %q got %q, want %q", sni, leaf.Subject.CommonName, cn)
			}
		}
		return true, ""
	})
	if leaf, _, _ := s.handshake(""); len(leaf.Subject.Organization) == 0 || leaf.Subject.Organization[0] != "Kong" {
		t.Errorf("default certificate subject %v, want Kong's (O=Kong, CN=localhost)", leaf.Subject)
	}

	t.Run("the default pair is RSA and ECDSA", func(t *testing.T) {
		// Envoy serves ECDSA to a client that can verify it, RSA to one
		// that cannot. Go's client always can (it advertises ECDSA even
		// when its cipher suites or groups rule it out, and Envoy then
		// fails the handshake rather than fall back to RSA), so the RSA
		// side is asked with openssl: TLS 1.2 without the P-256 group.
		if leaf, _, err := s.handshake(""); err != nil || leaf.PublicKeyAlgorithm != x509.ECDSA {
			t.Errorf("default client: %v certificate (err %v), want ECDSA", leaf.PublicKeyAlgorithm, err)
		}
		openssl, err := exec.LookPath("openssl")
		if err != nil {
			t.Log("no openssl on PATH: the RSA default is not checked")
			return
		}
		cmd := exec.Command(openssl, "s_client", "-connect", s.proxyTLSAddr, "-tls1_2", "-curves", "X25519")
		cmd.Stdin = strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), "Server public key is 2048 bit") {
			t.Errorf("TLS 1.2 client without P-256: want the RSA 2048 default, openssl said:\n%s", out)
		}
	})

	t.Run("http2 by ALPN and Kong's forwarded headers", func(t *testing.T) {
		c := s.httpsClient("exact.test", true)
		resp, e := s.httpsGet(t, c, "/both")
		if resp.ProtoMajor != 2 || resp.TLS.NegotiatedProtocol != "h2" {
			t.Errorf("protocol %s, ALPN %q; want HTTP/2 by ALPN h2", resp.Proto, resp.TLS.NegotiatedProtocol)
		}
		_, port, _ := net.SplitHostPort(s.proxyTLSAddr)
		for h, v := range map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Port": port} {
			if got, _ := e.header(h); got != v {
				t.Errorf("%s = %q, want %q", h, got, v)
			}
		}
		if r, e := s.httpsGet(t, s.httpsClient("exact.test", false), "/secure"); r.StatusCode != 200 || e.Backend != "tls-echo" {
			t.Errorf("https-only route over TLS: %d from %q, want 200 from the backend", r.StatusCode, e.Backend)
		}
	})

	t.Run("https-only over plain HTTP", func(t *testing.T) {
		noFollow := &http.Client{Timeout: requestTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		for _, c := range []struct {
			path, status, body, location string
			forwardedProto               string
		}{
			{"/secure", "426", `{"message":"Please use HTTPS protocol"}`, "", ""},
			// An untrusted client's X-Forwarded-Proto does not count (Kong's
			// trusted_ips default).
			{"/secure", "426", `{"message":"Please use HTTPS protocol"}`, "", "https"},
			// Route snis are ignored on plain HTTP (Kong/kong#6425).
			{"/sni", "426", `{"message":"Please use HTTPS protocol"}`, "", ""},
			{"/redirect?a=b", "301", "", "https://example.com/redirect?a=b", ""},
		} {
			req, _ := http.NewRequest("GET", s.proxyURL(c.path), nil)
			req.Host = "example.com:8000"
			if c.forwardedProto != "" {
				req.Header.Set("X-Forwarded-Proto", c.forwardedProto)
			}
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if fmt.Sprint(resp.StatusCode) != c.status || (c.body != "" && strings.TrimSpace(string(b)) != c.body) ||
				resp.Header.Get("Location") != c.location {
				t.Errorf("GET %s: %d %q Location %q; want %s %q %q", c.path, resp.StatusCode, b, resp.Header.Get("Location"), c.status, c.body, c.location)
			}
		}
		// A grpcs-only route over plain HTTP (Kong's handler.lua): 415 for
		// a request that is not gRPC, grpc-status 1 for one that is.
		r := s.get("/grpcs", "")
		if r.status != 415 || kongMessage(r.body) != "Non-gRPC request matched gRPC route" {
			t.Errorf("grpcs-only, not gRPC: %s", r)
		}
		req, _ := http.NewRequest("POST", s.proxyURL("/grpcs/pkg.Svc/Call"), strings.NewReader(""))
		req.Header.Set("Content-Type", "application/grpc")
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Grpc-Status") != "1" || resp.Header.Get("Grpc-Message") != "gRPC request matched gRPCs route" {
			t.Errorf("grpcs-only, gRPC: %d grpc-status %q grpc-message %q", resp.StatusCode, resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message"))
		}
	})

	t.Run("route snis match the connection's SNI", func(t *testing.T) {
		if r, _ := s.httpsGet(t, s.httpsClient("exact.test", false), "/sni"); r.StatusCode != 200 {
			t.Errorf("SNI exact.test: %d", r.StatusCode)
		}
		if r, _ := s.httpsGet(t, s.httpsClient("a.wild.test", false), "/sni"); r.StatusCode != 404 {
			t.Errorf("SNI a.wild.test on a route with snis [exact.test]: %d, want 404", r.StatusCode)
		}
	})

	t.Run("rotation keeps a held connection", func(t *testing.T) {
		held := s.dialHeld(t, "exact.test")
		defer held.Close()
		oldSerial := held.leaf().SerialNumber
		held.roundTrip(t, "/both")
		stats := testenv.NewEnvoyAdmin(s.envoyAdminAddr)
		defer stats.Close()
		before, err := stats.Stats(`^listener_manager\.listener_(modified|removed)$`)
		if err != nil {
			t.Fatal(err)
		}

		cert, key := ca.issue(t, "exact.test")
		s.mustAPI("PATCH", "/certificates/"+certs["exact.test"], form("cert", string(cert), "key", string(key)), 200)
		s.converge("new handshakes get the rotated certificate", func() (bool, string) {
			leaf, _, err := s.handshake("exact.test")
			if err != nil {
				return false, err.Error()
			}
			return leaf.SerialNumber.Cmp(oldSerial) != 0, "still serial " + leaf.SerialNumber.String()
		})
		if h := held.roundTrip(t, "/both"); strings.EqualFold(h.Get("Connection"), "close") {
			t.Error("the held connection was told to close")
		}
		if held.leaf().SerialNumber.Cmp(oldSerial) != 0 {
			t.Error("the held connection's certificate changed")
		}
		after, err := stats.Stats(`^listener_manager\.listener_(modified|removed)$`)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range before {
			if after[k] != v {
				t.Errorf("%s %d → %d: a rotation must not touch the listener", k, v, after[k])
			}
		}
	})

	t.Run("keys are redacted in Envoy's config_dump", func(t *testing.T) {
		dump, err := testenv.NewEnvoyAdmin(s.envoyAdminAddr).Get("/config_dump")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dump, "PRIVATE KEY") || !strings.Contains(dump, "[redacted]") {
			t.Error("config_dump holds a private key, or redacts none")
		}
		// Nor does switchboard's log (its own lines and the local Envoy's),
		// after every certificate write of this test, at debug level.
		if strings.Contains(s.cp.Output(), "PRIVATE KEY") {
			t.Error("a private key reached switchboard's log")
		}
	})
}

// handshake opens a TLS connection to the TLS listener with sni (none when
// empty) and returns the served leaf and the negotiated protocol.
func (s *stack) handshake(sni string) (*x509.Certificate, string, error) {
	d := &net.Dialer{Timeout: requestTimeout}
	conn, err := tls.DialWithDialer(d, "tcp", s.proxyTLSAddr, &tls.Config{
		ServerName: sni, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}, //nolint:gosec // the test reads the leaf itself
	})
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	st := conn.ConnectionState()
	return st.PeerCertificates[0], st.NegotiatedProtocol, nil
}

// httpsClient speaks to the TLS listener with sni, offering h2 when h2.
func (s *stack) httpsClient(sni string, h2 bool) *http.Client {
	cfg := &tls.Config{ServerName: sni, InsecureSkipVerify: true} //nolint:gosec // certificates are the test's own
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: h2}
	if !h2 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	s.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: requestTimeout, Transport: tr}
}

func (s *stack) httpsGet(t *testing.T, c *http.Client, path string) (*http.Response, echo) {
	t.Helper()
	resp, err := c.Get("https://" + s.proxyTLSAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e echo
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &e.Echo); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp, e
}

// heldConn is one TLS keep-alive connection, driven by hand so that the
// test knows every request went over it.
type heldConn struct {
	conn *tls.Conn
	r    *bufio.Reader
}

func (s *stack) dialHeld(t *testing.T, sni string) *heldConn {
	t.Helper()
	conn, err := tls.Dial("tcp", s.proxyTLSAddr, &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) //nolint:gosec // as above
	if err != nil {
		t.Fatal(err)
	}
	return &heldConn{conn: conn, r: bufio.NewReader(conn)}
}

func (h *heldConn) leaf() *x509.Certificate { return h.conn.ConnectionState().PeerCertificates[0] }
func (h *heldConn) Close()                  { h.conn.Close() }

// roundTrip sends GET path on the held connection and returns the answer's
// headers; it fails t unless the answer is a 200.
func (h *heldConn) roundTrip(t *testing.T, path string) http.Header {
	t.Helper()
	if err := h.conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(h.conn, "GET %s HTTP/1.1\r\nHost: exact.test\r\n\r\n", path); err != nil {
		t.Fatalf("the held connection: %v", err)
	}
	resp, err := http.ReadResponse(h.r, nil)
	if err != nil {
		t.Fatalf("the held connection: %v", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("the held connection: GET %s: %d", path, resp.StatusCode)
	}
	return resp.Header
}

// --proxy-tls-cert/--proxy-tls-key replace the cluster's default pair, and
// GET / lists the TLS listener as Kong does (ssl, http2).
func TestHTTPS_DefaultCertificateFlags(t *testing.T) {
	t.Parallel()
	requireStack(t)
	dir := t.TempDir()
	cert, key := newTestCA(t, "flags-ca").issue(t, "flag-default")
	s := startStack(t, stackOptions{extraArgs: []string{
		"--proxy-tls-cert", writeFile(t, dir, "cert.pem", cert), "--proxy-tls-key", writeFile(t, dir, "key.pem", key),
	}})
	s.converge("the flag certificate served without SNI", func() (bool, string) {
		leaf, _, err := s.handshake("")
		if err != nil {
			return false, err.Error()
		}
		return leaf.Subject.CommonName == "flag-default", "served " + leaf.Subject.CommonName
	})
	root := s.mustAPI("GET", "/", nil, 200)
	conf, _ := root["configuration"].(map[string]any)
	listeners, _ := conf["proxy_listeners"].([]any)
	var tlsListener map[string]any
	for _, l := range listeners {
		if m, _ := l.(map[string]any); m["ssl"] == true {
			tlsListener = m
		}
	}
	_, port, _ := net.SplitHostPort(s.proxyTLSAddr)
	if len(listeners) != 2 || tlsListener == nil || tlsListener["http2"] != true || fmt.Sprint(tlsListener["port"]) != port {
		t.Errorf("proxy_listeners = %v, want the plain listener and the TLS one (ssl, http2, port %s)", listeners, port)
	}
}
