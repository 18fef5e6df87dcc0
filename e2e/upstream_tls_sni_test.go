package e2e

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"
)

// tlsSetup writes an upstream (when targets are given), an https service
// and a route /<name> with the extra fields.
type tlsSetup struct {
	name     string
	targets  []string // Kong target strings; none: the service's host is hostPort
	hostPort [2]string
	upstream url.Values
	service  url.Values
	route    url.Values
}

func (u tlsSetup) create(s *stack) {
	s.t.Helper()
	svc := url.Values{"name": {u.name}, "protocol": {"https"}, "host": {u.name}}
	if len(u.targets) > 0 {
		up := url.Values{"name": {u.name}}
		for k, v := range u.upstream {
			up[k] = v
		}
		s.mustAPI("POST", "/upstreams", up, 201)
		for _, tg := range u.targets {
			s.mustAPI("POST", "/upstreams/"+u.name+"/targets", form("target", tg), 201)
		}
	} else {
		svc.Set("host", u.hostPort[0])
		svc.Set("port", u.hostPort[1])
	}
	for k, v := range u.service {
		svc[k] = v
	}
	s.mustAPI("POST", "/services", svc, 201)
	rt := form("paths[]", "/"+u.name)
	for k, v := range u.route {
		rt[k] = v
	}
	s.mustAPI("POST", "/services/"+u.name+"/routes", rt, 201)
}

// seen is what a TLS backend reported for one proxied request.
type seen struct{ backend, sni, host, clientCN string }

func (s *stack) seenThrough(path, host string) (seen, proxyResponse) {
	r := s.get(path, host)
	return seen{backend: r.backend, sni: r.header.Get(sniHeader), host: r.header.Get(hostHeader), clientCN: r.header.Get(clientCNHeader)}, r
}

// TestUpstreamTLS_SNI: the SNI Envoy sends upstream is the Host Kong sends
// (kong-tls.md D6): the target's name; nothing for an IP target (nginx
// sends no IP as SNI; Envoy's auto_host_sni would); the upstream's
// host_header; the client's Host on a preserve_host route; the service's
// own host for a service without an upstream.
func TestUpstreamTLS_SNI(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "sni-ca")
	b := startTLSBackend(t, "sni-backend", ca.issueLeaf(t, "sni-backend", []string{"sni-name.test"}), nil)
	s := startStack(t, stackOptions{hosts: map[string]string{"sni-name.test": b.ip}})
	port := strconv.Itoa(b.port)
	named := "sni-name.test:" + port
	for _, u := range []tlsSetup{
		{name: "sni-names", targets: []string{named}},
		{name: "sni-ips", targets: []string{b.target()}},
		{name: "sni-hh", targets: []string{b.target()}, upstream: form("host_header", "hh.example")},
		{name: "sni-plain", hostPort: [2]string{"sni-name.test", port}},
		{name: "sni-plain-ip", hostPort: [2]string{b.ip, port}},
	} {
		u.create(s)
	}
	s.mustAPI("POST", "/services/sni-ips/routes", form("paths[]", "/sni-preserve", "preserve_host", "true"), 201)

	for _, tc := range []struct {
		path, clientHost string
		want             seen
	}{
		{"/sni-names", "", seen{sni: "sni-name.test", host: "sni-name.test"}},
		{"/sni-ips", "", seen{sni: "", host: b.ip}},
		{"/sni-hh", "", seen{sni: "hh.example", host: "hh.example"}},
		{"/sni-preserve", "client.example", seen{sni: "client.example", host: "client.example"}},
		{"/sni-plain", "", seen{sni: "sni-name.test", host: "sni-name.test"}},
		{"/sni-plain-ip", "", seen{sni: "", host: b.ip}},
	} {
		tc.want.backend = b.name
		s.converge(tc.path, func() (bool, string) {
			got, r := s.seenThrough(tc.path, tc.clientHost)
			return got == tc.want, fmt.Sprintf("saw %+v, want %+v (%s)", got, tc.want, r)
		})
	}
}
