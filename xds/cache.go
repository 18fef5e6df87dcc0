package xds

import (
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/switchboard-gw/switchboard/xds/adscache"
)

// The cache layout.
//
// One adscache.Cache holds every type (CDS, EDS, LDS, RDS) with a version
// per resource, behind go-control-plane's server (which keeps the protocol:
// nonces, ACK/NACK, ordered ADS). The publisher marshals each resource once
// when its bytes change; every stream is sent those same bytes, and a
// change is sent only to the watches subscribed to it. Cluster protos
// never change with targets (endpoints live in EDS), which keeps Envoy's
// health-check state (docs/kong-contract.md §10.2).
//
// Listeners and clusters are full-state types over SotW: each response
// carries all of them. Every Envoy shares the configuration: there is no
// per-node state.

func newCache() *adscache.Cache {
	return adscache.New(resourcev3.ClusterType, resourcev3.ListenerType)
}
