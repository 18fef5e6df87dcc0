package translator

import (
	"time"

	"github.com/switchboard-gw/switchboard/schema"
)

// Every constant the translator emits lives here, so that a reader can see in
// one place which Envoy defaults we override and why.

const (
	// ListenerName and RouteConfigName name the one Listener and the one
	// RouteConfiguration; the HCM refers to the route configuration by name
	// over RDS.
	ListenerName    = "proxy"
	RouteConfigName = "proxy"

	// statPrefix prefixes the HCM statistics (http.proxy.*).
	statPrefix = "proxy"

	// TLSListenerName and TLSRouteConfigName name the TLS listener and its
	// own RouteConfiguration (one per listener port, kong-tls.md D1):
	// https-only routes forward there and answer 426 on the plain one,
	// route snis and host ports differ per listener.
	TLSListenerName    = "proxy-tls"
	TLSRouteConfigName = "proxy-tls"
	tlsStatPrefix      = "proxy_tls"

	// TLSCacheLoopRouteConfigName is the route configuration of the TLS
	// listener's proxy-cache loop (the bootstrap's internal listener): the
	// TLS table while a proxy-cache instance exists, else empty. The loop
	// does not name proxy-tls, so that while the TLS listener shares the
	// plain table nothing subscribes to proxy-tls (listeners.go, Sharing).
	TLSCacheLoopRouteConfigName = "proxy-cache-tls"

	// defaultProxyAddress and defaultProxyPort apply when Options leaves
	// them empty: Kong's proxy_listen default is 0.0.0.0:8000.
	defaultProxyAddress = "0.0.0.0"
	defaultProxyPort    = 8000

	// sniFilterStateKey holds the connection's SNI for route snis
	// (set_filter_state on the TLS listener, matched per route).
	sniFilterStateKey = "switchboard.sni"

	// minRingSize is the smallest consistent-hashing continuum Kong builds
	// (docs/kong-contract.md §6: slots when ≥ 1000, else 1000).
	minRingSize = 1000

	// maxMaglevTableSize is Envoy's cap on the Maglev table (a prime).
	maxMaglevTableSize = 5000011

	// hostSelectionRetryMaxAttempts bounds how often Envoy re-picks a host
	// that the previous_hosts predicate rejects, so that a retry lands on
	// another target as Kong's balancer does.
	hostSelectionRetryMaxAttempts = 5

	// circuitBreakerLimit replaces Envoy's per-cluster defaults (1024
	// connections, pending and active requests, and only 3 concurrent
	// retries). Kong has no per-upstream concurrency caps, so a Kong user
	// load-testing one upstream must not meet 503 UO; the bootstrap's
	// overload manager still caps connections globally.
	circuitBreakerLimit = 1 << 20

	// upstreamIdleTimeout is Kong's upstream_keepalive_idle_timeout (60 s);
	// Envoy's default (1 h) outlives many backends' own keep-alive.
	upstreamIdleTimeout = 60 * time.Second

	// edsFetchTimeout bounds how long a re-created cluster waits for
	// endpoints that will not come (cluster.go, edsConfigSource).
	edsFetchTimeout = time.Second

	// defaultTimeoutMS is Kong's service timeout, used when a stored service
	// carries zero, which the admin API never writes but old data may.
	defaultTimeoutMS = schema.DefaultTimeoutMS

	// defaultRetries is Kong's service retries default; the virtual hosts
	// carry its retry policy and routes of such services inherit it.
	defaultRetries = 5

	// streamIdleTimeout is the HCM's stream_idle_timeout: Kong's default
	// read and write timeouts (60 s), so that only routes of services with
	// other timeouts set idle_timeout themselves.
	streamIdleTimeout = defaultTimeoutMS * time.Millisecond

	// jsonContentType is the content type of every Kong-generated body.
	jsonContentType = "application/json; charset=utf-8"
)

// Kong's proxy error messages (docs/kong-contract.md §7). Bodies are
// {"message": ...} as Kong before 3.5 renders them.
const (
	msgNoRoute        = "no Route matched with those values"
	msgNonGRPC        = "Non-gRPC request matched gRPC route"
	msgGRPCSOnly      = "gRPC request matched gRPCs route"
	msgNoPeer         = "failure to get a peer from the ring-balancer"
	msgNoService      = "no Service found with those values"
	msgBadGateway     = "An invalid response was received from the upstream server"
	msgUpstreamTimout = "The upstream server is timing out"
	msgUseHTTPS       = "Please use HTTPS protocol"
)

// Kong's default Host ports: a target or service port equal to the scheme's
// default is left out of the Host header (docs/kong-contract.md §4).
func defaultPortOf(protocol string) uint32 {
	switch protocol {
	case "https", "grpcs":
		return 443
	default:
		return 80
	}
}

// msOrDefault turns a Kong millisecond setting into a Duration, with Kong's
// default for unset (≤ 0) values.
func msOrDefault(ms int64) time.Duration {
	if ms <= 0 {
		ms = defaultTimeoutMS
	}
	return time.Duration(ms) * time.Millisecond
}

// healthyLocalityPrefix starts the locality sub_zone of an address marked
// healthy by hand (endpoint.go, healthyLocality).
const healthyLocalityPrefix = "switchboard/healthy@"
