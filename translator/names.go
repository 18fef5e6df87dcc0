package translator

import (
	"strconv"
	"strings"

	"github.com/switchboard-gw/switchboard/store"
)

// Cluster naming scheme
//
// Envoy cluster names are derived from entity names and settings only, never
// from targets, so that a target change touches EDS alone (a changed Cluster
// is re-created by Envoy and loses its health-check state):
//
//	upstream/<upstream name>/<scheme>/<connect_timeout ms>[/ca:<service id>][/cert:<certificate id>]
//	    a Kong upstream, as seen by services with that protocol and connect
//	    timeout. <scheme> is the service protocol (http, https, grpc, grpcs),
//	    with "-verify" appended for https/grpcs services with tls_verify=true
//	    and "-preserve-host" for their preserve_host routes (the SNI is then
//	    the client's Host, a cluster-level switch in Envoy). Over TLS a
//	    service's own TLS settings split the cluster too: "ca:<service id>"
//	    when it verifies (its ca/<service id> secret), "cert:<id>" when it
//	    presents a client_certificate (cluster_tls.go).
//	    Usually an upstream has exactly one such cluster; an upstream that no
//	    enabled service uses still gets one, with Kong's defaults
//	    (upstream/<name>/http/60000), so that its health can be reported.
//	    Several services that disagree on protocol or connect timeout give
//	    one cluster each, because both are cluster-level settings in Envoy.
//	service/<service id>[/preserve-host]
//	    a service whose host is not an upstream name: one cluster for its
//	    host:port, resolved through Input.DNS when the host is a name; TLS
//	    services' preserve_host routes get the second one.
//
// The ClusterLoadAssignment of every cluster carries the cluster's name
// (eds_cluster_config.service_name is left empty). Upstream names are
// hostnames and service ids UUIDs, so "/" never occurs inside a component and
// ParseClusterName can split the name back.

const (
	upstreamClusterPrefix = "upstream/"
	serviceClusterPrefix  = "service/"
	verifySuffix          = "-verify"
	preserveHostSuffix    = "-preserve-host"
	preserveHostPart      = "preserve-host"
	caPartPrefix          = "ca:"
	certPartPrefix        = "cert:"
)

// ClusterRef is what a cluster name says about its origin.
type ClusterRef struct {
	// Upstream is the Kong upstream name for upstream clusters, else "".
	Upstream string
	// ServiceID is the Kong service id for service clusters, else "".
	ServiceID string
	// Protocol (http, https, grpc, grpcs), ConnectTimeoutMS and TLSVerify
	// are the service settings an upstream cluster was built for; zero for
	// service clusters, whose settings come from the service itself.
	Protocol         string
	ConnectTimeoutMS int64
	TLSVerify        bool
	// PreserveHost marks the cluster of TLS preserve_host routes (SNI from
	// the client's Host); CAService and ClientCertificate are the service
	// TLS settings the cluster carries ("" none).
	PreserveHost      bool
	CAService         string
	ClientCertificate string
}

// UpstreamClusterName is the name of the cluster that balances over u's
// targets for a service with svc's protocol, connect timeout and TLS
// verification. A nil svc means Kong's service defaults (http, 60000 ms).
func UpstreamClusterName(u *store.Upstream, svc *store.Service) string {
	v := variantOf(svc)
	return v.clusterName(u.Name)
}

// UpstreamClusterPrefix is the prefix shared by every cluster of the upstream
// called name, so that a caller holding the published clusters can find all
// of them (usually one).
func UpstreamClusterPrefix(name string) string {
	return upstreamClusterPrefix + name + "/"
}

// ServiceClusterName is the name of the cluster of a service whose host is
// not an upstream.
func ServiceClusterName(svc *store.Service) string {
	return serviceClusterPrefix + svc.ID
}

