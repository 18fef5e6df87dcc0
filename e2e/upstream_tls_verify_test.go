package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// badUpstreamMessage is Kong's 502 body for a failed upstream handshake.
const badUpstreamMessage = "An invalid response was received from the upstream server"

// heldClient talks to Envoy over one keep-alive connection and counts the
// connections it had to open: a rotation that drained the client's
// connection shows as a second dial.
type heldClient struct {
	*http.Client
	dials atomic.Int64
}

func newHeldClient() *heldClient {
	h := &heldClient{}
	d := &net.Dialer{}
	h.Client = &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
		MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			h.dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
	}}
	return h
}

// clusterModified is Envoy's count of CDS updates that changed a cluster.
func (s *stack) clusterModified() int64 {
	s.t.Helper()
	st, err := testenv.NewEnvoyAdmin(s.envoyAdminAddr).Stats("cluster_manager.cluster_modified")
	if err != nil {
		s.t.Fatal(err)
	}
	return st["cluster_manager.cluster_modified"]
}

// TestUpstreamTLS_Verify: tls_verify=true with ca_certificates reaches a
// backend whose certificate that CA signed for the name Kong sends, and
// gets Kong's 502 from one with another name or an unknown CA; tls_verify
// null does not verify. Rotating the CA through the Admin API (PATCH
// /ca_certificates/{id}) applies to the next request and changes only the
// SDS secret: no cluster is modified and a client's keep-alive connection
// to Envoy survives.
func TestUpstreamTLS_Verify(t *testing.T) {
	t.Parallel()
	ca1, ca2 := newTestCA(t, "verify-ca-one"), newTestCA(t, "verify-ca-two")
	good := startTLSBackend(t, "verify-good", ca1.issueLeaf(t, "good", []string{"verify-good.test"}), nil)
	wrong := startTLSBackend(t, "verify-wrong", ca1.issueLeaf(t, "wrong", []string{"someone-else.test"}), nil)
	unknown := startTLSBackend(t, "verify-unknown", ca2.issueLeaf(t, "unknown", []string{"verify-unknown.test"}), nil)
	s := startStack(t, stackOptions{hosts: map[string]string{
		"verify-good.test": good.ip, "verify-wrong.test": wrong.ip, "verify-unknown.test": unknown.ip,
	}})
	caID := s.mustAPI("POST", "/ca_certificates", form("cert", string(ca1.pem)), 201)["id"].(string)
	verify := form("tls_verify", "true", "ca_certificates[]", caID)
	named := func(host string, b *tlsBackend) []string { return []string{host + ":" + strconv.Itoa(b.port)} }
	for _, u := range []tlsSetup{
		{name: "verify-good", targets: named("verify-good.test", good), service: verify},
		{name: "verify-wrong", targets: named("verify-wrong.test", wrong), service: verify},
		{name: "verify-unknown", targets: named("verify-unknown.test", unknown), service: verify},
		{name: "verify-off", targets: named("verify-unknown.test", unknown)},
	} {
		u.create(s)
	}
	expect := func(path string, wantBackend string) {
		t.Helper()
		s.converge(path+" → "+wantBackend, func() (bool, string) {
			r := s.get(path, "")
			if wantBackend == "" {
				return r.status == 502 && kongMessage(r.body) == badUpstreamMessage, r.String()
			}
			return r.status == 200 && r.backend == wantBackend, r.String()
		})
	}
	expect("/verify-good", good.name)
	expect("/verify-wrong", "")
	expect("/verify-unknown", "")
	expect("/verify-off", unknown.name)

	t.Run("CA rotation: an SDS update, nothing drained, new handshakes use the new CA", func(t *testing.T) {
		held := newHeldClient()
		via := func(path string) proxyResponse { return s.getWith(held.Client, path, nil) }
		if r := via("/verify-good"); r.status != 200 {
			t.Fatalf("before the rotation: %s", r)
		}
		modified, backendConns := s.clusterModified(), good.conns.Load()
		s.mustAPI("PATCH", "/ca_certificates/"+caID, form("cert", string(ca2.pem)), 200)
		// Envoy keeps an established upstream connection through an SDS
		// update of its validation context: the held one still answers.
		if r := via("/verify-good"); r.status != 200 || good.conns.Load() != backendConns {
			t.Errorf("right after the rotation: %s, backend connections %d → %d; want the held one kept", r, backendConns, good.conns.Load())
		}
		s.converge("a new handshake refused by the new CA", func() (bool, string) {
			via("/verify-good" + closePath) // ends a held upstream connection
			r := via("/verify-good")
			return r.status == 502 && kongMessage(r.body) == badUpstreamMessage, r.String()
		})
		expect("/verify-unknown", unknown.name)
		s.mustAPI("PATCH", "/ca_certificates/"+caID, form("cert", string(ca1.pem)), 200)
		s.converge("CA swapped back", func() (bool, string) {
			r := via("/verify-good")
			return r.status == 200 && r.backend == good.name, r.String()
		})
		if n := held.dials.Load(); n != 1 {
			t.Errorf("the client's connection to Envoy was closed: %d dials over two rotations, want 1", n)
		}
		if m := s.clusterModified(); m != modified {
			t.Errorf("cluster_manager.cluster_modified %d → %d: a CA rotation re-created a cluster", modified, m)
		}
	})

	t.Run("an IP target: chain verified, no name check (no SNI to check against)", func(t *testing.T) {
		// Kong checks the IP against the certificate's IP SANs; Envoy's
		// auto_sni_san_validation has no SNI to match when none is sent,
		// and a per-IP SAN matcher would put targets into the cluster.
		tlsSetup{name: "verify-ip", targets: []string{good.target()}, service: verify}.create(s)
		tlsSetup{name: "verify-ip-unknown", targets: []string{unknown.target()}, service: verify}.create(s)
		expect("/verify-ip", good.name)
		expect("/verify-ip-unknown", "")
	})
}

