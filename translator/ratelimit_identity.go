package translator

import (
	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	// rateLimitIdentityFilter copies the consumer and credential keyauth.lua
	// authenticated (dynamic metadata, which no client can write) into
	// internal request headers, because rate-limit actions can match and
	// read headers but not dynamic metadata. The public X-Consumer-ID is no
	// substitute: a preflight that key-auth skips keeps the client's copy.
	rateLimitIdentityFilter = "switchboard.rate_limit_identity"
	// consumerHeader and credentialHeader are those internal headers:
	// client-sent copies are removed first, and the route removes them
	// again before forwarding (request_headers_to_remove).
	consumerHeader   = "x-sb-rl-consumer"
	credentialHeader = "x-sb-rl-credential"
)

type rateLimitIdentityStage struct{}

func (rateLimitIdentityStage) name() string { return rateLimitIdentityFilter }

func (f rateLimitIdentityStage) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, disabledHTTPFilter(f.name(), &headermutationv3.HeaderMutation{
		Mutations: &headermutationv3.Mutations{},
	}))
	return nil
}

func (rateLimitIdentityStage) patchResources(*Resources) error { return nil }

// patchRoute turns the stage on where a rate-limiting instance reads the
// authenticated identity (limit_by consumer/credential, consumer scopes).
func (f rateLimitIdentityStage) patchRoute(er *routev3.Route, rp *routePlan) error {
	applies, err := rateLimitApplies(rp)
	if err != nil {
		return err
	}
	used := false
	for _, a := range applies {
		used = used || a.authenticated
	}
	if !used {
		return nil
	}
	er.RequestHeadersToRemove = append(er.RequestHeadersToRemove, consumerHeader, credentialHeader)
	setPerFilterAny(er, f.name(), rateLimitIdentityPerRoute)
	return nil
}

// rateLimitIdentityPerRoute is the stage's per-route config, the same on
// every route: built once.
var rateLimitIdentityPerRoute = func() *anypb.Any {
	copyFrom := func(header, field string) *mutationv3.HeaderMutation {
		return &mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
			// An absent value formats as "" and adds no header.
			Header:       &corev3.HeaderValue{Key: header, Value: "%DYNAMIC_METADATA(" + metadataNamespace + ":" + field + ")%"},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}}}
	}
	remove := func(header string) *mutationv3.HeaderMutation {
		return &mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Remove{Remove: header}}
	}
	return mustPerFilterAny(rateLimitIdentityFilter, &headermutationv3.HeaderMutationPerRoute{Mutations: &headermutationv3.Mutations{
		RequestMutations: []*mutationv3.HeaderMutation{
			remove(consumerHeader), remove(credentialHeader),
			copyFrom(consumerHeader, "consumer"), copyFrom(credentialHeader, "credential"),
		},
	}})
}()
