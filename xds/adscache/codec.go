package adscache

import (
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// Codec is gRPC's proto codec, except for the xDS responses the server
// sends: their resources (held once by the cache for every stream) are
// passed to the transport by reference, as the pieces of their wireForm,
// instead of being copied into one buffer per stream. The transport streams
// the pieces out with flow control and never writes into them. Requests and
// every other message use gRPC's own codec. Install it on the ADS server
// with grpc.ForceServerCodecV2(c.Codec()).
func (c *Cache) Codec() encoding.CodecV2 {
	return codec{base: encoding.GetCodecV2(grpcproto.Name), c: c}
}

type codec struct {
	base encoding.CodecV2
	c    *Cache
}

// Name is the proto codec's: Envoy sends application/grpc (+proto).
func (codec) Name() string { return grpcproto.Name }

func (k codec) Unmarshal(data mem.BufferSlice, v any) error {
	return k.base.Unmarshal(data, v)
}

func (k codec) Marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case *discoveryv3.DeltaDiscoveryResponse:
		return k.marshalDelta(m)
	case *discoveryv3.DiscoveryResponse:
		return k.marshalSotw(m)
	}
	return k.base.Marshal(v)
}

// wireOf is the shared encoding of a, if a is a resource the cache holds.
// A response may carry a resource replaced since it was built; that one is
// encoded afresh (from its pieces, PiecesOf, if it was given as pieces).
func (c *Cache) wireOf(a *anypb.Any) *wireForm {
	w, ok := c.wires.Load(a)
	if !ok {
		return nil
	}
	return w.(*wireForm)
}

// shareAbove is the size from which a resource the cache does not hold is
// passed by reference; smaller ones are copied, which costs less than a
// buffer each.
const shareAbove = 32 << 10

// pieces builds a BufferSlice from copied bytes and shared ones.
type pieces struct {
	out mem.BufferSlice
	buf []byte
}

func (p *pieces) share(b ...mem.Buffer) {
	if len(p.buf) > 0 {
		p.out = append(p.out, mem.SliceBuffer(p.buf))
		p.buf = nil
	}
	p.out = append(p.out, b...)
}

func (p *pieces) done() mem.BufferSlice {
	if len(p.buf) > 0 {
		p.out = append(p.out, mem.SliceBuffer(p.buf))
	}
	return p.out
}

// marshalWithout marshals m with the list *field cleared for the call: a
// response's own fields, its resources being written as shared records.
func marshalWithout[E any](m proto.Message, field *[]E) ([]byte, error) {
	saved := *field
	*field = nil
	b, err := proto.Marshal(m)
	*field = saved
	return b, err
}

// marshalDelta writes the response's own fields, then each resource as a
// record of field 2 (protobuf allows any field order). The response is the
// stream's own (the server set its nonce); its resources are shared and
// only read.
func (k codec) marshalDelta(m *discoveryv3.DeltaDiscoveryResponse) (mem.BufferSlice, error) {
	res := m.Resources
	head, err := marshalWithout(m, &m.Resources)
	if err != nil {
		return nil, err
	}
	p := pieces{out: make(mem.BufferSlice, 0, 1+2*len(res)), buf: head}
	for _, r := range res {
		a := r.GetResource()
		if w := k.c.wireOf(a); w != nil && w.plain(r) {
			p.share(w.head)
			p.share(w.value...)
			continue
		}
		if parts, ok := PiecesOf(a); ok {
			if (&wireForm{delta: r}).plain(r) {
				w := newWireForm(r, parts)
				p.share(w.head)
				p.share(w.value...)
				continue
			}
			// Fields the shared records do not cover: a flat copy.
			r = proto.Clone(r).(*discoveryv3.Resource)
			r.Resource.Value, a = joinPieces(parts), r.Resource
		}
		if len(a.GetValue()) < shareAbove || !onlyFields(r, fieldResVersion, fieldResAny, fieldResName) || !onlyFields(a, fieldAnyTypeURL, fieldAnyValue) {
			if p.buf, err = appendMessage(p.buf, fieldDeltaResources, r); err != nil {
				return nil, err
			}
			continue
		}
		w := newWireForm(r, nil)
		p.share(w.head)
		p.share(w.value...)
	}
	return p.done(), nil
}

// marshalSotw is the same for a state-of-the-world response, whose
// resources are Any messages.
func (k codec) marshalSotw(m *discoveryv3.DiscoveryResponse) (mem.BufferSlice, error) {
	res := m.Resources
	head, err := marshalWithout(m, &m.Resources)
	if err != nil {
		return nil, err
	}
	p := pieces{out: make(mem.BufferSlice, 0, 1+2*len(res)), buf: head}
	for _, a := range res {
		if w := k.c.wireOf(a); w != nil && w.delta.Resource == a && len(a.ProtoReflect().GetUnknown()) == 0 {
			p.share(w.anyHead)
			p.share(w.value...)
			continue
		}
		if parts, ok := PiecesOf(a); ok {
			if len(a.ProtoReflect().GetUnknown()) == 0 {
				n := piecesLen(parts)
				p.buf = protowire.AppendTag(p.buf, fieldSotwResources, protowire.BytesType)
				p.buf = protowire.AppendVarint(p.buf, uint64(anyHeaderSize(a, n)+n))
				p.buf = appendAnyHeader(p.buf, a, n)
				p.share(parts...)
				continue
			}
			a = proto.Clone(a).(*anypb.Any)
			a.Value = joinPieces(parts)
		}
		if len(a.GetValue()) < shareAbove || !onlyFields(a, fieldAnyTypeURL, fieldAnyValue) {
			if p.buf, err = appendMessage(p.buf, fieldSotwResources, a); err != nil {
				return nil, err
			}
			continue
		}
		p.buf = protowire.AppendTag(p.buf, fieldSotwResources, protowire.BytesType)
		p.buf = protowire.AppendVarint(p.buf, uint64(anyHeaderSize(a, len(a.Value))+len(a.Value)))
		p.buf = appendAnyHeader(p.buf, a, len(a.Value))
		p.share(mem.SliceBuffer(a.Value))
	}
	return p.done(), nil
}

// appendMessage writes m as one length-delimited record of field num.
func appendMessage(b []byte, num protowire.Number, m proto.Message) ([]byte, error) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(proto.Size(m)))
	return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, m)
}

// onlyFields reports whether m sets no field but those numbered, and holds
// no unknown fields: the hand-written records above cover exactly those.
func onlyFields(m proto.Message, nums ...protowire.Number) bool {
	r := m.ProtoReflect()
	if len(r.GetUnknown()) > 0 {
		return false
	}
	ok := true
	r.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		for _, n := range nums {
			if fd.Number() == n {
				return true
			}
		}
		ok = false
		return false
	})
	return ok
}
