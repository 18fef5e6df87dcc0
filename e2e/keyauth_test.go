package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Kong 3.9's key-auth behaviour through a real Envoy (kong-plugins.md §2.3,
// spec 09-key-auth/02-access and 03-invalidations): every subtest writes
// through the Admin API, waits with a bound until Envoy shows the change,
// then checks what the client and the upstream see.

// kaRequest is one request through the proxy for the key-auth tests.
type kaRequest struct {
	method, path string
	header       http.Header
	contentType  string
	body         []byte
}

// kaEcho is what the echo backend saw, or Envoy's own answer.
type kaEcho struct {
	status  int
	header  http.Header
	message string // Kong's {"message"} when Envoy answered
	url     string
	data    string
	seen    map[string]string // request headers upstream, by canonical name
}

func (e kaEcho) String() string {
	return fmt.Sprintf("%d %q url=%s headers=%v", e.status, e.message, e.url, e.seen)
}

// has reports whether the upstream saw header name (any case).
func (e kaEcho) has(name string) (string, bool) {
	v, ok := e.seen[http.CanonicalHeaderKey(name)]
	return v, ok
}

func (s *stack) kaDo(r kaRequest) kaEcho {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if r.method == "" {
		r.method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, r.method, s.proxyURL(r.path), bytes.NewReader(r.body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := s.proxy.Do(req)
	if err != nil {
		return kaEcho{message: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	e := kaEcho{status: resp.StatusCode, header: resp.Header, seen: map[string]string{}}
	var echoed struct {
		URL     string            `json:"url"`
		Data    string            `json:"data"`
		Headers map[string]string `json:"headers"`
	}
	if resp.Header.Get(backendHeader) != "" && json.Unmarshal(b, &echoed) == nil {
		e.url, e.data = echoed.URL, echoed.Data
		for k, v := range echoed.Headers {
			e.seen[http.CanonicalHeaderKey(k)] = v
		}
	} else {
		e.message = kongMessage(b)
	}
	return e
}

// kaWant checks a 401 with Kong's message and WWW-Authenticate.
func kaWant401(t *testing.T, e kaEcho, message, www string) {
	t.Helper()
	if e.status != http.StatusUnauthorized || e.message != message {
		t.Errorf("got %v, want 401 %q", e, message)
		return
	}
	if got := e.header.Get("WWW-Authenticate"); got != www {
		t.Errorf("WWW-Authenticate %q, want %q", got, www)
	}
	if ct := e.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("401 content type %q", ct)
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// kaRoute creates route name (/name) on the echo service with a key-auth
// instance configured by cfg, and waits until Envoy enforces it.
func kaRoute(s *stack, name string, cfg ...string) {
	s.t.Helper()
	s.mustAPI("POST", "/services/echo/routes", form("name", name, "paths[]", "/"+name), 201)
	// The route first, seen by its own prefix: a shorter route's prefix
	// (/body for /body-only) must not answer the probes below.
	s.converge("route /"+name, func() (bool, string) {
		e := s.kaDo(kaRequest{path: "/" + name})
		p, _ := e.has("X-Forwarded-Prefix")
		return e.status == http.StatusOK && p == "/"+name, e.String()
	})
	s.mustAPI("POST", "/routes/"+name+"/plugins", form(append([]string{"name", "key-auth"}, cfg...)...), 201)
	// Active once a keyless request is refused, or reaches the upstream
	// with an identity (anonymous).
	s.converge("key-auth on /"+name, func() (bool, string) {
		e := s.kaDo(kaRequest{path: "/" + name})
		_, identified := e.has("X-Consumer-ID")
		return e.status == http.StatusUnauthorized || e.status == http.StatusInternalServerError || identified, e.String()
	})
}

func TestKeyAuth(t *testing.T) {
	t.Parallel()
	echoBackend := startBackend(t, "echo")
	s := startStack(t, stackOptions{})
	s.mustAPI("POST", "/services", form("name", "echo", "url", "http://"+echoBackend.addr()), 201)
	bob := s.mustAPI("POST", "/consumers", form("username", "bob"), 201)
	cred := s.mustAPI("POST", "/consumers/bob/key-auth", form("key", "bob-key"), 201)
	s.mustAPI("POST", "/consumers", form("username", "no-body"), 201)
	kaRoute(s, "plain")
	s.converge("bob's key on /plain", func() (bool, string) {
		e := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "bob-key")})
		return e.status == http.StatusOK, e.String()
	})

	t.Run("messages", func(t *testing.T) {
		kaWant401(t, s.kaDo(kaRequest{path: "/plain"}), "No API key found in request", "Key")
		kaWant401(t, s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "bad-key")}), "Unauthorized", "Key")
		kaWant401(t, s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "")}), "No API key found in request", "Key")
		kaWant401(t, s.kaDo(kaRequest{path: "/plain?apikey"}), "No API key found in request", "Key")
		kaWant401(t, s.kaDo(kaRequest{path: "/plain?apikey=bob-key&apikey=bob-key"}), "Duplicate API key found", "Key")
		kaWant401(t, s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "bob-key", "Apikey", "bob-key")}), "Duplicate API key found", "Key")
		// "underscores or hyphens in key headers": key name api_key finds
		// headers api_key and api-key; key name api-key only api-key.
		kaRoute(s, "underscore", "config.key_names", "api_key")
		for _, h := range []string{"api_key", "api-key"} {
			if e := s.kaDo(kaRequest{path: "/underscore", header: http.Header{h: {"bob-key"}}}); e.status != http.StatusOK {
				t.Errorf("header %s: %v", h, e)
			}
		}
		kaRoute(s, "hyphen", "config.key_names", "api-key")
		kaWant401(t, s.kaDo(kaRequest{path: "/hyphen", header: http.Header{"api_key": {"bob-key"}}}), "No API key found in request", "Key")
		kaRoute(s, "realm", "config.realm", "test-realm")
		kaWant401(t, s.kaDo(kaRequest{path: "/realm"}), "No API key found in request", `Key realm="test-realm"`)
	})

	// "rejects call without credentials": a gRPC client gets
	// Unauthenticated with Kong's message, not a JSON body.
	t.Run("gRPC", func(t *testing.T) {
		s.mustAPI("POST", "/services/echo/routes", form("name", "grpc", "protocols[]", "grpc", "paths[]", "/grpc.health.v1.Health"), 201)
		s.mustAPI("POST", "/routes/grpc/plugins", form("name", "key-auth"), 201)
		conn, err := grpc.NewClient(s.proxyAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		s.converge("key-auth on the gRPC route", func() (bool, string) {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			defer cancel()
			_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			st := status.Convert(err)
			return st.Code() == codes.Unauthenticated && st.Message() == "No API key found in request", fmt.Sprint(err)
		})
	})

	t.Run("consumer headers, spoofed copies stripped", func(t *testing.T) {
		e := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "bob-key",
			"X-Consumer-ID", "spoof", "X-Consumer-Username", "spoof", "X-Consumer-Custom-ID", "spoof",
			"X-Credential-Identifier", "spoof", "X-Anonymous-Consumer", "true")})
		if e.status != http.StatusOK {
			t.Fatalf("bob's key: %v", e)
		}
		want := map[string]string{"X-Consumer-Id": bob["id"].(string), "X-Consumer-Username": "bob", "X-Credential-Identifier": cred["id"].(string)}
		for k, v := range want {
			if got, _ := e.has(k); got != v {
				t.Errorf("upstream %s = %q, want %q", k, got, v)
			}
		}
		for _, k := range []string{"X-Consumer-Custom-ID", "X-Anonymous-Consumer"} {
			if v, ok := e.has(k); ok {
				t.Errorf("upstream saw %s: %q (bob has none; the client's copy must go)", k, v)
			}
		}
		if v, _ := e.has("Apikey"); v != "bob-key" {
			t.Errorf("hide_credentials=false: upstream apikey %q", v)
		}
	})

	t.Run("hide_credentials in header and query", func(t *testing.T) {
		kaRoute(s, "hide", "config.hide_credentials", "true")
		e := s.kaDo(kaRequest{path: "/hide", header: hdr("Apikey", "bob-key")})
		if _, ok := e.has("Apikey"); ok || e.status != http.StatusOK {
			t.Errorf("key in header: %v", e)
		}
		// Kong keeps the other arguments in their order and encoding.
		e = s.kaDo(kaRequest{path: "/hide?c=value1&apikey=bob-key&b=value2&a=value%203"})
		if e.status != http.StatusOK || !strings.HasSuffix(e.url, "/?c=value1&b=value2&a=value%203") {
			t.Errorf("key in query: %v, want ?c=value1&b=value2&a=value%%203 upstream", e)
		}
		// "removes apikey in encoded query": the name matches decoded.
		e = s.kaDo(kaRequest{path: "/hide?c=value1&api%6Bey=bob-key&b=value2"})
		if e.status != http.StatusOK || !strings.HasSuffix(e.url, "/?c=value1&b=value2") {
			t.Errorf("encoded key name in query: %v", e)
		}
		e = s.kaDo(kaRequest{path: "/plain?c=1&apikey=bob-key&a=2"})
		if !strings.HasSuffix(e.url, "/?c=1&apikey=bob-key&a=2") {
			t.Errorf("hide_credentials=false changed the query: %v", e)
		}
	})

	t.Run("key sources switched off", func(t *testing.T) {
		kaRoute(s, "no-header", "config.key_in_header", "false")
		kaWant401(t, s.kaDo(kaRequest{path: "/no-header", header: hdr("Apikey", "bob-key")}), "No API key found in request", "Key")
		if e := s.kaDo(kaRequest{path: "/no-header?apikey=bob-key"}); e.status != http.StatusOK {
			t.Errorf("query key: %v", e)
		}
		kaRoute(s, "no-query", "config.key_in_query", "false")
		kaWant401(t, s.kaDo(kaRequest{path: "/no-query?apikey=bob-key"}), "No API key found in request", "Key")
	})

	t.Run("key_in_body", func(t *testing.T) {
		kaRoute(s, "body", "config.key_in_body", "true", "config.hide_credentials", "true")
		for _, b := range kaBodies() {
			e := s.kaDo(kaRequest{method: "POST", path: "/body", contentType: b.contentType, body: b.with("bob-key")})
			if e.status != http.StatusOK || strings.Contains(e.data, "bob-key") || !strings.Contains(e.data, "keep-me") {
				t.Errorf("%s: %v body upstream %q (want the key cut out, the rest kept)", b.name, e, e.data)
			}
			if ct, _ := e.has("Content-Type"); ct != b.contentType {
				t.Errorf("%s: upstream content type %q", b.name, ct)
			}
			kaWant401(t, s.kaDo(kaRequest{method: "POST", path: "/body", contentType: b.contentType, body: b.with("nope")}), "Unauthorized", "Key")
			kaWant401(t, s.kaDo(kaRequest{method: "POST", path: "/body", contentType: b.contentType, body: b.twice("bob-key")}), "Duplicate API key found", "Key")
		}
		// "does not identify apikey[] / apikey[1] as api keys"; unsupported content type.
		for _, b := range []string{"apikey[]=bob-key", "apikey[1]=bob-key"} {
			kaWant401(t, s.kaDo(kaRequest{method: "POST", path: "/body", contentType: "application/x-www-form-urlencoded", body: []byte(b)}), "No API key found in request", "Key")
		}
		kaWant401(t, s.kaDo(kaRequest{method: "POST", path: "/body", contentType: "text/plain", body: []byte("apikey=bob-key")}), "No API key found in request", "Key")
		// The body alone (header and query off): only the body key counts.
		kaRoute(s, "body-only", "config.key_in_body", "true", "config.key_in_header", "false", "config.key_in_query", "false")
		kaWant401(t, s.kaDo(kaRequest{method: "POST", path: "/body-only", header: hdr("Apikey", "bob-key")}), "No API key found in request", "Key")
		kaWant401(t, s.kaDo(kaRequest{method: "POST", path: "/body-only?apikey=bob-key"}), "No API key found in request", "Key")
		if e := s.kaDo(kaRequest{method: "POST", path: "/body-only", contentType: "application/json", body: []byte(`{"apikey":"bob-key"}`)}); e.status != http.StatusOK {
			t.Errorf("body-only with a JSON key: %v", e)
		}
		// Off by default: a body key is not read.
		kaWant401(t, s.kaDo(kaRequest{method: "POST", path: "/plain", contentType: "application/x-www-form-urlencoded", body: []byte("apikey=bob-key")}), "No API key found in request", "Key")
	})

	t.Run("run_on_preflight", func(t *testing.T) {
		kaRoute(s, "preflight", "config.run_on_preflight", "false")
		if e := s.kaDo(kaRequest{method: "OPTIONS", path: "/preflight"}); e.status != http.StatusOK {
			t.Errorf("OPTIONS with run_on_preflight=false: %v, want 200", e)
		}
		kaWant401(t, s.kaDo(kaRequest{path: "/preflight"}), "No API key found in request", "Key")
		kaWant401(t, s.kaDo(kaRequest{method: "OPTIONS", path: "/plain"}), "No API key found in request", "Key")
	})

	t.Run("anonymous", func(t *testing.T) {
		kaRoute(s, "anon", "config.anonymous", "no-body")
		for _, h := range []http.Header{nil, hdr("Apikey", "wrong")} {
			e := s.kaDo(kaRequest{path: "/anon", header: h})
			if u, _ := e.has("X-Consumer-Username"); e.status != http.StatusOK || u != "no-body" {
				t.Errorf("anonymous (%v): %v", h, e)
			}
			if a, _ := e.has("X-Anonymous-Consumer"); a != "true" {
				t.Errorf("anonymous: X-Anonymous-Consumer %q", a)
			}
			if _, ok := e.has("X-Credential-Identifier"); ok {
				t.Errorf("anonymous request carries a credential: %v", e)
			}
		}
		e := s.kaDo(kaRequest{path: "/anon", header: hdr("Apikey", "bob-key", "X-Anonymous-Consumer", "true")})
		if u, _ := e.has("X-Consumer-Username"); u != "bob" {
			t.Errorf("right key with anonymous set: %v", e)
		}
		if _, ok := e.has("X-Anonymous-Consumer"); ok {
			t.Errorf("authenticated request flagged anonymous: %v", e)
		}
		// "errors when anonymous user doesn't exist": 500.
		kaRoute(s, "anon-missing", "config.anonymous", "ghost")
		s.converge("anonymous ghost", func() (bool, string) {
			e := s.kaDo(kaRequest{path: "/anon-missing"})
			return e.status == http.StatusInternalServerError && e.message == "An unexpected error occurred", e.String()
		})
	})

	t.Run("revoked and expiring keys", func(t *testing.T) {
		s.mustAPI("POST", "/consumers/bob/key-auth", form("key", "revoke-me"), 201)
		s.converge("a new key", func() (bool, string) {
			e := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "revoke-me")})
			return e.status == http.StatusOK, e.String()
		})
		// "invalidated credentials from cache when updated": the old key
		// is refused, the new one works.
		s.mustAPI("PATCH", "/consumers/bob/key-auth/revoke-me", form("key", "renamed"), 200)
		s.converge("the renamed key", func() (bool, string) {
			old := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "revoke-me")})
			renamed := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "renamed")})
			return old.status == http.StatusUnauthorized && renamed.status == http.StatusOK, old.String() + " / " + renamed.String()
		})
		s.mustAPI("DELETE", "/consumers/bob/key-auth/renamed", nil, 204)
		s.converge("the revoked key refused", func() (bool, string) {
			e := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "renamed")})
			return e.status == http.StatusUnauthorized && e.message == "Unauthorized", e.String()
		})
		// "authenticate for up to 'ttl'": accepted, then refused once
		// the ttl ran out, with no write in between.
		s.mustAPI("POST", "/consumers/bob/key-auth", form("key", "short-lived", "ttl", "4"), 201)
		s.converge("the ttl key", func() (bool, string) {
			e := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "short-lived")})
			return e.status == http.StatusOK, e.String()
		})
		eventually(t, 30*time.Second, "the ttl key expiring", func() (bool, string) {
			e := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "short-lived")})
			return e.status == http.StatusUnauthorized && e.message == "Unauthorized", e.String()
		})
		// Deleting the consumer invalidates its keys.
		s.mustAPI("POST", "/consumers", form("username", "temp"), 201)
		s.mustAPI("POST", "/consumers/temp/key-auth", form("key", "temp-key"), 201)
		s.converge("temp's key", func() (bool, string) {
			e := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "temp-key")})
			return e.status == http.StatusOK, e.String()
		})
		s.mustAPI("DELETE", "/consumers/temp", nil, 204)
		s.converge("temp's key gone with temp", func() (bool, string) {
			e := s.kaDo(kaRequest{path: "/plain", header: hdr("Apikey", "temp-key")})
			return e.status == http.StatusUnauthorized, e.String()
		})
	})

	// Kong's order (D7): key-auth (1250) runs before rate-limiting (910),
	// so a refused request never reaches the limiter and costs nothing.
	t.Run("key-auth before rate-limiting", func(t *testing.T) {
		kaRoute(s, "ordered")
		s.mustAPI("POST", "/routes/ordered/plugins", form("name", "rate-limiting", "config.hour", "3", "config.policy", "local"), 201)
		s.converge("rate-limiting on /ordered", func() (bool, string) {
			e := s.kaDo(kaRequest{path: "/ordered", header: hdr("Apikey", "bob-key")})
			return e.header.Get("X-RateLimit-Limit-Hour") == "3", e.String()
		})
		// The probe above took one token of bob's 3 (an hourly bucket
		// refills one every 20 minutes, far beyond this test).
		for i := 0; i < 4; i++ {
			e := s.kaDo(kaRequest{path: "/ordered"})
			kaWant401(t, e, "No API key found in request", "Key")
			if v := e.header.Get("X-RateLimit-Remaining-Hour"); v != "" {
				t.Errorf("a 401 went through the limiter: X-RateLimit-Remaining-Hour %s", v)
			}
		}
		for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
			if e := s.kaDo(kaRequest{path: "/ordered", header: hdr("Apikey", "bob-key")}); e.status != want {
				t.Errorf("authenticated request %d after the 401s: %v, want %d", i+2, e, want)
			}
		}
	})

	// Last: a global instance reaches every route without its own.
	t.Run("precedence", func(t *testing.T) {
		s.mustAPI("POST", "/services", form("name", "scoped", "url", "http://"+echoBackend.addr()), 201)
		s.mustAPI("POST", "/services/scoped/routes", form("name", "by-service", "paths[]", "/by-service"), 201)
		s.mustAPI("POST", "/services/scoped/routes", form("name", "by-route", "paths[]", "/by-route"), 201)
		s.mustAPI("POST", "/services/echo/routes", form("name", "by-global", "paths[]", "/by-global"), 201)
		s.mustAPI("POST", "/plugins", form("name", "key-auth", "config.key_names", "global-key"), 201)
		s.mustAPI("POST", "/services/scoped/plugins", form("name", "key-auth", "config.key_names", "service-key"), 201)
		routePlugin := s.mustAPI("POST", "/routes/by-route/plugins", form("name", "key-auth", "config.key_names", "route-key"), 201)
		servedBy := func(path string) string {
			for _, n := range []string{"global-key", "service-key", "route-key"} {
				if s.kaDo(kaRequest{path: path, header: http.Header{n: {"bob-key"}}}).status == http.StatusOK {
					return n
				}
			}
			return "none"
		}
		for path, want := range map[string]string{"/by-global": "global-key", "/by-service": "service-key", "/by-route": "route-key", "/plain": "apikey-route"} {
			if want == "apikey-route" {
				// /plain keeps its own route instance (key name apikey).
				if e := s.kaDo(kaRequest{path: path, header: hdr("Global-Key", "bob-key")}); e.status != http.StatusUnauthorized {
					t.Errorf("/plain took the global instance: %v", e)
				}
				continue
			}
			s.converge(path+" served by its "+want, func() (bool, string) {
				got := servedBy(path)
				return got == want, got
			})
		}
		// A disabled route instance lets the next one apply.
		s.mustAPI("PATCH", "/plugins/"+routePlugin["id"].(string), form("enabled", "false"), 200)
		s.converge("/by-route falling back to the service instance", func() (bool, string) {
			got := servedBy("/by-route")
			return got == "service-key", got
		})
		rc := s.mustAPI("POST", "/routes/by-global/plugins", form("name", "key-auth", "config.key_names", "route-key"), 201)
		s.converge("/by-global overridden by its route instance", func() (bool, string) {
			got := servedBy("/by-global")
			return got == "route-key", got
		})
		s.mustAPI("PATCH", "/plugins/"+rc["id"].(string), form("enabled", "false"), 200)
		s.converge("/by-global disabled route instance: the global applies", func() (bool, string) {
			got := servedBy("/by-global")
			return got == "global-key", got
		})
	})
}

