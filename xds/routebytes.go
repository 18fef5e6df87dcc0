package xds

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-gw/switchboard/xds/adscache"
)

// Field numbers of the repeated fields marshalRoutes splices in.
const (
	fieldVirtualHosts protowire.Number = 2 // RouteConfiguration.virtual_hosts
	fieldRoutes       protowire.Number = 3 // VirtualHost.routes
)

// routeChunks caches the wire form of one route configuration's parts by
// proto pointer: the translator keeps an unchanged virtual host's and
// route's proto (and builds a new one when anything in it changes), so a
// change marshals only what it re-built. Each part also keeps a content
// hash, and the configuration's version is folded from those in order:
// equal bytes give equal versions on every node, without hashing the
// whole configuration (megabytes at 50,000 routes) on every change.
type routeChunks struct {
	gen    uint64 // the current marshal; parts not seen in it are swept
	vhosts map[*routev3.VirtualHost]*chunk
	routes map[*routev3.Route]*chunk
	// seenRoutes counts the routes the current marshal visited (those of
	// the virtual hosts it re-built).
	seenRoutes int
}

// chunk is one marshalled message (without its field tag) and its hash.
type chunk struct {
	gen uint64
	b   []byte
	sum uint64
}

// A cache drops its stale parts (not used by the current marshal) once they
// are as many as the used ones, or more than maxStale: sweeping is
// O(cached), so it runs after O(cached) changes, or after maxStale changed
// parts at most, because a stale part pins its proto, and in the single
// virtual host layout one stale virtual host pins a list of every route
// (1,026 of them were 68 MiB at 10,000 routes before this bound).
const (
	maxStaleVhosts = 64
	maxStaleRoutes = 1024
)

// sweepDue reports whether a map of n entries, used of them current, is to
// be swept.
func sweepDue(n, used, maxStale int) bool {
	stale := n - used
	return stale > used || stale > maxStale
}

// marshalRoutes is the deterministic wire form of a route configuration and
// its content version, spliced from cached parts.
//
// It relies on the wire format (a message is its fields' records; Go's
// protobuf writes known fields in field-number order, which is also what
// makes deterministic output comparable), and TestMarshalRoutes_EqualsProto
// holds it to proto.Marshal on real translations. Any surprise in the
// bytes falls back to marshalling the whole configuration.
func (p *publisher) marshalRoutes(rc *routev3.RouteConfiguration) ([]byte, string, error) {
	if p.routeBytes == nil {
		p.routeBytes = map[string]*routeChunks{}
	}
	rcs := p.routeBytes[rc.GetName()]
	if rcs == nil {
		rcs = &routeChunks{vhosts: map[*routev3.VirtualHost]*chunk{}, routes: map[*routev3.Route]*chunk{}}
		p.routeBytes[rc.GetName()] = rcs
	}
	b, v, ok, err := rcs.marshal(rc)
	if err != nil || ok {
		return b, v, err
	}
	b, err = proto.MarshalOptions{Deterministic: true}.Marshal(rc)
	return b, strconv.FormatUint(hashBytes(b), 16), err
}

// noteRouteVersions records the versions of the route configurations
// handed to the cache (rcVersion).
func (p *publisher) noteRouteVersions(typeURL string, up []adscache.Resource, del []string) {
	if typeURL != resourcev3.RouteType {
		return
	}
	if p.rcVersion == nil {
		p.rcVersion = map[string]string{}
	}
	for _, r := range up {
		p.rcVersion[r.Name] = r.Version
	}
	for _, n := range del {
		delete(p.rcVersion, n)
	}
}

