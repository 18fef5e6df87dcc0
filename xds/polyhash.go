package xds

import "math/bits"

// polySum is a polynomial hash of a sequence of part hashes, modulo the
// Mersenne prime 2^61-1: h = Σ x_i·B^(n-1-i). It is associative
// (a.then(b) is the sum of a's parts followed by b's), so a route
// configuration held as leaves of parts gets the same version however the
// leaves happen to be cut, on every node, and a change re-combines only the
// leaves it touched. Order matters: Envoy matches routes in order.
type polySum struct {
	h   uint64 // the hash
	pow uint64 // polyBase^n, n the number of parts
}

const (
	polyMod  = 1<<61 - 1
	polyBase = 0x1d3b_67a9_c41f_e2d5 % polyMod
)

// polyEmpty is the sum of no parts.
var polyEmpty = polySum{h: 0, pow: 1}

// polyOf is the sum of one part of hash x.
func polyOf(x uint64) polySum { return polySum{h: x % polyMod, pow: polyBase} }

// then is a's parts followed by b's.
func (a polySum) then(b polySum) polySum {
	return polySum{h: addMod(mulMod(a.h, b.pow), b.h), pow: mulMod(a.pow, b.pow)}
}

func mulMod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	// a·b = q·2^61 + r ≡ q + r (mod 2^61-1); both are below 2^61.
	return addMod(lo&polyMod, hi<<3|lo>>61)
}

func addMod(a, b uint64) uint64 {
	s := a + b
	for s >= polyMod {
		s -= polyMod
	}
	return s
}
