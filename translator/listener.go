package translator

import (
	"fmt"
	"net/netip"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// buildListener builds the plain proxy listener (Kong's proxy_listen)
// whose HTTP connection manager takes its routes over RDS.
func buildListener(spec listenerSpec) (*listenerv3.Listener, error) {
	hcm, err := proxyHCMFilter(spec, spec.routeConfig)
	if err != nil {
		return nil, err
	}
	l := &listenerv3.Listener{
		Name:         spec.name,
		Address:      socketAddress(spec),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{hcm}}},
	}
	if err := l.ValidateAll(); err != nil {
		return nil, err
	}
	return l, nil
}

// socketAddress is where spec binds; the address must be an IP literal
// (the flags are checked at start-up, this is the translator's guard).
func socketAddress(spec listenerSpec) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       spec.address,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: spec.port},
	}}}
}

// proxyHCMFilter is the HTTP connection manager of a proxy listener, the
// same on both but for its statistics prefix and its route configuration,
// routes.
func proxyHCMFilter(spec listenerSpec, routes string) (*listenerv3.Filter, error) {
	if _, err := netip.ParseAddr(spec.address); err != nil {
		return nil, fmt.Errorf("proxy address %q is not an IP address", spec.address)
	}
	hcm := newHCM(spec.statPrefix).
		rds(routes).
		kongClientSide().
		kongLocalReplies().
		properCaseHeaders().
		build()
	for _, f := range httpFilters {
		if err := f.patchHCM(hcm); err != nil {
			return nil, fmt.Errorf("filter %s: %w", f.name(), err)
		}
	}
	return &listenerv3.Filter{
		Name:       wellknown.HTTPConnectionManager,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)},
	}, nil
}

// hcmBuilder assembles the HttpConnectionManager, whose options pile up
// (Contour's builder style); each step says which Kong behaviour it carries.
type hcmBuilder struct{ hcm *hcmv3.HttpConnectionManager }

func newHCM(statPrefix string) *hcmBuilder {
	return &hcmBuilder{hcm: &hcmv3.HttpConnectionManager{
		StatPrefix: statPrefix,
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
	}}
}

// rds takes the route configuration over the ADS stream.
func (b *hcmBuilder) rds(name string) *hcmBuilder {
	b.hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
		ConfigSource:    adsConfigSource(),
		RouteConfigName: name,
	}}
	return b
}

// kongClientSide reproduces what Kong does with the client request before
// routing:
//   - use_remote_address: append the client address to X-Forwarded-For
//     and set X-Forwarded-Proto (and X-Forwarded-Port), as Kong does for
//     untrusted clients;
//   - normalize_path and merge_slashes: Kong normalizes the path (dot
//     segments, duplicate slashes) before matching;
//   - strip_any_host_port: Kong matches hosts without the port (a route
//     host "h:8000" is matched as h on listener port 8000, see routeDomain);
//   - the upstream's Server header reaches the client unchanged;
//   - websocket upgrades are proxied as Kong proxies them.
//
// The HTTP filters, the router last, come from httpFilters.
func (b *hcmBuilder) kongClientSide() *hcmBuilder {
	b.hcm.UseRemoteAddress = wrapperspb.Bool(true)
	// Overwrites a client's X-Forwarded-Port with the listener port, as
	// Kong does for untrusted clients (verified on Envoy 1.40: no client
	// address is internal without an internal_address_config).
	b.hcm.AppendXForwardedPort = true
	// Kong's default read/write timeout; routes of services with other
	// timeouts set their own idle_timeout (routeAction).
	b.hcm.StreamIdleTimeout = durationpb.New(streamIdleTimeout)
	b.hcm.NormalizePath = wrapperspb.Bool(true)
	b.hcm.MergeSlashes = true
	b.hcm.StripPortMode = &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true}
	// Kong passes the upstream's Server header through; Envoy would
	// overwrite it with "envoy".
	b.hcm.ServerHeaderTransformation = hcmv3.HttpConnectionManager_PASS_THROUGH
	b.hcm.UpgradeConfigs = []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: "websocket"}}
	return b
}

// kongLocalReplies rewrites Envoy's own error replies into Kong's JSON
// bodies and statuses (docs/kong-contract.md §7). Responses proxied
// from upstreams are never touched: mappers only see local replies.
func (b *hcmBuilder) kongLocalReplies() *hcmBuilder {
	b.hcm.LocalReplyConfig = &hcmv3.LocalReplyConfig{Mappers: []*hcmv3.ResponseMapper{
		// NR: no route matched.
		flagMapper([]string{"NR"}, 404, msgNoRoute),
		// UH: no healthy upstream, no targets, all weights 0.
		flagMapper([]string{"UH"}, 503, msgNoPeer),
		// UF/UC/URX: every try failed to connect or was reset; nginx
		// answers 502 after its retries.
		flagMapper([]string{"UF", "UC", "URX"}, 502, msgBadGateway),
		// UT: the upstream did not answer within read_timeout.
		flagMapper([]string{"UT"}, 504, msgUpstreamTimout),
	}}
	return b
}

// properCaseHeaders writes HTTP/1.1 header names as nginx does
// (X-Cache-Status, not x-cache-status): Kong's tutorials grep them
// case-sensitively.
func (b *hcmBuilder) properCaseHeaders() *hcmBuilder {
	b.hcm.HttpProtocolOptions = &corev3.Http1ProtocolOptions{HeaderKeyFormat: &corev3.Http1ProtocolOptions_HeaderKeyFormat{
		HeaderFormat: &corev3.Http1ProtocolOptions_HeaderKeyFormat_ProperCaseWords_{
			ProperCaseWords: &corev3.Http1ProtocolOptions_HeaderKeyFormat_ProperCaseWords{},
		},
	}}
	return b
}

func (b *hcmBuilder) build() *hcmv3.HttpConnectionManager { return b.hcm }

// flagMapper answers local replies carrying any of flags with status and
// Kong's JSON body.
func flagMapper(flags []string, status uint32, message string) *hcmv3.ResponseMapper {
	return &hcmv3.ResponseMapper{
		Filter: &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{
			ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: flags},
		}},
		StatusCode: wrapperspb.UInt32(status),
		Body:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: jsonMessage(message)}},
		BodyFormatOverride: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
				Specifier: &corev3.DataSource_InlineString{InlineString: "%LOCAL_REPLY_BODY%"},
			}},
			ContentType: jsonContentType,
		},
	}
}
