package translator

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rawbufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// tlsSocket is the TLS transport socket of active https/grpcs probes. With
// an empty sni the target's hostname is sent (auto_host_sni), as Kong does
// without https_sni. verify checks the certificate against the system trust
// store and the name sent, as Kong's https_verify_certificate does against
// its trusted certificates.
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
		vc := &tlsv3.CertificateValidationContext{
			SystemRootCerts: &tlsv3.CertificateValidationContext_SystemRootCerts{},
		}
		if sni != "" {
			vc.MatchTypedSubjectAltNames = []*tlsv3.SubjectAltNameMatcher{{
				SanType: tlsv3.SubjectAltNameMatcher_DNS,
				Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: sni}},
			}}
		} else {
			ctx.AutoSniSanValidation = true
		}
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
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
