package adscache

import (
	"bytes"
	"strings"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// encodeDecode marshals in with c's codec and decodes the bytes again.
func encodeDecode(t *testing.T, c *Cache, in proto.Message) (mem.BufferSlice, proto.Message) {
	t.Helper()
	k := c.Codec()
	data, err := k.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := in.ProtoReflect().New().Interface()
	if err := k.Unmarshal(data, out); err != nil {
		t.Fatalf("%T: %v", in, err)
	}
	return data, out
}

// roundTrip marshals in with the codec, checks that it decodes to exactly
// in, and returns the pieces.
func roundTrip(t *testing.T, c *Cache, in proto.Message) mem.BufferSlice {
	t.Helper()
	data, out := encodeDecode(t, c, in)
	if !proto.Equal(in, out) {
		t.Fatalf("%T: decoded differs:\n%v\nwant\n%v", in, out, in)
	}
	return data
}

// holds reports whether one of data's pieces is b itself (not a copy).
func holds(data mem.BufferSlice, b []byte) bool {
	for _, p := range data {
		if d := p.ReadOnlyData(); len(d) == len(b) && len(b) > 0 && &d[0] == &b[0] {
			return true
		}
	}
	return false
}

// The cache's own responses, delta and SotW, pass every resource's bytes
// by reference, however small, and parse to exactly the response.
func TestCodec_CacheResponsesShareEveryResource(t *testing.T) {
	c := New(cds)
	small, other := []byte{0x0a, 0x01, 'y'}, []byte{0x0a, 0x02, 'z', 'z'}
	c.Update(cds, 1, []Resource{{Name: "a", Bytes: small}, {Name: "b", Bytes: other}}, nil, nil)
	s := newDeltaStream(t, c, cds)
	s.request(nil, nil)
	_, _, resp := s.recv()
	if len(resp.GetResources()) != 2 {
		t.Fatalf("first response: %v", resp)
	}
	resp.Nonce = "1"
	data := roundTrip(t, c, resp)
	if !holds(data, small) || !holds(data, other) {
		t.Error("delta: a resource's bytes were copied")
	}
	// Pieces per response: the response's own fields, then two per
	// resource (its shared head and its bytes).
	if len(data) != 1+2*2 {
		t.Errorf("delta: %d pieces, want 5", len(data))
	}

	sotwCh := make(chan cachev3.Response, 1)
	if _, err := c.CreateWatch(&cachev3.Request{TypeUrl: cds}, stream.NewSotwSubscription(nil, true), sotwCh); err != nil {
		t.Fatal(err)
	}
	r := <-sotwCh
	sresp, _ := r.GetDiscoveryResponse()
	sresp.Nonce = "2"
	data = roundTrip(t, c, sresp)
	if !holds(data, small) || !holds(data, other) {
		t.Error("sotw: a resource's bytes were copied")
	}

	// A resource replaced after its response was built is encoded afresh,
	// and a field set on the shared Resource is not lost.
	c.Update(cds, 2, []Resource{{Name: "a", Bytes: []byte{0x0a, 0x01, 'w'}}}, nil, nil)
	roundTrip(t, c, resp)
	resp.Resources[1].Ttl = durationpb.New(5)
	roundTrip(t, c, resp)
}

// Responses the cache did not build go out as gRPC's codec would write
// them, a large resource's bytes by reference.
func TestCodec_OtherResponses(t *testing.T) {
	big := bytes.Repeat([]byte{0x0a, 0x01, 'x'}, shareAbove) // a valid message, repeated field 1
	small := []byte{0x0a, 0x01, 'y'}
	typ := "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	delta := &discoveryv3.DeltaDiscoveryResponse{
		SystemVersionInfo: "v1", TypeUrl: typ, Nonce: "7", RemovedResources: []string{"gone"},
		Resources: []*discoveryv3.Resource{
			{Name: "big", Version: "a1", Resource: &anypb.Any{TypeUrl: typ, Value: big}},
			{Name: "small", Version: "b2", Resource: &anypb.Any{TypeUrl: typ, Value: small}},
			{Name: "big-ttl", Version: "c3", Resource: &anypb.Any{TypeUrl: typ, Value: big}, Ttl: durationpb.New(5)},
			{Name: "big-noversion", Resource: &anypb.Any{TypeUrl: typ, Value: big}},
		},
	}
	sotw := &discoveryv3.DiscoveryResponse{
		VersionInfo: "v1", TypeUrl: typ, Nonce: "8",
		Resources: []*anypb.Any{{TypeUrl: typ, Value: big}, {TypeUrl: typ, Value: small}},
	}
	c := New()
	for _, in := range []proto.Message{delta, sotw} {
		if data := roundTrip(t, c, in); !holds(data, big) {
			t.Errorf("%T: the large resource was copied", in)
		}
	}
	// Anything else goes through gRPC's codec.
	req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{strings.Repeat("n", 10)}}
	data, err := c.Codec().Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := proto.Marshal(req); !bytes.Equal(data.Materialize(), want) {
		t.Fatal("a request is not marshalled as proto.Marshal does")
	}
}

