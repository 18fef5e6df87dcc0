package translator

import (
	"net/netip"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/switchboard-gw/switchboard/store"
)

// Upstream TLS (kong-tls.md D5–D6, §4.2). Kong's rules, each in one place:
//
//   - The certificate presented is the service's client_certificate, else
//     the upstream's (clusterTLSOf); active probes always present the
//     upstream's (clusterTLSOf, probe).
//   - tls_verify=true checks the chain against the service's
//     ca_certificates, else Options.TrustedCAFile (--upstream-trusted-ca;
//     secrets_ca.go builds the ca/<service id> secret), and the name: auto_sni_san_validation checks
//     a DNS SAN against the SNI actually sent. tls_verify null or false
//     checks nothing (Kong's proxy_ssl_verify off). tls_verify_depth is
//     stored but not enforced: Envoy 1.40 applies max_verify_depth to
//     downstream client certificates only.
//   - The SNI is the Host sent upstream: the upstream's host_header
//     (literal sni), the client's Host for preserve_host routes (auto_sni,
//     a cluster variant), else the endpoint's hostname (auto_host_sni), the
//     target's name. An IP target gets no SNI, as nginx sends none for an
//     IP: its endpoints carry noSNIMetadata, which selects a socket without
//     auto_host_sni (Envoy would send the IP literal).
//
// Certificates and CAs are named by SDS secret, never inlined, so that a
// rotation through the Admin API changes a Secret only: the cluster is not
// re-created and keeps its health state; established upstream connections
// keep their handshake, new ones use the new secret (e2e verified).

const (
	// transportSocketMatchFilter is the endpoint metadata namespace Envoy
	// matches against a cluster's transport_socket_matches.
	transportSocketMatchFilter = "envoy.transport_socket_match"
	noSNIMatchKey              = "switchboard.sni"
	noSNIMatchValue            = "none"
)

// clusterTLS is how one cluster speaks TLS, resolved from the variant, the
// upstream and the options before the cluster is built, so that the
// builders read no other entity.
type clusterTLS struct {
	traffic trafficTLS // used when the variant is TLS
	probe   probeTLS   // used by https and grpcs active probes
}

// trafficTLS is the TLS of proxied requests.
type trafficTLS struct {
	h2 bool
	// clientCert is the id of the certificate presented, "" none.
	clientCert string
	// sni is a literal SNI (the upstream's host_header); "" sends the
	// endpoint's hostname, none for an IP target. noSNI (a host_header
	// that is an IP) sends none at all.
	sni   string
	noSNI bool
	// caSecret names the service's validation context; "" verifies
	// nothing.
	caSecret string
}

// probeTLS is the TLS of active https and grpcs probes (Kong's
// healthchecker: SNI https_sni, else host_header, else the target's name;
// certificate checked with lua_ssl_trusted_certificate).
type probeTLS struct {
	h2            bool
	clientCert    string
	sni           string
	verify        bool
	trustedCAFile string
}

// variantFor is variantOf(svc) for a route with preserveHost, checked
// against the other entities: a client_certificate id with no certificate
// (kept from a legacy state, store.tlsLenient) is none.
func (t *translator) variantFor(svc *store.Service, preserveHost bool) variant {
	v := variantOf(svc)
	if !t.certificateExists(v.clientCert) {
		v.clientCert = ""
	}
	v.preserveHost = preserveHost && v.isTLS()
	return v
}

// certificateExists reports whether id names a certificate of the input.
func (t *translator) certificateExists(id string) bool {
	return id != "" && t.certificates[id] != nil
}

// upstreamClientCert is u's client_certificate id when it exists, else "".
func (t *translator) upstreamClientCert(u *store.Upstream) string {
	if u == nil || u.ClientCertificate == nil || !t.certificateExists(u.ClientCertificate.ID) {
		return ""
	}
	return u.ClientCertificate.ID
}

// clusterTLSOf resolves the TLS of the cluster of variant v over upstream
// u (nil for a service cluster).
func (t *translator) clusterTLSOf(v variant, u *store.Upstream) clusterTLS {
	var ct clusterTLS
	ct.traffic = trafficTLS{h2: v.isGRPC(), clientCert: v.clientCert}
	if ct.traffic.clientCert == "" {
		ct.traffic.clientCert = t.upstreamClientCert(u)
	}
	if v.tlsVerify {
		ct.traffic.caSecret = CASecretName(v.caService)
	}
	if u == nil {
		return ct
	}
	hostHeader := ""
	if u.HostHeader != nil {
		hostHeader = *u.HostHeader
	}
	if sendsNoSNI("https", hostHeader) {
		ct.traffic.noSNI = true
	} else {
		ct.traffic.sni = hostHeader
	}
	a := u.Healthchecks.Active
	ct.probe = probeTLS{
		h2:            a.Type == "grpcs",
		clientCert:    t.upstreamClientCert(u),
		sni:           hostHeader,
		verify:        a.HTTPSVerifyCertificate,
		trustedCAFile: t.opts.TrustedCAFile,
	}
	if a.HTTPSSNI != nil && *a.HTTPSSNI != "" {
		ct.probe.sni = *a.HTTPSSNI
	}
	return ct
}

