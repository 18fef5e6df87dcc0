package adscache

import (
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"
)

// Field numbers written by hand (checked against the descriptors by
// TestCodec_FieldNumbers).
const (
	fieldDeltaResources protowire.Number = 2 // DeltaDiscoveryResponse.resources
	fieldSotwResources  protowire.Number = 2 // DiscoveryResponse.resources
	fieldResVersion     protowire.Number = 1 // Resource.version
	fieldResAny         protowire.Number = 2 // Resource.resource
	fieldResName        protowire.Number = 3 // Resource.name
	fieldAnyTypeURL     protowire.Number = 1 // Any.type_url
	fieldAnyValue       protowire.Number = 2 // Any.value
)

// wireForm is one entry as it goes on the wire, encoded once when the entry
// is created and shared by every response that carries it (Codec). A
// response is then one piece per resource and stream, instead of a copy of
// every resource's bytes per stream: in a connect storm of 100 clients the
// copies of 1,000 clusters and 1,000 endpoint sets were the control plane's
// RSS peak.
//
// head is the record of DeltaDiscoveryResponse.resources up to the Any's
// value bytes: version, name, then the Any (type_url, then the value's tag
// and length). The Any comes last, so the SotW record
// (DiscoveryResponse.resources, also field 2, whose body is the Any) is a
// tail of head, anyHead. value is the resource's bytes as the publisher
// gave them: one buffer, or its Resource.Pieces. The mem.Buffer values are
// boxed here once, so that adding them to a response allocates nothing.
type wireForm struct {
	delta   *discoveryv3.Resource
	head    mem.Buffer
	anyHead mem.Buffer
	value   []mem.Buffer
}

// newWireForm encodes r, whose Any's value is pieces when they are set.
func newWireForm(r *discoveryv3.Resource, pieces []mem.Buffer) *wireForm {
	a := r.Resource
	value, n := pieces, piecesLen(pieces)
	if pieces == nil {
		value, n = []mem.Buffer{mem.SliceBuffer(a.Value)}, len(a.Value)
	}
	anyLen := anyHeaderSize(a, n) + n
	body := protowire.SizeTag(fieldResVersion) + protowire.SizeBytes(len(r.Version)) +
		protowire.SizeTag(fieldResName) + protowire.SizeBytes(len(r.Name)) +
		protowire.SizeTag(fieldResAny) + protowire.SizeBytes(anyLen)
	size := protowire.SizeTag(fieldDeltaResources) + protowire.SizeVarint(uint64(body)) + body - n
	b := make([]byte, 0, size)
	b = protowire.AppendTag(b, fieldDeltaResources, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(body))
	b = protowire.AppendTag(b, fieldResVersion, protowire.BytesType)
	b = protowire.AppendString(b, r.Version)
	b = protowire.AppendTag(b, fieldResName, protowire.BytesType)
	b = protowire.AppendString(b, r.Name)
	anyAt := len(b)
	b = protowire.AppendTag(b, fieldResAny, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(anyLen))
	b = appendAnyHeader(b, a, n)
	return &wireForm{delta: r, head: mem.SliceBuffer(b), anyHead: mem.SliceBuffer(b[anyAt:]), value: value}
}

// plain reports whether r is still exactly what w encodes: the cache's own
// Resource, with no field set since (nothing in the server sets one; a
// caller that did would get the generic encoding, not a stale one).
func (w *wireForm) plain(r *discoveryv3.Resource) bool {
	return w.delta == r && r.Ttl == nil && len(r.Aliases) == 0 && r.CacheControl == nil && r.Metadata == nil &&
		len(r.ProtoReflect().GetUnknown()) == 0 && len(r.Resource.ProtoReflect().GetUnknown()) == 0
}

// anyHeaderSize is an Any's wire size without its value's n bytes.
func anyHeaderSize(a *anypb.Any, n int) int {
	return protowire.SizeTag(fieldAnyTypeURL) + protowire.SizeBytes(len(a.TypeUrl)) +
		protowire.SizeTag(fieldAnyValue) + protowire.SizeVarint(uint64(n))
}

// appendAnyHeader writes an Any's type_url and its value's tag and length n.
func appendAnyHeader(b []byte, a *anypb.Any, n int) []byte {
	b = protowire.AppendTag(b, fieldAnyTypeURL, protowire.BytesType)
	b = protowire.AppendString(b, a.TypeUrl)
	b = protowire.AppendTag(b, fieldAnyValue, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(n))
}

func piecesLen(pieces []mem.Buffer) int {
	n := 0
	for _, p := range pieces {
		n += p.Len()
	}
	return n
}