func (c *routeChunks) marshal(rc *routev3.RouteConfiguration) (out []byte, version string, ok bool, err error) {
	c.gen++
	c.seenRoutes = 0
	vhs := rc.VirtualHosts
	rc.VirtualHosts = nil
	head, err := detMarshal(rc)
	rc.VirtualHosts = vhs
	if err != nil {
		return nil, "", false, err
	}
	pre, post, ok := splitBefore(head, fieldVirtualHosts)
	if !ok {
		return nil, "", false, nil
	}
	parts := make([]*chunk, len(vhs))
	size := len(head)
	for i, vh := range vhs {
		vc := c.vhosts[vh]
		if vc == nil {
			if vc, ok, err = c.marshalVirtualHost(vh); err != nil || !ok {
				return nil, "", false, err
			}
			// A lone virtual host (the single layout) is re-built on
			// every change: keeping its bytes would only double them.
			if len(vhs) > 1 {
				c.vhosts[vh] = vc
			}
		}
		vc.gen = c.gen
		parts[i] = vc
		size += protowire.SizeTag(fieldVirtualHosts) + protowire.SizeBytes(len(vc.b))
	}
	out = make([]byte, 0, size)
	out = append(out, pre...)
	sum := hashBytes(head)
	for _, vc := range parts {
		out = protowire.AppendTag(out, fieldVirtualHosts, protowire.BytesType)
		out = protowire.AppendBytes(out, vc.b)
		sum = fold(sum, vc.sum)
	}
	out = append(out, post...)
	sweep(c.vhosts, len(vhs), c.gen, maxStaleVhosts)
	sweep(c.routes, c.seenRoutes, c.gen, maxStaleRoutes)
	return out, strconv.FormatUint(sum, 16), true, nil
}

// marshalVirtualHost builds one virtual host's chunk from its own fields and
// its routes' chunks (cached by pointer too: in the single virtual host
// layout one virtual host holds every route and is rebuilt on every change).
func (c *routeChunks) marshalVirtualHost(vh *routev3.VirtualHost) (*chunk, bool, error) {
	routes := vh.Routes
	vh.Routes = nil
	vb, err := detMarshal(vh)
	vh.Routes = routes
	if err != nil {
		return nil, false, err
	}
	vpre, vpost, ok := splitBefore(vb, fieldRoutes)
	if !ok {
		return nil, false, nil
	}
	size := len(vb)
	parts := make([]*chunk, len(routes))
	for i, r := range routes {
		rc := c.routes[r]
		if rc == nil {
			b, err := detMarshal(r)
			if err != nil {
				return nil, false, fmt.Errorf("route %q: %w", r.GetName(), err)
			}
			rc = &chunk{b: b, sum: hashBytes(b)}
			c.routes[r] = rc
		}
		rc.gen = c.gen
		c.seenRoutes++
		parts[i] = rc
		size += protowire.SizeTag(fieldRoutes) + protowire.SizeBytes(len(rc.b))
	}
	body := make([]byte, 0, size)
	body = append(body, vpre...)
	sum := hashBytes(vb)
	for _, rc := range parts {
		body = protowire.AppendTag(body, fieldRoutes, protowire.BytesType)
		body = protowire.AppendBytes(body, rc.b)
		sum = fold(sum, rc.sum)
	}
	body = append(body, vpost...)
	return &chunk{b: body, sum: sum}, true, nil
}

// sweep drops the parts not used by the current marshal when sweepDue. A
// route of an unchanged (cached) virtual host is not visited, so it may be
// dropped and re-marshalled the next time its virtual host is re-built:
// correct, only slower, and its bytes live on inside the virtual host's.
func sweep[K comparable](m map[K]*chunk, used int, gen uint64, maxStale int) {
	if !sweepDue(len(m), used, maxStale) {
		return
	}
	for k, c := range m {
		if c.gen != gen {
			delete(m, k)
		}
	}
}

func detMarshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// hashBytes is a part's content hash (the first 8 bytes of its SHA-256).
func hashBytes(b []byte) uint64 {
	sum := sha256.Sum256(b)
	return binary.LittleEndian.Uint64(sum[:8])
}

// fold adds one part's hash to an ordered sequence's: order matters (a
// configuration's routes are matched in order), so it is a multiply-rotate
// chain, not a sum.
func fold(acc, part uint64) uint64 {
	return bits.RotateLeft64((acc^part)*0x9e3779b97f4a7c15, 31) ^ part
}

// splitBefore splits a message's records into those of fields numbered
// below num and the rest; ok is false when the bytes do not parse or a
// lower-numbered field follows a higher one.
func splitBefore(b []byte, num protowire.Number) (pre, post []byte, ok bool) {
	i, split := 0, -1
	for i < len(b) {
		n, typ, l := protowire.ConsumeTag(b[i:])
		if l < 0 {
			return nil, nil, false
		}
		m := protowire.ConsumeFieldValue(n, typ, b[i+l:])
		if m < 0 {
			return nil, nil, false
		}
		switch {
		case n == num:
			return nil, nil, false // the field was supposed to be detached
		case n > num && split < 0:
			split = i
		case n < num && split >= 0:
			return nil, nil, false
		}
		i += l + m
	}
	if split < 0 {
		split = len(b)
	}
	return b[:split], b[split:], true
}
