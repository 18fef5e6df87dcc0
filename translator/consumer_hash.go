package translator

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commonsetfilterstatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	setfilterstatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/set_filter_state/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

const (
	// consumerHashFilter turns the consumer keyauth.lua authenticated
	// into filter state for hash_on=consumer (D8).
	consumerHashFilter = "switchboard.consumer_hash"
	// consumerHashKey is the filter state object a consumer hash policy
	// reads (hashPolicy).
	consumerHashKey = "switchboard.consumer"
	// consumerMetadata is where keyauth.lua publishes the authenticated
	// (or anonymous) consumer id: dynamic metadata, namespace
	// switchboard — a client cannot write it, unlike a request header.
	consumerMetadata = "%DYNAMIC_METADATA(" + metadataNamespace + ":consumer)%"
)

// consumerHashStage copies the authenticated consumer's id into a
// hashable filter state object on the routes whose upstream hashes on the
// consumer. Without a consumer (a preflight key-auth skipped) nothing is
// set and the hash policy falls back, as Kong does.
type consumerHashStage struct{}

func (consumerHashStage) name() string { return consumerHashFilter }

func (f consumerHashStage) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, disabledHTTPFilter(f.name(), &setfilterstatev3.Config{}))
	return nil
}

func (consumerHashStage) patchResources(*Resources) error { return nil }

func (consumerHashStage) patchRoute(er *routev3.Route, _ *routePlan) error {
	if !hashesOnConsumer(er) {
		return nil
	}
	return setPerFilterConfig(er, consumerHashFilter, &setfilterstatev3.Config{
		OnRequestHeaders: []*commonsetfilterstatev3.FilterStateValue{{
			Key:         &commonsetfilterstatev3.FilterStateValue_ObjectKey{ObjectKey: consumerHashKey},
			FactoryKey:  "envoy.hashable_string",
			SkipIfEmpty: true,
			Value: &commonsetfilterstatev3.FilterStateValue_FormatString{FormatString: &corev3.SubstitutionFormatString{
				// An absent value must yield "" (skipped), not "-".
				OmitEmptyValues: true,
				Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
					Specifier: &corev3.DataSource_InlineString{InlineString: consumerMetadata},
				}},
			}},
		}},
	})
}

// hashesOnConsumer reports whether er's hash policy reads the consumer
// (hashPolicy emits it only where an auth plugin applies).
func hashesOnConsumer(er *routev3.Route) bool {
	for _, hp := range er.GetRoute().GetHashPolicy() {
		if hp.GetFilterState().GetKey() == consumerHashKey {
			return true
		}
	}
	return false
}

// authenticates reports whether an auth plugin applies to rp's route.
func authenticates(rp *routePlan) bool {
	for _, p := range rp.plugins {
		if p.name == pluginKeyAuth {
			return true
		}
	}
	return false
}
