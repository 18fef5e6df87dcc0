package adscache

import (
	"runtime"
	"sync"
	"weak"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/types/known/anypb"
)

// The pieces of the resources given as Resource.Pieces, by the Any every
// stream's responses carry (its Value is empty). wires forgets a replaced
// entry, but a response built before may still carry its Any, and an empty
// value cannot be encoded afresh: so a weak key, which keeps the pieces
// findable while any response holds the Any, and goes when it is
// collected.
var shared struct {
	mu sync.Mutex
	m  map[weak.Pointer[anypb.Any]][]mem.Buffer
}

func sharePieces(a *anypb.Any, pieces []mem.Buffer) {
	k := weak.Make(a)
	shared.mu.Lock()
	if shared.m == nil {
		shared.m = map[weak.Pointer[anypb.Any]][]mem.Buffer{}
	}
	shared.m[k] = pieces
	shared.mu.Unlock()
	runtime.AddCleanup(a, func(k weak.Pointer[anypb.Any]) {
		shared.mu.Lock()
		delete(shared.m, k)
		shared.mu.Unlock()
	}, k)
}

// PiecesOf returns the bytes, in order, of an Any this cache holds as
// pieces (its Value is empty): the response codec writes them out as they
// are.
func PiecesOf(a *anypb.Any) ([]mem.Buffer, bool) {
	if a == nil || len(a.Value) > 0 {
		return nil, false
	}
	k := weak.Make(a)
	shared.mu.Lock()
	p, ok := shared.m[k]
	shared.mu.Unlock()
	return p, ok
}

func joinPieces(pieces []mem.Buffer) []byte {
	out := make([]byte, 0, piecesLen(pieces))
	for _, p := range pieces {
		out = append(out, p.ReadOnlyData()...)
	}
	return out
}
