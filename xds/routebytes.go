package xds

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Field numbers of the repeated fields marshalRoutes splices in.
const (
	fieldVirtualHosts protowire.Number = 2 // RouteConfiguration.virtual_hosts
	fieldRoutes       protowire.Number = 3 // VirtualHost.routes
)

// marshalRoutes is the deterministic wire form of a route configuration,
// built from per-route bytes cached by proto pointer: every route lives in
// one RouteConfiguration, and the translator keeps an unchanged route's
// proto, so a change marshals the routes it re-built and copies the rest.
//
// It relies on the wire format (a message is its fields' records; Go's
// protobuf writes known fields in field-number order, which is also what
// makes deterministic output comparable), and TestMarshalRoutes_EqualsProto
// holds it to proto.Marshal on real translations. Any surprise in the
// bytes falls back to marshalling the whole configuration.
func (p *publisher) marshalRoutes(rc *routev3.RouteConfiguration) ([]byte, error) {
	det := proto.MarshalOptions{Deterministic: true}
	if p.routeBytes == nil {
		p.routeBytes, p.rcLen = map[string]map[*routev3.Route][]byte{}, map[string]int{}
	}
	cached := p.routeBytes[rc.GetName()]
	next := make(map[*routev3.Route][]byte, len(cached))
	vhs := rc.VirtualHosts
	rc.VirtualHosts = nil
	head, err := det.Marshal(rc)
	rc.VirtualHosts = vhs
	if err != nil {
		return nil, err
	}
	pre, post, ok := splitBefore(head, fieldVirtualHosts)
	if !ok {
		return det.Marshal(rc)
	}
	out := make([]byte, 0, p.rcLen[rc.GetName()]+len(head))
	out = append(out, pre...)
	var body []byte
	for _, vh := range vhs {
		routes := vh.Routes
		vh.Routes = nil
		vb, err := det.Marshal(vh)
		vh.Routes = routes
		if err != nil {
			return nil, err
		}
		vpre, vpost, ok := splitBefore(vb, fieldRoutes)
		if !ok {
			return det.Marshal(rc)
		}
		body = append(body[:0], vpre...)
		for _, r := range routes {
			b, ok := cached[r]
			if !ok {
				if b, err = det.Marshal(r); err != nil {
					return nil, fmt.Errorf("route %q: %w", r.GetName(), err)
				}
			}
			next[r] = b
			body = protowire.AppendTag(body, fieldRoutes, protowire.BytesType)
			body = protowire.AppendBytes(body, b)
		}
		body = append(body, vpost...)
		out = protowire.AppendTag(out, fieldVirtualHosts, protowire.BytesType)
		out = protowire.AppendBytes(out, body)
	}
	out = append(out, post...)
	p.routeBytes[rc.GetName()], p.rcLen[rc.GetName()] = next, len(out)
	return out, nil
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