// TestUpstreamTLS_ClientCertificate: a backend that requires a client
// certificate accepts the service's client_certificate, else the
// upstream's (the service's wins); with neither the handshake fails (502).
// Rotating the certificate (PATCH /certificates/{id}) is seen by the
// backend on the next request, with no cluster change and no drain of the
// client's connection.
func TestUpstreamTLS_ClientCertificate(t *testing.T) {
	t.Parallel()
	testClientCertificate(t, stackOptions{})
}

// TestUpstreamTLS_ClientCertificateDelta is the same over incremental
// (delta) xDS, where the secret update travels alone.
func TestUpstreamTLS_ClientCertificateDelta(t *testing.T) {
	t.Parallel()
	testClientCertificate(t, stackOptions{delta: true})
}

func testClientCertificate(t *testing.T, opts stackOptions) {
	serverCA, clientCA := newTestCA(t, "mtls-server-ca"), newTestCA(t, "mtls-client-ca")
	b := startTLSBackend(t, "mtls", serverCA.issueLeaf(t, "mtls", []string{"mtls.test"}), certPool(clientCA))
	s := startStack(t, opts)
	newCert := func(cn string) string {
		l := clientCA.issueLeaf(t, cn, nil)
		return s.mustAPI("POST", "/certificates", form("cert", l.certPEM, "key", l.keyPEM), 201)["id"].(string)
	}
	svcCert, upCert := newCert("service-cert"), newCert("upstream-cert")
	tlsSetup{name: "mtls-up", targets: []string{b.target()}, upstream: form("client_certificate.id", upCert),
		service: form("client_certificate.id", svcCert)}.create(s)
	s.mustAPI("POST", "/services", form("name", "mtls-upcert", "protocol", "https", "host", "mtls-up"), 201)
	s.mustAPI("POST", "/services/mtls-upcert/routes", form("paths[]", "/mtls-upcert"), 201)
	tlsSetup{name: "mtls-none", hostPort: [2]string{b.ip, strconv.Itoa(b.port)}}.create(s)

	cnVia := func(client *http.Client, path, want string) {
		t.Helper()
		s.converge(fmt.Sprintf("%s presents %q", path, want), func() (bool, string) {
			r := s.getWith(client, path, nil)
			if want == "" {
				return r.status == 502 && kongMessage(r.body) == badUpstreamMessage, r.String()
			}
			return r.status == 200 && r.header.Get(clientCNHeader) == want, r.String() + " CN " + r.header.Get(clientCNHeader)
		})
	}
	cnVia(nil, "/mtls-up", "service-cert")
	cnVia(nil, "/mtls-upcert", "upstream-cert")
	cnVia(nil, "/mtls-none", "")

	t.Run("rotation: PATCH /certificates/{id}", func(t *testing.T) {
		held := newHeldClient()
		cnVia(held.Client, "/mtls-up", "service-cert")
		modified, backendConns := s.clusterModified(), b.conns.Load()
		l := clientCA.issueLeaf(t, "service-cert-rotated", nil)
		s.mustAPI("PATCH", "/certificates/"+svcCert, form("cert", l.certPEM, "key", l.keyPEM), 200)
		// The held upstream connection keeps its handshake (and so the
		// old certificate); nothing is drained.
		if r := s.getWith(held.Client, "/mtls-up", nil); r.status != 200 || r.header.Get(clientCNHeader) != "service-cert" {
			t.Errorf("right after the rotation: %s CN %q; want the held upstream connection kept", r, r.header.Get(clientCNHeader))
		}
		if n := b.conns.Load(); n != backendConns {
			t.Errorf("backend connections %d → %d right after the rotation", backendConns, n)
		}
		s.converge("a new handshake presents the rotated certificate", func() (bool, string) {
			s.getWith(held.Client, "/mtls-up"+closePath, nil)
			r := s.getWith(held.Client, "/mtls-up", nil)
			return r.header.Get(clientCNHeader) == "service-cert-rotated", r.String() + " CN " + r.header.Get(clientCNHeader)
		})
		if n := held.dials.Load(); n != 1 {
			t.Errorf("the client's connection to Envoy was closed: %d dials, want 1", n)
		}
		if m := s.clusterModified(); m != modified {
			t.Errorf("cluster_manager.cluster_modified %d → %d: a certificate rotation re-created a cluster", modified, m)
		}
	})

	t.Run("client_certificate null: the upstream's again", func(t *testing.T) {
		s.mustAPI("PATCH", "/services/mtls-up", form("client_certificate", ""), 200)
		cnVia(nil, "/mtls-up", "upstream-cert")
	})
}
