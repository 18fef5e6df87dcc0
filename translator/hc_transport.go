package translator

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rawbufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// tlsSocket is a TLS transport socket to upstream hosts, for traffic
// (tlsTransportSocket) and for active https/grpcs probes. With an empty sni
// the endpoint's hostname is sent (auto_host_sni), the target's name as
// Kong sends it; h2 offers ALPN h2 for gRPC.
//
// verify (tls_verify, https_verify_certificate) checks the certificate
// chain against the system trust store. Difference: Kong also checks that
// the certificate names the host; Envoy 1.40 refuses a name check
// (auto_sni_san_validation or a SAN matcher) unless trusted_ca is set, and
// system_root_certs does not count, so the name is not checked.
func tlsSocket(sni string, verify, h2 bool) *corev3.TransportSocket {
	ctx := &tlsv3.UpstreamTlsContext{
		CommonTlsContext: &tlsv3.CommonTlsContext{},
		Sni:              sni,
		AutoHostSni:      sni == "",
	}
	if h2 {
		ctx.CommonTlsContext.AlpnProtocols = []string{"h2"}
	}
	if verify {
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{
			ValidationContext: &tlsv3.CertificateValidationContext{
				SystemRootCerts: &tlsv3.CertificateValidationContext_SystemRootCerts{},
			},
		}
	}
	return &corev3.TransportSocket{
		Name:       "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}
}

// rawBufferSocket is plain TCP, for probes of a TLS cluster that Kong would
// send in clear text.
func rawBufferSocket() *corev3.TransportSocket {
	return &corev3.TransportSocket{
		Name:       "envoy.transport_sockets.raw_buffer",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(&rawbufferv3.RawBuffer{})},
	}
}

// mustStruct builds a protobuf Struct from plain values; it only fails for
// a value type Struct cannot hold, a programmer error.
func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(fmt.Sprintf("translator: struct %v: %v", m, err))
	}
	return s
}