// ParseClusterName reverses UpstreamClusterName and ServiceClusterName; ok is
// false for a name the translator never emits.
func ParseClusterName(name string) (ref ClusterRef, ok bool) {
	if rest, found := strings.CutPrefix(name, serviceClusterPrefix); found {
		id, variantPart, hasPart := strings.Cut(rest, "/")
		if id == "" || (hasPart && variantPart != preserveHostPart) {
			return ClusterRef{}, false
		}
		return ClusterRef{ServiceID: id, PreserveHost: hasPart}, true
	}
	rest, found := strings.CutPrefix(name, upstreamClusterPrefix)
	if !found {
		return ClusterRef{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || parts[0] == "" {
		return ClusterRef{}, false
	}
	ms, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || ms <= 0 {
		return ClusterRef{}, false
	}
	scheme, preserve := strings.CutSuffix(parts[1], preserveHostSuffix)
	proto, verify := strings.CutSuffix(scheme, verifySuffix)
	ref = ClusterRef{Upstream: parts[0], Protocol: proto, ConnectTimeoutMS: ms, TLSVerify: verify, PreserveHost: preserve}
	for _, p := range parts[3:] {
		switch {
		case strings.HasPrefix(p, caPartPrefix) && ref.CAService == "" && ref.ClientCertificate == "":
			ref.CAService = strings.TrimPrefix(p, caPartPrefix)
		case strings.HasPrefix(p, certPartPrefix) && ref.ClientCertificate == "":
			ref.ClientCertificate = strings.TrimPrefix(p, certPartPrefix)
		default:
			return ClusterRef{}, false
		}
	}
	switch proto {
	case "http", "grpc":
		if verify || preserve || len(parts) > 3 {
			return ClusterRef{}, false
		}
	case "https", "grpcs":
		if ref.CAService != "" && !verify {
			return ClusterRef{}, false // only a verifying cluster names its CA secret
		}
	default:
		return ClusterRef{}, false
	}
	return ref, true
}

// variant is the part of a service (and of its route) that shapes an
// upstream's Envoy cluster and endpoints: the protocol (TLS, HTTP/2, and
// the default port left out of the Host header), the connect timeout,
// certificate verification and, over TLS only, the service's own TLS
// settings and the route's preserve_host (zero otherwise, so that plain
// clusters never split on them).
type variant struct {
	protocol         string
	connectTimeoutMS int64
	tlsVerify        bool
	preserveHost     bool
	// caService is the service whose ca/<id> secret verifies the
	// upstream's certificate (set with tlsVerify); clientCert is the
	// service's client_certificate id, which wins over the upstream's.
	caService  string
	clientCert string
}

// variantOf extracts the cluster-shaping settings of svc, with Kong's
// defaults for a nil service or unset fields. The translator's variantFor
// adds what needs the other entities.
func variantOf(svc *store.Service) variant {
	v := variant{protocol: "http", connectTimeoutMS: defaultTimeoutMS}
	if svc == nil {
		return v
	}
	if svc.Protocol != "" {
		v.protocol = svc.Protocol
	}
	if svc.ConnectTimeout > 0 {
		v.connectTimeoutMS = svc.ConnectTimeout
	}
	if !v.isTLS() {
		return v
	}
	if v.tlsVerify = svc.TLSVerify != nil && *svc.TLSVerify; v.tlsVerify {
		v.caService = svc.ID
	}
	if svc.ClientCertificate != nil {
		v.clientCert = svc.ClientCertificate.ID
	}
	return v
}

func (v variant) isTLS() bool  { return v.protocol == "https" || v.protocol == "grpcs" }
func (v variant) isGRPC() bool { return v.protocol == "grpc" || v.protocol == "grpcs" }

func (v variant) clusterName(upstream string) string {
	scheme := v.protocol
	if v.tlsVerify {
		scheme += verifySuffix
	}
	if v.preserveHost {
		scheme += preserveHostSuffix
	}
	name := upstreamClusterPrefix + upstream + "/" + scheme + "/" + strconv.FormatInt(v.connectTimeoutMS, 10)
	if v.caService != "" {
		name += "/" + caPartPrefix + v.caService
	}
	if v.clientCert != "" {
		name += "/" + certPartPrefix + v.clientCert
	}
	return name
}

// serviceClusterName is the cluster of a service with a plain host, for
// this variant of its routes.
func (v variant) serviceClusterName(svc *store.Service) string {
	if v.preserveHost {
		return ServiceClusterName(svc) + "/" + preserveHostPart
	}
	return ServiceClusterName(svc)
}

// variantOfRef rebuilds the variant encoded in an upstream cluster name.
func variantOfRef(ref ClusterRef) variant {
	return variant{protocol: ref.Protocol, connectTimeoutMS: ref.ConnectTimeoutMS, tlsVerify: ref.TLSVerify,
		preserveHost: ref.PreserveHost, caService: ref.CAService, clientCert: ref.ClientCertificate}
}
