package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestProxyErrorsAndHost covers what Envoy answers by itself, in Kong's
// words, and the preserve_host switch.
func TestProxyErrorsAndHost(t *testing.T) {
	t.Parallel()
	svc := startBackend(t, "svc")
	s := startStack(t, stackOptions{hosts: map[string]string{"svc.test": svc.ip}})

	t.Run("no route: 404 with Kong's body", func(t *testing.T) {
		r := s.get("/no/such/route", "")
		if r.status != 404 || kongMessage(r.body) != "no Route matched with those values" {
			t.Errorf("got %s, want 404 {\"message\":\"no Route matched with those values\"}", r)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q, want JSON", ct)
		}
	})

	t.Run("upstream without targets: 503 with Kong's body", func(t *testing.T) {
		s.mustAPI("POST", "/upstreams", form("name", "empty_upstream"), 201)
		s.mustAPI("POST", "/services", form("name", "empty", "host", "empty_upstream"), 201)
		s.mustAPI("POST", "/services/empty/routes", form("paths[]", "/empty"), 201)
		var r proxyResponse
		s.converge("route to an upstream without targets", func() (bool, string) {
			r = s.get("/empty", "")
			return r.status == 503, r.String()
		})
		if msg := kongMessage(r.body); msg != "failure to get a peer from the ring-balancer" {
			t.Errorf("503 body %q, want message \"failure to get a peer from the ring-balancer\"", r.body)
		}
	})

	t.Run("preserve_host", func(t *testing.T) {
		s.mustAPI("POST", "/services", form("name", "svc", "url", fmt.Sprintf("http://svc.test:%d", svc.port)), 201)
		s.mustAPI("POST", "/services/svc/routes", form("paths[]", "/rewritten"), 201)
		s.mustAPI("POST", "/services/svc/routes", form("paths[]", "/preserved", "preserve_host", "true"), 201)
		s.converge("two routes, preserve_host false and true", func() (bool, string) {
			a, b := s.get("/rewritten/headers", ""), s.get("/preserved/headers", "")
			return a.backend == "svc" && b.backend == "svc", a.String() + " | " + b.String()
		})

		e, err := s.get("/preserved/headers", "client.example").echo()
		if err != nil {
			t.Fatal(err)
		}
		if host, _ := e.header("Host"); host != "client.example" {
			t.Errorf("preserve_host=true: backend saw Host %q, want the client's client.example", host)
		}
		e, err = s.get("/rewritten/headers", "client.example").echo()
		if err != nil {
			t.Fatal(err)
		}
		host, _ := e.header("Host")
		wantHost(t, host, "svc.test", svc.port)
	})
}
