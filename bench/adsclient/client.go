package adsclient

import (
	"context"
	"errors"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/switchboard-gw/switchboard/internal/adstest"
)

// Client is one simulated Envoy: internal/adstest's client, shared with the
// xds package's tests.
type Client = adstest.Client

// Received is one response as the client saw it.
type Received = adstest.Response

// Dial connects a simulated Envoy with node id id to the ADS server at addr:
// incremental xDS, names and versions only (a fleet of them holds large
// configurations), and a node that says it is the benchmark's.
func Dial(ctx context.Context, addr, id string) (*Client, error) {
	return adstest.Dial(ctx, addr, adstest.Options{
		Node:  &corev3.Node{Id: id, Cluster: "sbbench", UserAgentName: "sbbench-adsclient"},
		Delta: true, NamesOnly: true,
	})
}

// ErrIncomplete is returned when clients did not get a full configuration
// within the bound.
var ErrIncomplete = errors.New("ads clients incomplete")
