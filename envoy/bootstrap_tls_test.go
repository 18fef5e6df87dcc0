package envoy

import (
	"strings"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

func TestBootstrap_XDSTLS(t *testing.T) {
	y, err := Bootstrap(BootstrapOptions{NodeID: "n", TLS: &XDSTLS{
		CAFile: "/etc/sb/ca.pem", CertFile: "/etc/sb/envoy.pem", KeyFile: "/etc/sb/envoy-key.pem", SNI: "cp.test",
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBootstrap(y)
	if err != nil {
		t.Fatal(err)
	}
	ts := b.GetStaticResources().GetClusters()[0].GetTransportSocket()
	if ts.GetName() != "envoy.transport_sockets.tls" {
		t.Fatalf("transport socket %v", ts)
	}
	var up tlsv3.UpstreamTlsContext
	if err := ts.GetTypedConfig().UnmarshalTo(&up); err != nil {
		t.Fatal(err)
	}
	c := up.GetCommonTlsContext()
	if up.GetSni() != "cp.test" || c.GetAlpnProtocols()[0] != "h2" ||
		c.GetValidationContext().GetTrustedCa().GetFilename() != "/etc/sb/ca.pem" ||
		c.GetTlsCertificates()[0].GetCertificateChain().GetFilename() != "/etc/sb/envoy.pem" ||
		c.GetTlsCertificates()[0].GetPrivateKey().GetFilename() != "/etc/sb/envoy-key.pem" {
		t.Fatalf("tls context %v", &up)
	}

	// Server-only TLS: no client certificate.
	y, err = Bootstrap(BootstrapOptions{NodeID: "n", TLS: &XDSTLS{CAFile: "/ca.pem"}})
	if err != nil || strings.Contains(string(y), "tls_certificates") {
		t.Fatalf("server-only TLS: %v\n%s", err, y)
	}
	// Plain: no transport socket at all.
	if y, _ := Bootstrap(BootstrapOptions{NodeID: "n"}); strings.Contains(string(y), "transport_socket") {
		t.Fatal("plain bootstrap has a transport socket")
	}
	for _, bad := range []*XDSTLS{{}, {CAFile: "/ca", CertFile: "/c"}, {CAFile: "/ca", KeyFile: "/k"}} {
		if _, err := Bootstrap(BootstrapOptions{NodeID: "n", TLS: bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
