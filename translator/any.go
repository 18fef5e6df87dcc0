package translator

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// mustAny packs m into an Any with deterministic bytes, so that equal
// configs marshal to equal bytes (go-control-plane hashes resources for
// delta xDS and Envoy compares them to skip no-op updates). Packing a
// generated message only fails for a programmer error, hence the panic.
func mustAny(m proto.Message) *anypb.Any {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		panic(fmt.Sprintf("translator: pack %T: %v", m, err))
	}
	return a
}
