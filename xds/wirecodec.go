package xds

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

// sharedBytesCodec is gRPC's proto codec, except for the xDS responses it
// sends: their resources' bytes (held once by the cache for every stream)
// are passed to the transport as they are instead of being copied into one
// buffer per stream. A route configuration is megabytes at scale, and a
// connect storm of 100 Envoys copied it 100 times at once: hundreds of MiB
// of transient heap, the control plane's RSS peak. The transport streams
// the pieces out with flow control and never writes into them. Requests
// and every other message use gRPC's own codec.
type sharedBytesCodec struct{ base encoding.CodecV2 }

func newSharedBytesCodec() sharedBytesCodec {
	return sharedBytesCodec{base: encoding.GetCodecV2(grpcproto.Name)}
}

// Name is the proto codec's: Envoy sends application/grpc (+proto).
func (c sharedBytesCodec) Name() string { return grpcproto.Name }

func (c sharedBytesCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return c.base.Unmarshal(data, v)
}

func (c sharedBytesCodec) Marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case *discoveryv3.DeltaDiscoveryResponse:
		return marshalDeltaResponse(m)
	case *discoveryv3.DiscoveryResponse:
		return marshalSotwResponse(m)
	}
	return c.base.Marshal(v)
}

// shareAbove is the size from which a resource's bytes are passed by
// reference; smaller ones are copied, which costs less than a buffer each.
const shareAbove = 32 << 10

// Field numbers written by hand (checked against the descriptors by
// TestSharedBytesCodec_EqualsProto).
const (
	fieldDeltaResources protowire.Number = 2 // DeltaDiscoveryResponse.resources
	fieldSotwResources  protowire.Number = 2 // DiscoveryResponse.resources
	fieldResVersion     protowire.Number = 1 // Resource.version
	fieldResAny         protowire.Number = 2 // Resource.resource
	fieldResName        protowire.Number = 3 // Resource.name
	fieldAnyTypeURL     protowire.Number = 1 // Any.type_url
	fieldAnyValue       protowire.Number = 2 // Any.value
)

// pieces builds a BufferSlice from copied bytes and shared ones.
type pieces struct {
	out mem.BufferSlice
	buf []byte
}

func (p *pieces) share(b []byte) {
	if len(p.buf) > 0 {
		p.out = append(p.out, mem.SliceBuffer(p.buf))
		p.buf = nil
	}
	p.out = append(p.out, mem.SliceBuffer(b))
}

func (p *pieces) done() mem.BufferSlice {
	if len(p.buf) > 0 {
		p.out = append(p.out, mem.SliceBuffer(p.buf))
	}
	return p.out
}

// marshalDeltaResponse writes the response's own fields, then each resource
// as a record of field 2 (protobuf allows any field order). The response is
// the stream's own (the server set its nonce); its resources are shared
// and only read.
func marshalDeltaResponse(m *discoveryv3.DeltaDiscoveryResponse) (mem.BufferSlice, error) {
	res := m.Resources
	m.Resources = nil
	head, err := proto.Marshal(m)
	m.Resources = res
	if err != nil {
		return nil, err
	}
	p := pieces{buf: head}
	for _, r := range res {
		a := r.GetResource()
		if len(a.GetValue()) < shareAbove || !onlyFields(r, fieldResVersion, fieldResAny, fieldResName) || !onlyFields(a, fieldAnyTypeURL, fieldAnyValue) {
			if p.buf, err = appendMessage(p.buf, fieldDeltaResources, r); err != nil {
				return nil, err
			}
			continue
		}
		anyLen := anyHeaderSize(a) + len(a.Value)
		body := protowire.SizeTag(fieldResVersion) + protowire.SizeBytes(len(r.Version)) +
			protowire.SizeTag(fieldResName) + protowire.SizeBytes(len(r.Name)) +
			protowire.SizeTag(fieldResAny) + protowire.SizeBytes(anyLen)
		p.buf = protowire.AppendTag(p.buf, fieldDeltaResources, protowire.BytesType)
		p.buf = protowire.AppendVarint(p.buf, uint64(body))
		p.buf = protowire.AppendTag(p.buf, fieldResVersion, protowire.BytesType)
		p.buf = protowire.AppendString(p.buf, r.Version)
		p.buf = protowire.AppendTag(p.buf, fieldResName, protowire.BytesType)
		p.buf = protowire.AppendString(p.buf, r.Name)
		p.buf = protowire.AppendTag(p.buf, fieldResAny, protowire.BytesType)
		p.buf = protowire.AppendVarint(p.buf, uint64(anyLen))
		p.buf = appendAnyHeader(p.buf, a)
		p.share(a.Value)
	}
	return p.done(), nil
}

// marshalSotwResponse is the same for a state-of-the-world response, whose
// resources are Any messages.
func marshalSotwResponse(m *discoveryv3.DiscoveryResponse) (mem.BufferSlice, error) {
	res := m.Resources
	m.Resources = nil
	head, err := proto.Marshal(m)
	m.Resources = res
	if err != nil {
		return nil, err
	}
	p := pieces{buf: head}
	for _, a := range res {
		if len(a.GetValue()) < shareAbove || !onlyFields(a, fieldAnyTypeURL, fieldAnyValue) {
			if p.buf, err = appendMessage(p.buf, fieldSotwResources, a); err != nil {
				return nil, err
			}
			continue
		}
		p.buf = protowire.AppendTag(p.buf, fieldSotwResources, protowire.BytesType)
		p.buf = protowire.AppendVarint(p.buf, uint64(anyHeaderSize(a)+len(a.Value)))
		p.buf = appendAnyHeader(p.buf, a)
		p.share(a.Value)
	}
	return p.done(), nil
}

// anyHeaderSize is an Any's wire size without its value's bytes.
func anyHeaderSize(a *anypb.Any) int {
	return protowire.SizeTag(fieldAnyTypeURL) + protowire.SizeBytes(len(a.TypeUrl)) +
		protowire.SizeTag(fieldAnyValue) + protowire.SizeVarint(uint64(len(a.Value)))
}

// appendAnyHeader writes an Any's type_url and its value's tag and length.
func appendAnyHeader(b []byte, a *anypb.Any) []byte {
	b = protowire.AppendTag(b, fieldAnyTypeURL, protowire.BytesType)
	b = protowire.AppendString(b, a.TypeUrl)
	b = protowire.AppendTag(b, fieldAnyValue, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(len(a.Value)))
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
