package translator

import (
	"fmt"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	celv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// setPerFilterConfig turns the HCM-disabled filter name on for er with its
// per-route config (a plugin change is then an RDS push, never LDS).
func setPerFilterConfig(er *routev3.Route, name string, cfg proto.Message) error {
	inner, err := anypb.New(cfg)
	if err != nil {
		return fmt.Errorf("per-route config of %s: %w", name, err)
	}
	if er.TypedPerFilterConfig == nil {
		er.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	er.TypedPerFilterConfig[name] = mustAny(&routev3.FilterConfig{Config: inner})
	return nil
}

// perFilterAny is the typed_per_filter_config value that turns the
// HCM-disabled filter name on with cfg, packed once for many routes.
func perFilterAny(name string, cfg proto.Message) (*anypb.Any, error) {
	inner, err := anypb.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("per-route config of %s: %w", name, err)
	}
	return mustAny(&routev3.FilterConfig{Config: inner}), nil
}

// mustPerFilterAny is perFilterAny for a config known at build time.
func mustPerFilterAny(name string, cfg proto.Message) *anypb.Any {
	a, err := perFilterAny(name, cfg)
	if err != nil {
		panic(err)
	}
	return a
}

// setPerFilterAny sets a value perFilterAny built (shared, read-only).
func setPerFilterAny(er *routev3.Route, name string, a *anypb.Any) {
	if er.TypedPerFilterConfig == nil {
		er.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	er.TypedPerFilterConfig[name] = a
}

// setRouteMetadata stores a string under the switchboard namespace of the
// route's metadata, where local-reply mappers read it.
func setRouteMetadata(er *routev3.Route, key, value string) {
	if er.Metadata == nil {
		er.Metadata = &corev3.Metadata{}
	}
	if er.Metadata.FilterMetadata == nil {
		er.Metadata.FilterMetadata = map[string]*structpb.Struct{}
	}
	s := er.Metadata.FilterMetadata[metadataNamespace]
	if s == nil {
		s = &structpb.Struct{Fields: map[string]*structpb.Value{}}
		er.Metadata.FilterMetadata[metadataNamespace] = s
	}
	s.Fields[key] = structpb.NewStringValue(value)
}

// celMapper selects local replies by a CEL expression (Envoy's response
// code details tell which filter answered) and rewrites their body.
func celMapper(expr string, body *corev3.SubstitutionFormatString) *hcmv3.ResponseMapper {
	return &hcmv3.ResponseMapper{
		Filter: &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ExtensionFilter{
			ExtensionFilter: &accesslogv3.ExtensionFilter{
				Name:       "envoy.access_loggers.extension_filters.cel",
				ConfigType: &accesslogv3.ExtensionFilter_TypedConfig{TypedConfig: mustAny(&celv3.ExpressionFilter{Expression: expr})},
			},
		}},
		BodyFormatOverride: body,
	}
}

// textBody is a JSON local-reply body given as text (substitutions allowed).
func textBody(text string) *corev3.SubstitutionFormatString {
	return &corev3.SubstitutionFormatString{
		Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
			Specifier: &corev3.DataSource_InlineString{InlineString: text},
		}},
		ContentType: jsonContentType,
	}
}

// disabledHTTPFilter is an HCM entry that stays off until a route turns it
// on through its typed_per_filter_config: the listener's filter chain is
// fixed, so plugin changes never touch it (kong-plugins.md D2).
func disabledHTTPFilter(name string, cfg proto.Message) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{
		Name:       name,
		Disabled:   true,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(cfg)},
	}
}
