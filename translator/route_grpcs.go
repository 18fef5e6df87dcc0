package translator

import (
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
)

// onlyGRPCS reports a route whose every protocol is grpcs.
func onlyGRPCS(protocols []string) bool {
	return len(protocols) > 0 && !slices.ContainsFunc(protocols, func(p string) bool { return p != "grpcs" })
}

// grpcsOnlyRoutes answer a grpcs-only route reached over plain HTTP as
// Kong's handler.lua does: its https check does not apply (the protocols
// have no https), so a request that is not gRPC gets 415 "Non-gRPC request
// matched gRPC route", and a gRPC one a trailers-only 200 with grpc-status
// 1 and grpc-message "gRPC request matched gRPCs route" (kong-tls.md §3.3).
// Difference: Kong answers gRPC over HTTP/1.1 with 426 "Please use HTTP2
// protocol"; an Envoy route cannot match the HTTP version, so that request
// gets the 200 too. match is the path rule's (used by the second route,
// cloned for the first).
func grpcsOnlyRoutes(name string, match *routev3.RouteMatch, headers []*routev3.HeaderMatcher) []*routev3.Route {
	notGRPC := proto.Clone(match).(*routev3.RouteMatch)
	notGRPC.Headers = append(slices.Clone(headers), &routev3.HeaderMatcher{
		Name: "content-type",
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "application/grpc"},
		}},
		InvertMatch: true,
		// A request without a content-type is not gRPC either.
		TreatMissingHeaderAsEmpty: true,
	})
	refuse := &routev3.Route{Name: name, Match: notGRPC}
	setDirectJSON(refuse, 415, msgNonGRPC)

	match.Headers = headers
	answer := &routev3.Route{Name: name, Match: match, Action: &routev3.Route_DirectResponse{
		DirectResponse: &routev3.DirectResponseAction{Status: 200},
	}}
	answer.ResponseHeadersToAdd = []*corev3.HeaderValueOption{
		setHeader("content-type", "application/grpc"),
		setHeader("grpc-status", "1"),
		setHeader("grpc-message", msgGRPCSOnly),
	}
	return []*routev3.Route{refuse, answer}
}
