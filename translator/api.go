package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// Input is everything a translation reads: the entities of one store
// snapshot, the DNS answers for the hostnames they name, and the listener
// settings. Slices may be in any order; Translate sorts what it emits.
type Input struct {
	Revision     uint64
	Services     []*store.Service
	Routes       []*store.Route
	Upstreams    []*store.Upstream
	Targets      []*store.Target
	TargetHealth []*store.TargetHealth
	// Plugins, Consumers and KeyAuthCredentials are the plugin entities
	// (expired credentials included: skip them with Expired).
	Plugins            []*store.Plugin
	Consumers          []*store.Consumer
	KeyAuthCredentials []*store.KeyAuthCredential
	// Certificates, SNIs and CACertificates are the TLS entities: each
	// certificate becomes SDS secrets (secrets.go), SNIs select them on
	// the TLS listener.
	Certificates   []*store.Certificate
	SNIs           []*store.SNI
	CACertificates []*store.CACertificate
	// DefaultCertificate is the cluster's generated default pair (nil
	// until the first start stored it); Options.TLSCert replaces it.
	DefaultCertificate *store.DefaultCertificate
	// DNS maps a hostname (target host or plain service host) to what the
	// control plane's resolver last learned of it. A hostname absent from
	// the map has not been resolved yet; IP literals never need an entry.
	DNS     map[string]DNSAnswer
	Options Options
	// Exclude quarantines entities by id (a route, service, upstream or
	// target) with the reason: each is left out as if it could not be
	// translated (an *EntityError wrapping ErrExcluded), so that one entity
	// Envoy rejects does not hold back every other change. A route of an
	// excluded service, and one forwarding to an excluded upstream, are
	// left out with it; an excluded target is left out of its upstream's
	// endpoints.
	Exclude map[string]string
}

// Options are the process-level settings that shape the Envoy config.
type Options struct {
	// ProxyAddress and ProxyPort are where Envoy's listener binds
	// (--proxy-listen). Empty and 0 mean Kong's 0.0.0.0 and 8000. The port
	// also decides which route hosts with a ":port" can match: a host
	// naming another port is left out.
	ProxyAddress string
	ProxyPort    uint32
	// RateLimitAddress is ip:port of the rate-limit service this process
	// serves (--ratelimit-listen) for rate-limiting policy=cluster|redis;
	// its Envoys get a cluster to it. RateLimitCluster emits that cluster
	// even without an address (no endpoints: the calls fail and
	// fault_tolerant decides), so that every node of a raft cluster sends
	// the same CDS whether or not its own service is up, and an Envoy
	// moving between nodes keeps its cluster versions. Neither: no cluster.
	RateLimitAddress string
	RateLimitCluster bool
	// ProxyTLSAddress and ProxyTLSPort are where the TLS listener binds
	// (--proxy-tls-listen, Kong's "8443 ssl http2"); port 0 means no TLS
	// listener, an empty address 0.0.0.0.
	ProxyTLSAddress string
	ProxyTLSPort    uint32
	// TLSCert and TLSKey (PEM, --proxy-tls-cert/--proxy-tls-key) replace
	// the cluster's stored default pair on this node's listener.
	TLSCert string
	TLSKey  string
	// TrustedCAFile is the PEM bundle Envoy reads (a path on the Envoy
	// host) to verify upstreams when a service with tls_verify=true names
	// no ca_certificates, and for active probes with
	// https_verify_certificate (Kong's lua_ssl_trusted_certificate).
	// Empty means DefaultTrustedCAFile.
	TrustedCAFile string
}

// DefaultTrustedCAFile is Debian's system bundle (ca-certificates), the
// image's; cmd/switchboard looks for the host's at start.
const DefaultTrustedCAFile = "/etc/ssl/certs/ca-certificates.crt"

// DNSAnswer is one hostname's resolution.
type DNSAnswer struct {
	// RecordType is "A", "AAAA" or "SRV" (Kong's "dns" field in /health).
	RecordType string
	Addresses  []Address
	// Err is non-empty when resolution failed; Kong reports DNS_ERROR.
	Err string
}

// Address is one resolved address of a hostname.
type Address struct {
	IP string
	// Port and Weight come from SRV records; 0 means "use the target's".
	Port   uint32
	Weight uint32
	// Name is the SRV target name (for use_srv_name); "" for A/AAAA.
	Name string
}

// Resources is one complete, self-consistent Envoy configuration, each
// slice sorted by name. The protos may share sub-messages (a route appears
// in several virtual hosts as the same *routev3.Route): treat them as
// read-only.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	// Secrets are the SDS secrets (secrets.go names them) that listeners
	// and clusters refer to by name; a publisher must hand them to Envoy
	// before the resources that name them, and withdraw them after.
	Secrets []*tlsv3.Secret

	// ClusterUpstream maps the name of every cluster that balances over a
	// Kong upstream's targets to that upstream's name (clusters of plain
	// services are absent), so that a caller finds the clusters a target
	// change touches without parsing cluster names.
	ClusterUpstream map[string]string
}