// setTrafficTLS gives a TLS cluster its transport socket and, when the SNI
// comes from the endpoint, the no-SNI socket of IP targets.
func setTrafficTLS(c *clusterv3.Cluster, tt trafficTLS) {
	c.TransportSocket = tlsTransport(tt.context(!tt.noSNI))
	if tt.sni == "" && !tt.noSNI {
		c.TransportSocketMatches = append(c.TransportSocketMatches, &clusterv3.Cluster_TransportSocketMatch{
			Name:            "no-sni",
			Match:           noSNIMatch(),
			TransportSocket: tlsTransport(tt.context(false)),
		})
	}
}

func (tt trafficTLS) context(autoHostSNI bool) *tlsv3.UpstreamTlsContext {
	ctx := &tlsv3.UpstreamTlsContext{
		CommonTlsContext: &tlsv3.CommonTlsContext{},
		Sni:              tt.sni,
		AutoHostSni:      tt.sni == "" && autoHostSNI,
	}
	if tt.h2 {
		ctx.CommonTlsContext.AlpnProtocols = []string{"h2"}
	}
	if tt.clientCert != "" {
		ctx.CommonTlsContext.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{sdsSecret(CertSecretName(tt.clientCert))}
	}
	if tt.caSecret != "" {
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
			CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext:         &tlsv3.CertificateValidationContext{},
				ValidationContextSdsSecretConfig: sdsSecret(tt.caSecret),
			},
		}
		// The secret always holds a trusted CA (a bundle file at worst),
		// which Envoy requires for a name check.
		ctx.AutoSniSanValidation = true
	}
	return ctx
}

// probeSocket is the transport socket of TLS probes. A probe of an IP
// target without https_sni or host_header sends the IP as SNI, as Kong's
// healthchecker does (Envoy's health_check criteria replace the endpoint
// metadata, so the no-SNI socket never applies to probes anyway).
func probeSocket(p probeTLS) *corev3.TransportSocket {
	ctx := &tlsv3.UpstreamTlsContext{
		CommonTlsContext: &tlsv3.CommonTlsContext{},
		Sni:              p.sni,
		AutoHostSni:      p.sni == "",
	}
	if p.h2 {
		ctx.CommonTlsContext.AlpnProtocols = []string{"h2"}
	}
	if p.clientCert != "" {
		ctx.CommonTlsContext.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{sdsSecret(CertSecretName(p.clientCert))}
	}
	if p.verify {
		// A CA file, not system_root_certs: Envoy refuses a name check
		// without trusted_ca.
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{
			ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: p.trustedCAFile}},
			},
		}
		ctx.AutoSniSanValidation = true
	}
	return tlsTransport(ctx)
}

func tlsTransport(ctx *tlsv3.UpstreamTlsContext) *corev3.TransportSocket {
	return &corev3.TransportSocket{
		Name:       "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}
}

// sdsSecret fetches secret name over the ADS stream.
func sdsSecret(name string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: adsConfigSource()}
}

func noSNIMatch() *structpb.Struct {
	return mustStruct(map[string]any{noSNIMatchKey: noSNIMatchValue})
}

// noSNIMetadata marks an endpoint whose TLS connections send no SNI.
func noSNIMetadata() *corev3.Metadata {
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{transportSocketMatchFilter: noSNIMatch()}}
}

// sendsNoSNI reports whether an endpoint of a TLS cluster with this
// hostname must not send it as SNI: an IP literal (bracketed for IPv6).
func sendsNoSNI(protocol, hostname string) bool {
	if protocol != "https" && protocol != "grpcs" {
		return false
	}
	_, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(hostname, "["), "]"))
	return err == nil
}

// indexTLSEntities indexes in's certificates and CA certificates by id.
func indexTLSEntities(in *Input) (map[string]*store.Certificate, map[string]*store.CACertificate) {
	certs := make(map[string]*store.Certificate, len(in.Certificates))
	for _, c := range in.Certificates {
		certs[c.ID] = c
	}
	cas := make(map[string]*store.CACertificate, len(in.CACertificates))
	for _, c := range in.CACertificates {
		cas[c.ID] = c
	}
	return certs, cas
}
