package xds

import (
	"fmt"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-gw/switchboard/translator"
)

// secretRefs are the SDS secret names each listener and cluster refers to,
// keyed by refKey. go-control-plane's consistency check ignores secrets,
// and a secret that is missing, or withdrawn while still named, makes
// Envoy warm the listener or cluster until its initial_fetch_timeout and
// then fail every handshake (kong-tls.md §6.1–6.2): the publisher checks
// both itself. Only resources that name a secret have an entry.
type secretRefs map[string][]string

func refKey(typeURL, name string) string { return typeURL + "\x00" + name }

// secretRefsOf indexes a whole translation.
func secretRefsOf(res *translator.Resources) secretRefs {
	r := secretRefs{}
	for _, l := range res.Listeners {
		r.set(resourcev3.ListenerType, l.GetName(), listenerSecrets(l))
	}
	for _, c := range res.Clusters {
		r.set(resourcev3.ClusterType, c.GetName(), clusterSecrets(c))
	}
	return r
}

func (r secretRefs) set(typeURL, name string, names []string) {
	if len(names) == 0 {
		delete(r, refKey(typeURL, name))
		return
	}
	r[refKey(typeURL, name)] = names
}

// missing reports the first reference to a secret have lacks.
func (r secretRefs) missing(have map[string]bool) error {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, n := range r[k] {
			if !have[n] {
				return fmt.Errorf("%s names secret %q, which does not exist", describeKey(k), n)
			}
		}
	}
	return nil
}

// apply follows a delta that the cache took.
func (r secretRefs) apply(d *translator.Delta) {
	for _, l := range d.Listeners {
		r.set(resourcev3.ListenerType, l.GetName(), listenerSecrets(l))
	}
	for _, c := range d.Clusters {
		r.set(resourcev3.ClusterType, c.GetName(), clusterSecrets(c))
	}
	for _, n := range d.RemovedClusters {
		delete(r, refKey(resourcev3.ClusterType, n))
	}
	for _, n := range d.RemovedListeners {
		delete(r, refKey(resourcev3.ListenerType, n))
	}
}

// deltaConsistent checks that after d every named secret exists: the
// delta's listeners and clusters name only held or new secrets, and no
// secret d withdraws is still named by what stays.
func (r secretRefs) deltaConsistent(d *translator.Delta, held map[string][]byte) error {
	gone := map[string]bool{}
	for _, n := range d.RemovedSecrets {
		gone[n] = true
	}
	have := func(n string) bool {
		if gone[n] {
			return false
		}
		if _, ok := held[n]; ok {
			return true
		}
		return slices.ContainsFunc(d.Secrets, func(s *tlsv3.Secret) bool { return s.GetName() == n })
	}
	next := secretRefs{}
	for _, l := range d.Listeners {
		next.set(resourcev3.ListenerType, l.GetName(), listenerSecrets(l))
	}
	for _, c := range d.Clusters {
		next.set(resourcev3.ClusterType, c.GetName(), clusterSecrets(c))
	}
	for k, names := range next {
		for _, n := range names {
			if !have(n) {
				return fmt.Errorf("%s names secret %q, which does not exist", describeKey(k), n)
			}
		}
	}
	if len(gone) == 0 {
		return nil
	}
	replaced := map[string]bool{}
	for _, l := range d.Listeners {
		replaced[refKey(resourcev3.ListenerType, l.GetName())] = true
	}
	for _, c := range d.Clusters {
		replaced[refKey(resourcev3.ClusterType, c.GetName())] = true
	}
	for _, n := range d.RemovedClusters {
		replaced[refKey(resourcev3.ClusterType, n)] = true
	}
	for _, n := range d.RemovedListeners {
		replaced[refKey(resourcev3.ListenerType, n)] = true
	}
	for k, names := range r {
		if replaced[k] {
			continue
		}
		for _, n := range names {
			if gone[n] {
				return fmt.Errorf("secret %q withdrawn while %s still names it", n, describeKey(k))
			}
		}
	}
	return nil
}

func describeKey(k string) string {
	for i := range len(k) {
		if k[i] == 0 {
			return typeName(k[:i]) + " " + fmt.Sprintf("%q", k[i+1:])
		}
	}
	return k
}

// listenerSecrets are the secrets of a listener's TLS filter chains.
func listenerSecrets(l *listenerv3.Listener) []string {
	var out []string
	chains := l.GetFilterChains()
	if dc := l.GetDefaultFilterChain(); dc != nil {
		chains = append(slices.Clip(chains), dc)
	}
	for _, fc := range chains {
		ctx := &tlsv3.DownstreamTlsContext{}
		if unpackSocket(fc.GetTransportSocket(), ctx) {
			out = append(out, commonSecrets(ctx.GetCommonTlsContext())...)
		}
	}
	return sortedUnique(out)
}

// clusterSecrets are the secrets of a cluster's TLS transport sockets (the
// traffic's and the health checks' matches).
func clusterSecrets(c *clusterv3.Cluster) []string {
	var out []string
	sockets := []*corev3.TransportSocket{c.GetTransportSocket()}
	for _, m := range c.GetTransportSocketMatches() {
		sockets = append(sockets, m.GetTransportSocket())
	}
	for _, ts := range sockets {
		ctx := &tlsv3.UpstreamTlsContext{}
		if unpackSocket(ts, ctx) {
			out = append(out, commonSecrets(ctx.GetCommonTlsContext())...)
		}
	}
	return sortedUnique(out)
}

// unpackSocket decodes a TLS transport socket's typed config into m; false
// for another socket type (raw buffer) or none.
func unpackSocket(ts *corev3.TransportSocket, m proto.Message) bool {
	a := ts.GetTypedConfig()
	if a == nil {
		return false
	}
	return anypb.UnmarshalTo(a, m, proto.UnmarshalOptions{}) == nil
}

// commonSecrets are the SDS names a TLS context refers to: certificates
// and validation contexts.
func commonSecrets(c *tlsv3.CommonTlsContext) []string {
	var out []string
	for _, s := range c.GetTlsCertificateSdsSecretConfigs() {
		out = append(out, s.GetName())
	}
	if s := c.GetValidationContextSdsSecretConfig(); s != nil {
		out = append(out, s.GetName())
	}
	if s := c.GetCombinedValidationContext().GetValidationContextSdsSecretConfig(); s != nil {
		out = append(out, s.GetName())
	}
	return out
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
