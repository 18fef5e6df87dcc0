package translator

import (
	"cmp"
	"maps"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	commonsetfilterstatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	setfilterstatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/set_filter_state/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"

	"github.com/switchboard-gw/switchboard/store"
)

// The TLS listener (Kong's "proxy_listen … 8443 ssl http2"):
//
//	listener_filters: tls_inspector (reads the SNI and ALPN)
//	filter_chains:    one per certificate some SNI names, called cert/<id>
//	default_filter_chain: the default certificate (no SNI, or none matched)
//	filter_chain_matcher: Kong's order on the SNI (sni_matcher.go)
//
// Every chain holds the same filters, set_filter_state (the SNI, for route
// snis) and the HTTP connection manager with the TLS route configuration,
// and differs only in the secrets it names. So adding or removing an SNI
// changes the matcher alone (Envoy updates the listener in place, no
// drain), a new certificate adds a chain without draining the others, and
// a rotation is an SDS update of that certificate's secrets only.

// defaultChainName names the default filter chain.
const defaultChainName = "default"

// tlsState is what the TLS listener is built from.
type tlsState struct {
	snis []*store.SNI
	// hasAlt says which certificates have an alternate pair (a chain
	// names cert-alt/<id> only then).
	hasAlt map[string]bool
	// defaults are the names of the default certificate's secrets; none
	// before the cluster's default pair is stored: the TLS listener waits
	// for it, since a chain naming a missing secret fails every handshake.
	defaults []string
}

func newTLSState(certs []*store.Certificate, snis []*store.SNI, defaults []*tlsv3.Secret) tlsState {
	st := tlsState{snis: sortedBy(snis, func(n *store.SNI) string { return n.Name }), hasAlt: map[string]bool{}}
	for _, c := range certs {
		st.hasAlt[c.ID] = c.CertAlt != nil && c.KeyAlt != nil
	}
	for _, s := range defaults {
		st.defaults = append(st.defaults, s.GetName())
	}
	return st
}

// equal reports whether two states build the same listener (names by SNI
// order, certificates by alternate pair, the default's secrets), so that a
// rotation, which changes none of them, skips the rebuild.
func (st tlsState) equal(o tlsState) bool {
	if !slices.Equal(st.defaults, o.defaults) || !maps.Equal(st.hasAlt, o.hasAlt) || len(st.snis) != len(o.snis) {
		return false
	}
	for i, n := range st.snis {
		if n.Name != o.snis[i].Name || n.Certificate.ID != o.snis[i].Certificate.ID {
			return false
		}
	}
	return true
}

// buildTLSListener builds the TLS listener, or nil while there is no
// default certificate.
func buildTLSListener(spec listenerSpec, st tlsState, routes string) (*listenerv3.Listener, error) {
	if len(st.defaults) == 0 {
		return nil, nil
	}
	hcm, err := proxyHCMFilter(spec, routes)
	if err != nil {
		return nil, err
	}
	filters := []*listenerv3.Filter{sniFilterState(), hcm}
	chain := func(name string, secrets []string) *listenerv3.FilterChain {
		return &listenerv3.FilterChain{Name: name, Filters: filters, TransportSocket: downstreamTLS(secrets)}
	}

	// One chain per certificate that some SNI names, in name order.
	var chains []*listenerv3.FilterChain
	seen := map[string]bool{}
	for _, n := range st.snis {
		id := n.Certificate.ID
		if seen[id] {
			continue
		}
		seen[id] = true
		secrets := []string{CertSecretName(id)}
		if st.hasAlt[id] {
			secrets = append(secrets, CertAltSecretName(id))
		}
		chains = append(chains, chain(CertSecretName(id), secrets))
	}
	slices.SortFunc(chains, func(a, b *listenerv3.FilterChain) int { return cmp.Compare(a.GetName(), b.GetName()) })

	l := &listenerv3.Listener{
		Name:    spec.name,
		Address: socketAddress(spec),
		ListenerFilters: []*listenerv3.ListenerFilter{{
			Name:       wellknown.TlsInspector,
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&tlsinspectorv3.TlsInspector{})},
		}},
		FilterChains:       chains,
		DefaultFilterChain: chain(defaultChainName, st.defaults),
		FilterChainMatcher: sniMatcher(st.snis),
	}
	if err := l.ValidateAll(); err != nil {
		return nil, err
	}
	return l, nil
}

// downstreamTLS terminates TLS with the named secrets (one pair, or RSA and
// ECDSA: Envoy serves ECDSA to clients that support it, as Kong does with
// cert_alt) and offers h2 and http/1.1 by ALPN, as Kong's "http2 ssl".
// Protocols and ciphers are Envoy's defaults: TLS 1.2–1.3 with ECDHE AEAD
// suites (Kong's intermediate list also has DHE suites).
func downstreamTLS(secrets []string) *corev3.TransportSocket {
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		AlpnProtocols: []string{"h2", "http/1.1"},
	}}
	for _, name := range secrets {
		ctx.CommonTlsContext.TlsCertificateSdsSecretConfigs = append(ctx.CommonTlsContext.TlsCertificateSdsSecretConfigs,
			&tlsv3.SdsSecretConfig{Name: name, SdsConfig: adsConfigSource()})
	}
	return &corev3.TransportSocket{
		Name:       wellknown.TransportSocketTLS,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}
}

// sniFilterState stores the connection's SNI where routes with snis match
// it (route_sni.go). Kong matches route snis against the connection's SNI,
// whatever the Host of each request on it.
func sniFilterState() *listenerv3.Filter {
	cfg := &setfilterstatev3.Config{OnNewConnection: []*commonsetfilterstatev3.FilterStateValue{{
		Key:        &commonsetfilterstatev3.FilterStateValue_ObjectKey{ObjectKey: sniFilterStateKey},
		FactoryKey: "envoy.string",
		Value: &commonsetfilterstatev3.FilterStateValue_FormatString{FormatString: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: inlineString("%REQUESTED_SERVER_NAME%")},
		}},
		// No SNI, no state: a route with snis then does not match.
		SkipIfEmpty: true,
	}}}
	return &listenerv3.Filter{
		Name:       "envoy.filters.network.set_filter_state",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(cfg)},
	}
}
