package envoy

import (
	_ "embed"

	// The cache loop listener of the bootstrap names these types inside
	// Any fields (see bootstrap.go's imports).
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/bootstrap/internal_listener/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/custom_header/v3"
)

// CacheLoopCluster is the static cluster (and internal listener) that
// proxy-cache's cache filter sends the requests it may store to; the
// translator names it in the cache filter's config (translator/proxycache.go
// keeps its own copy of the name: envoy/ and translator/ import nothing of
// each other).
const CacheLoopCluster = "switchboard_cache_loop"

// CacheLoopTLSCluster is the same for the TLS listener: its loop matches
// the TLS route configuration.
const CacheLoopTLSCluster = "switchboard_cache_loop_tls"

// CacheLoopRoutes and CacheLoopTLSRoutes are the route configurations the
// loops match (translator.RouteConfigName and
// translator.TLSCacheLoopRouteConfigName). The TLS loop's is not the TLS
// listener's proxy-tls but a copy of it: while the TLS listener shares the
// plain table, nothing may subscribe to proxy-tls, or Envoy would build
// that table on every change for nothing.
const (
	CacheLoopRoutes    = "proxy"
	CacheLoopTLSRoutes = "proxy-cache-tls"
)

// cacheLoop is one loop listener (and its cluster, of the same name) with
// the route configuration it matches.
type cacheLoop struct{ Name, Routes string }

// cacheLoops are the loops of the proxy listener and the TLS listener.
var cacheLoops = []cacheLoop{{CacheLoopCluster, CacheLoopRoutes}, {CacheLoopTLSCluster, CacheLoopTLSRoutes}}

// cacheStoreLua is the loop listener's store stage.
//
//go:embed proxycache_store.lua
var cacheStoreLua string

// loopReply is one local-reply mapper of the loop listener: the proxy
// listener's Kong bodies for the same failures (translator/listener.go
// kongLocalReplies), which the proxy listener cannot apply to an answer
// that reaches it through its cache filter.
type loopReply struct {
	Flags  []string
	Status int
	Body   string
}

var loopReplies = []loopReply{
	{[]string{"NR"}, 404, `{"message":"no Route matched with those values"}`},
	{[]string{"UH"}, 503, `{"message":"failure to get a peer from the ring-balancer"}`},
	{[]string{"UF", "UC", "URX"}, 502, `{"message":"An invalid response was received from the upstream server"}`},
	{[]string{"UT"}, 504, `{"message":"The upstream server is timing out"}`},
}

// loopsFor is the loops an Envoy with opts needs.
func loopsFor(opts BootstrapOptions) []cacheLoop {
	if opts.ProxyTLS {
		return cacheLoops
	}
	return cacheLoops[:1]
}
