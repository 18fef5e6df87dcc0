package translator

import (
	"fmt"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
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

// statusFilter selects local replies with the given status.
func statusFilter(code uint32) *accesslogv3.AccessLogFilter {
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_StatusCodeFilter{
		StatusCodeFilter: &accesslogv3.StatusCodeFilter{Comparison: &accesslogv3.ComparisonFilter{
			Op:    accesslogv3.ComparisonFilter_EQ,
			Value: &corev3.RuntimeUInt32{DefaultValue: code, RuntimeKey: fmt.Sprintf("local_reply_%d", code)},
		}},
	}}
}
