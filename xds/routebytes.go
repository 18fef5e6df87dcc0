package xds

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-gw/switchboard/xds/adscache"
)

// Field numbers of the repeated fields marshalRoutes splices in.
const (
	fieldVirtualHosts protowire.Number = 2 // RouteConfiguration.virtual_hosts
	fieldRoutes       protowire.Number = 3 // VirtualHost.routes
)

// routeChunks holds one route configuration's wire form as a rope of its
// virtual hosts (rope.go): a change marshals only the virtual hosts and
// routes the translator re-built, copies only the leaves around them, and
// hands the cache the leaves without one flat copy of the configuration.
// A virtual host of more than bigVhostRoutes routes (the single virtual
// host layout holds every route) is a rope of its routes inside. The
// version is the polynomial hash (polyhash.go) of the parts' hashes in
// order, whatever the leaves: equal bytes give equal versions on every
// node, and a change re-combines only what it touched.
//
// What the ropes hold is valid: a validating marshal (the delta path)
// validates every proto it marshals afresh, and the full path validates
// the whole configuration after marshalling it (sanitize) and forgets the
// ropes of one it repaired (forgetRoutes).
type routeChunks struct {
	gen    uint64 // marshals; marks the large virtual hosts in use
	vhosts rope[*routev3.VirtualHost]
	big    map[string]*bigVhost // by virtual host name
	// heads are the wire forms, with their repeated fields detached, of
	// the configuration and large virtual hosts validated lately: the
	// same bytes are the same content, valid again.
	heads map[string]bool
}

// maxHeads bounds routeChunks.heads (a few per configuration are in use).
const maxHeads = 64

func (c *routeChunks) validHead(b []byte) bool { return c.heads[string(b)] }

func (c *routeChunks) noteValidHead(b []byte) {
	if c.heads == nil || len(c.heads) >= maxHeads {
		c.heads = map[string]bool{}
	}
	c.heads[string(b)] = true
}

// bigVhost is the rope of a large virtual host's routes, kept by name: its
// proto is new on every change to one of its routes.
type bigVhost struct {
	gen    uint64
	routes rope[*routev3.Route]
}

// bigVhostRoutes is the route count above which a virtual host's routes
// get a rope of their own; a smaller one is marshalled whole when it
// changes.
const bigVhostRoutes = 16

// routeWire is a route configuration's wire form: pieces in order.
type routeWire struct {
	pieces  []mem.Buffer
	size    int
	version string
}

// flat is the pieces as one slice (tests, and the rare paths that decode).
func (w routeWire) flat() []byte {
	out := make([]byte, 0, w.size)
	for _, p := range w.pieces {
		out = append(out, p.ReadOnlyData()...)
	}
	return out
}

// errRouteBytes: the wire form held a surprise; marshal the whole
// configuration instead.
var errRouteBytes = errors.New("unexpected route configuration wire form")

// marshalRoutes is the deterministic wire form of a route configuration and
// its content version, built from the ropes. With validate, every proto
// marshalled afresh (and the configuration's own fields) is validated
// first, and an invalid one fails it, leaving the ropes as they were.
//
// It relies on the wire format (a message is its fields' records; Go's
// protobuf writes known fields in field-number order, which is also what
// makes deterministic output comparable), and TestMarshalRoutes_EqualsProto
// holds it to proto.Marshal on real translations. Any surprise in the
// bytes falls back to marshalling the whole configuration.
func (p *publisher) marshalRoutes(rc *routev3.RouteConfiguration, validate bool) (routeWire, error) {
	if p.routeBytes == nil {
		p.routeBytes = map[string]*routeChunks{}
	}
	rcs := p.routeBytes[rc.GetName()]
	if rcs == nil {
		rcs = &routeChunks{big: map[string]*bigVhost{}}
		p.routeBytes[rc.GetName()] = rcs
	}
	w, err := rcs.marshal(rc, validate)
	if !errors.Is(err, errRouteBytes) {
		return w, err
	}
	if validate {
		if err := rc.ValidateAll(); err != nil {
			return routeWire{}, err
		}
	}
	b, err := detMarshal(rc)
	return routeWire{pieces: []mem.Buffer{mem.SliceBuffer(b)}, size: len(b), version: strconv.FormatUint(polyOf(hashBytes(b)).h, 16)}, err
}