// The hand-written field numbers are the descriptors'; the SotW record is
// a tail of the delta one because both resources fields are number 2.
func TestCodec_FieldNumbers(t *testing.T) {
	for _, f := range []struct {
		m    proto.Message
		name string
		num  int
	}{
		{&discoveryv3.DeltaDiscoveryResponse{}, "resources", int(fieldDeltaResources)},
		{&discoveryv3.DiscoveryResponse{}, "resources", int(fieldSotwResources)},
		{&discoveryv3.Resource{}, "version", int(fieldResVersion)}, {&discoveryv3.Resource{}, "resource", int(fieldResAny)},
		{&discoveryv3.Resource{}, "name", int(fieldResName)},
		{&anypb.Any{}, "type_url", int(fieldAnyTypeURL)}, {&anypb.Any{}, "value", int(fieldAnyValue)},
	} {
		fd := f.m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(f.name))
		if fd == nil || int(fd.Number()) != f.num {
			t.Errorf("%s.%s: field number %v, the codec writes %d", f.m.ProtoReflect().Descriptor().Name(), f.name, fd, f.num)
		}
	}
	if fieldSotwResources != fieldResAny {
		t.Error("DiscoveryResponse.resources and Resource.resource differ: anyHead is not a tail of head")
	}
}

// A resource given as pieces (a route configuration's rope) goes out as its
// bytes in order, every piece by reference, over SotW and delta: while the
// cache holds it, after it was replaced (the response was built before),
// and with a field the shared records do not cover.
func TestCodec_Pieces(t *testing.T) {
	typ := "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	big := bytes.Repeat([]byte{0x0a, 0x01, 'x'}, 1000)
	raw := [][]byte{{0x0a, 0x01, 'a'}, big, {0x0a, 0x01, 'b'}, big}
	var parts []mem.Buffer
	for _, b := range raw {
		parts = append(parts, mem.SliceBuffer(b))
	}
	flat := bytes.Join(raw, nil)
	c := New()
	c.Update(typ, 1, []Resource{{Name: "kong", Pieces: parts, Version: "v1"}}, nil, nil)
	if b, _, _ := c.Get(typ, "kong"); !bytes.Equal(b, flat) {
		t.Fatal("Get does not return the pieces' bytes")
	}
	check := func(step string, in proto.Message, value func(proto.Message) []byte) {
		t.Helper()
		data, out := encodeDecode(t, c, in)
		if got := value(out); !bytes.Equal(got, flat) {
			t.Fatalf("%s: value of %d bytes, want %d", step, len(got), len(flat))
		}
		if !holds(data, big) {
			t.Errorf("%s: a piece was copied", step)
		}
	}
	sotwCh := make(chan cachev3.Response, 1)
	if _, err := c.CreateWatch(&cachev3.Request{TypeUrl: typ, ResourceNames: []string{"kong"}}, stream.NewSotwSubscription([]string{"kong"}, true), sotwCh); err != nil {
		t.Fatal(err)
	}
	sresp, _ := (<-sotwCh).GetDiscoveryResponse()
	sotwValue := func(m proto.Message) []byte { return m.(*discoveryv3.DiscoveryResponse).GetResources()[0].GetValue() }
	s := newDeltaStream(t, c, typ)
	s.request([]string{"kong"}, nil)
	_, _, dresp := s.recv()
	deltaValue := func(m proto.Message) []byte {
		return m.(*discoveryv3.DeltaDiscoveryResponse).GetResources()[0].GetResource().GetValue()
	}
	for _, step := range []string{"held", "replaced"} {
		check(step+" sotw", sresp, sotwValue)
		check(step+" delta", dresp, deltaValue)
		c.Update(typ, 2, nil, nil, []string{"kong"}) // touched: a new entry
	}
	dresp.Resources[0].Ttl = durationpb.New(5)
	k := c.Codec()
	data, err := k.Marshal(dresp)
	if err != nil {
		t.Fatal(err)
	}
	out := &discoveryv3.DeltaDiscoveryResponse{}
	if err := k.Unmarshal(data, out); err != nil || !bytes.Equal(deltaValue(out), flat) || out.Resources[0].GetTtl() == nil {
		t.Fatalf("with a ttl: %v, %v", err, out.GetResources())
	}
}