// kaBody builds one body encoding Kong's key_in_body reads.
type kaBody struct {
	name, contentType string
	with, twice       func(key string) []byte
}

func kaBodies() []kaBody {
	boundary := "kaboundary42"
	part := func(w *multipart.Writer, name, value string) {
		_ = w.WriteField(name, value)
	}
	mp := func(keys ...string) []byte {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		_ = w.SetBoundary(boundary)
		part(w, "a", "keep-me")
		for _, k := range keys {
			part(w, "apikey", k)
		}
		part(w, "b", "2")
		_ = w.Close()
		return buf.Bytes()
	}
	return []kaBody{
		{
			name: "form", contentType: "application/x-www-form-urlencoded",
			with:  func(k string) []byte { return []byte("a=keep-me&apikey=" + k + "&b=2") },
			twice: func(k string) []byte { return []byte("a=keep-me&apikey=" + k + "&apikey=" + k) },
		},
		{
			name: "json", contentType: "application/json",
			with:  func(k string) []byte { return []byte(`{"a":"keep-me","apikey":"` + k + `","b":[1,{"c":"}"}]}`) },
			twice: func(k string) []byte { return []byte(`{"a":"keep-me","apikey":["` + k + `","` + k + `"]}`) },
		},
		{
			name: "multipart", contentType: "multipart/form-data; boundary=" + boundary,
			with:  func(k string) []byte { return mp(k) },
			twice: func(k string) []byte { return mp(k, k) },
		},
	}
}