// forgetRoutes drops what the ropes hold of the route configurations the
// full path replaced (sanitize repaired them): they may hold what failed.
func (p *publisher) forgetRoutes(before, after []*routev3.RouteConfiguration) {
	kept := make(map[*routev3.RouteConfiguration]bool, len(after))
	for _, rc := range after {
		kept[rc] = true
	}
	for _, rc := range before {
		if !kept[rc] {
			delete(p.routeBytes, rc.GetName())
		}
	}
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

func (c *routeChunks) marshal(rc *routev3.RouteConfiguration, validate bool) (routeWire, error) {
	c.gen++
	vhs := rc.VirtualHosts
	rc.VirtualHosts = nil
	head, err := detMarshal(rc)
	if err == nil && validate && !c.validHead(head) {
		if err = rc.ValidateAll(); err == nil {
			c.noteValidHead(head)
		}
	}
	rc.VirtualHosts = vhs
	if err != nil {
		return routeWire{}, err
	}
	pre, post, ok := splitBefore(head, fieldVirtualHosts)
	if !ok {
		return routeWire{}, errRouteBytes
	}
	leaves, err := c.vhosts.build(vhs, func(vh *routev3.VirtualHost) ([]byte, uint64, *ropeLeaf[*routev3.VirtualHost], error) {
		return c.freshVirtualHost(vh, validate)
	})
	if err != nil {
		return routeWire{}, err
	}
	c.vhosts.commit(leaves)
	for _, l := range leaves {
		if l.big != nil {
			l.big.state.gen = c.gen
		}
	}
	for name, b := range c.big {
		if b.gen != c.gen {
			delete(c.big, name)
		}
	}
	pieces := make([]mem.Buffer, 0, len(leaves)+2)
	pieces = append(pieces, mem.SliceBuffer(pre))
	pieces, size, sum := ropeWire(leaves, pieces)
	if len(post) > 0 {
		pieces = append(pieces, mem.SliceBuffer(post))
	}
	sum = polyOf(hashBytes(head)).then(sum)
	return routeWire{pieces: pieces, size: len(head) + size, version: strconv.FormatUint(sum.h, 16)}, nil
}

// freshVirtualHost marshals a virtual host the rope does not hold: one
// record, or for a large one a composite leaf over its routes' rope. Its
// part hash is the polynomial hash of its own fields' bytes followed by its
// routes' hashes, either way.
func (c *routeChunks) freshVirtualHost(vh *routev3.VirtualHost, validate bool) ([]byte, uint64, *ropeLeaf[*routev3.VirtualHost], error) {
	routes := vh.Routes
	vh.Routes = nil
	vb, err := detMarshal(vh)
	// A large virtual host is re-built with every change to its routes,
	// its own fields mostly the same.
	memo := len(routes) > bigVhostRoutes
	if err == nil && validate && (!memo || !c.validHead(vb)) {
		if err = vh.ValidateAll(); err == nil && memo {
			c.noteValidHead(vb)
		}
	}
	vh.Routes = routes
	if err != nil {
		return nil, 0, nil, err
	}
	vpre, vpost, ok := splitBefore(vb, fieldRoutes)
	if !ok {
		return nil, 0, nil, errRouteBytes
	}
	sum := polyOf(hashBytes(vb))
	if len(routes) <= bigVhostRoutes {
		body := append([]byte(nil), vpre...)
		for _, r := range routes {
			rec, rsum, _, err := freshRoute(r, validate)
			if err != nil {
				return nil, 0, nil, err
			}
			body = append(body, rec...)
			sum = sum.then(polyOf(rsum))
		}
		body = append(body, vpost...)
		rec := protowire.AppendTag(make([]byte, 0, len(body)+protowire.SizeTag(fieldVirtualHosts)+protowire.SizeVarint(uint64(len(body)))), fieldVirtualHosts, protowire.BytesType)
		return protowire.AppendBytes(rec, body), sum.h, nil, nil
	}
	st := c.big[vh.GetName()]
	if st == nil || st.gen == c.gen {
		// A second virtual host of the same name in one configuration
		// (Envoy would refuse it) gets a rope of its own, unkept.
		fresh := &bigVhost{}
		if st == nil {
			c.big[vh.GetName()] = fresh
		}
		st = fresh
	}
	st.gen = c.gen
	leaves, err := st.routes.build(routes, func(r *routev3.Route) ([]byte, uint64, *ropeLeaf[*routev3.Route], error) {
		return freshRoute(r, validate)
	})
	if err != nil {
		return nil, 0, nil, err
	}
	st.routes.commit(leaves)
	pieces, size, rsum := ropeWire(leaves, make([]mem.Buffer, 1, len(leaves)+2))
	bodyLen := len(vpre) + size + len(vpost)
	hdr := protowire.AppendTag(nil, fieldVirtualHosts, protowire.BytesType)
	hdr = protowire.AppendVarint(hdr, uint64(bodyLen))
	hdr = append(hdr, vpre...)
	pieces[0] = mem.SliceBuffer(hdr)
	if len(vpost) > 0 {
		pieces = append(pieces, mem.SliceBuffer(vpost))
	}
	big := &bigItem{pieces: pieces, size: len(hdr) + size + len(vpost), state: st}
	return nil, 0, &ropeLeaf[*routev3.VirtualHost]{keys: []*routev3.VirtualHost{vh}, sum: polyOf(sum.then(rsum).h), big: big}, nil
}

// freshRoute is one route's record and part hash.
func freshRoute(r *routev3.Route, validate bool) ([]byte, uint64, *ropeLeaf[*routev3.Route], error) {
	b, err := detMarshal(r)
	if err == nil && validate {
		err = r.ValidateAll()
	}
	if err != nil {
		return nil, 0, nil, fmt.Errorf("route %q: %w", r.GetName(), err)
	}
	rec := protowire.AppendTag(make([]byte, 0, len(b)+protowire.SizeTag(fieldRoutes)+protowire.SizeVarint(uint64(len(b)))), fieldRoutes, protowire.BytesType)
	return protowire.AppendBytes(rec, b), hashBytes(b), nil, nil
}

func detMarshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// hashBytes is a part's content hash (the first 8 bytes of its SHA-256).
func hashBytes(b []byte) uint64 {
	sum := sha256.Sum256(b)
	return binary.LittleEndian.Uint64(sum[:8])
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
