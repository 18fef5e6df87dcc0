package xds

import (
	"bytes"
	"strings"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The codec's output must parse to exactly the response it was given, and
// pass a large resource's bytes by reference.
func TestSharedBytesCodec_EqualsProto(t *testing.T) {
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
	c := newSharedBytesCodec()
	for _, in := range []proto.Message{delta, sotw} {
		data, err := c.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		shared := false
		for _, b := range data {
			if d := b.ReadOnlyData(); len(d) == len(big) && &d[0] == &big[0] {
				shared = true
			}
		}
		if !shared {
			t.Errorf("%T: the large resource was copied", in)
		}
		out := in.ProtoReflect().New().Interface()
		if err := c.Unmarshal(data, out); err != nil {
			t.Fatalf("%T: %v", in, err)
		}
		if !proto.Equal(in, out) {
			t.Fatalf("%T: decoded differs:\n%v\nwant\n%v", in, out, in)
		}
		data.Free()
	}
	// The hand-written field numbers are the descriptors'.
	for _, f := range []struct {
		m    proto.Message
		name string
		num  int
	}{
		{delta, "resources", int(fieldDeltaResources)}, {sotw, "resources", int(fieldSotwResources)},
		{&discoveryv3.Resource{}, "version", int(fieldResVersion)}, {&discoveryv3.Resource{}, "resource", int(fieldResAny)},
		{&discoveryv3.Resource{}, "name", int(fieldResName)},
		{&anypb.Any{}, "type_url", int(fieldAnyTypeURL)}, {&anypb.Any{}, "value", int(fieldAnyValue)},
	} {
		fd := f.m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(f.name))
		if fd == nil || int(fd.Number()) != f.num {
			t.Errorf("%s.%s: field number %v, the codec writes %d", f.m.ProtoReflect().Descriptor().Name(), f.name, fd, f.num)
		}
	}
	// Anything else goes through gRPC's codec.
	req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{strings.Repeat("n", 10)}}
	data, err := c.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := proto.Marshal(req); !bytes.Equal(data.Materialize(), want) {
		t.Fatal("a request is not marshalled as proto.Marshal does")
	}
}
