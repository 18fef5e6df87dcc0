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
//	upstream/<upstream name>/<scheme>/<connect_timeout ms>
//	    a Kong upstream, as seen by services with that protocol and connect
//	    timeout. <scheme> is the service protocol (http, https, grpc, grpcs),
//	    with "-verify" appended for https/grpcs services with tls_verify=true.
//	    Usually an upstream has exactly one such cluster; an upstream that no
//	    enabled service uses still gets one, with Kong's defaults
//	    (upstream/<name>/http/60000), so that its health can be reported.
//	    Several services that disagree on protocol or connect timeout give
//	    one cluster each, because both are cluster-level settings in Envoy.
//	service/<service id>
//	    a service whose host is not an upstream name: one cluster for its
//	    host:port, resolved through Input.DNS when the host is a name.
//
// The ClusterLoadAssignment of every cluster carries the cluster's name
// (eds_cluster_config.service_name is left empty). Upstream names are
// hostnames and service ids UUIDs, so "/" never occurs inside a component and
// ParseClusterName can split the name back.

const (
	upstreamClusterPrefix = "upstream/"
	serviceClusterPrefix  = "service/"
	verifySuffix          = "-verify"
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
	if id, found := strings.CutPrefix(name, serviceClusterPrefix); found {
		if id == "" || strings.Contains(id, "/") {
			return ClusterRef{}, false
		}
		return ClusterRef{ServiceID: id}, true
	}
	rest, found := strings.CutPrefix(name, upstreamClusterPrefix)
	if !found {
		return ClusterRef{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" {
		return ClusterRef{}, false
	}
	ms, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || ms <= 0 {
		return ClusterRef{}, false
	}
	proto, verify := strings.CutSuffix(parts[1], verifySuffix)
	switch proto {
	case "http", "grpc":
		if verify {
			return ClusterRef{}, false
		}
	case "https", "grpcs":
	default:
		return ClusterRef{}, false
	}
	return ClusterRef{Upstream: parts[0], Protocol: proto, ConnectTimeoutMS: ms, TLSVerify: verify}, true
}

// variant is the part of a service that shapes an upstream's Envoy cluster
// and endpoints: the protocol (TLS, HTTP/2, and the default port left out of
// the Host header), the connect timeout and certificate verification.
type variant struct {
	protocol         string
	connectTimeoutMS int64
	tlsVerify        bool
}

// variantOf extracts the cluster-shaping settings of svc, with Kong's
// defaults for a nil service or unset fields.
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
	v.tlsVerify = v.isTLS() && svc.TLSVerify != nil && *svc.TLSVerify
	return v
}

func (v variant) isTLS() bool  { return v.protocol == "https" || v.protocol == "grpcs" }
func (v variant) isGRPC() bool { return v.protocol == "grpc" || v.protocol == "grpcs" }

func (v variant) clusterName(upstream string) string {
	scheme := v.protocol
	if v.tlsVerify {
		scheme += verifySuffix
	}
	return upstreamClusterPrefix + upstream + "/" + scheme + "/" + strconv.FormatInt(v.connectTimeoutMS, 10)
}

// variantOfRef rebuilds the variant encoded in an upstream cluster name.
func variantOfRef(ref ClusterRef) variant {
	return variant{protocol: ref.Protocol, connectTimeoutMS: ref.ConnectTimeoutMS, tlsVerify: ref.TLSVerify}
}
