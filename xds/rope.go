package xds

import (
	"bytes"
	"cmp"
	"slices"
	"unsafe"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/grpc/mem"
)

// A rope holds an ordered list of protos (the virtual hosts of a route
// configuration, or the routes of one large virtual host) as their wire
// records (tag, length, message), packed into leaves of a few KiB. The
// translator keeps an unchanged proto (pointer included) and builds a new
// one for any change, so a new list is matched against the old leaves by
// pointer: whole leaves whose protos are the same are reused as they are,
// and only the leaves around a change are packed again. A change then
// copies O(leaf) bytes instead of the whole configuration (13 MB at
// 50,000 routes), and the leaves are handed to the cache and the gRPC
// transport as they are, never flattened (adscache Resource.Pieces).
//
// Leaves are immutable once built: the cache and streams in flight read
// them while the next change builds new ones.
type rope[K ropeKey] struct {
	leaves []*ropeLeaf[K]
	at     map[K]ropeLoc[K] // where each item of the leaves is
	gen    uint64           // commits; a leaf's gen is the last that kept it
	built  int              // bytes the last build packed (tests)
}

// Leaf sizes: a leaf is sealed once it reaches leafTarget; at a boundary
// of the old leaves a partial leaf of leafMin or more is sealed too, so
// that the old leaves after a change can be reused whole. A smaller one
// takes in the next old leaf, whole if that stays within leafMax, else
// split evenly: a greedy cut would leave a small remainder again at every
// following boundary, and re-pack every leaf after the change.
const (
	leafTarget = 32 << 10
	leafMin    = 8 << 10
	leafMax    = leafTarget + leafMin
)

// ropeLeaf is a run of records, or one composite item (big: a virtual host
// whose routes are a rope of their own).
type ropeLeaf[K ropeKey] struct {
	keys []K
	ends []int    // end of each key's record in buf
	sums []uint64 // each key's part hash
	buf  []byte
	wire mem.Buffer // buf, boxed once when sealed
	sum  polySum    // of sums, in order
	big  *bigItem
	ord  int    // position in the rope's leaves, set by commit
	gen  uint64 // 0 until committed
}

// bigItem is a composite item's wire form: its pieces in order.
type bigItem struct {
	pieces []mem.Buffer
	size   int
	state  *bigVhost // the rope its routes came from (routebytes.go)
}

type ropeLoc[K ropeKey] struct {
	l *ropeLeaf[K]
	i int
}

// freshItem marshals an item the rope does not hold: a record and its
// part hash, or a composite leaf.
type freshItem[K ropeKey] func(k K) (rec []byte, sum uint64, big *ropeLeaf[K], err error)

// build lays keys out in leaves, reusing the rope's where it can, and
// calling fresh for the keys it does not hold. The rope is unchanged until
// commit, so a failed build (an invalid proto) leaves it as it was.
//
// The walk compares pointers along the old leaves (O(items) compares, no
// map access) and looks a key up only where the lists differ. A key found
// further on means the items between were removed; one found behind (a
// reordering) is copied from where it is. Correctness needs neither: a
// key's record is its proto's, wherever it sits.
func (r *rope[K]) build(keys []K, fresh freshItem[K]) ([]*ropeLeaf[K], error) {
	var b ropeBuilder[K]
	li, ii := 0, 0
	next := func() {
		ii++
		if ii == len(r.leaves[li].keys) {
			li, ii = li+1, 0
		}
	}
	b.out = make([]*ropeLeaf[K], 0, len(r.leaves)+4)
	for j := 0; j < len(keys); {
		if ii == 0 && li < len(r.leaves) && b.cur != nil {
			if p := len(b.cur.buf); p >= leafMin {
				b.seal()
			} else if n := p + len(r.leaves[li].buf); n > leafMax {
				b.limit = n / 2
			} else {
				b.limit = leafMax
			}
		}
		if ii == 0 && li < len(r.leaves) {
			if l := r.leaves[li]; (b.cur == nil || l.big == nil && b.limit == leafMax) && j+len(l.keys) <= len(keys) && samePointers(keys[j:j+len(l.keys)], l.keys) {
				if b.cur == nil {
					b.out = append(b.out, l)
				} else {
					b.absorb(l) // the short partial and this leaf fit in one
				}
				li, j = li+1, j+len(l.keys)
				continue
			}
		}
		k := keys[j]
		j++
		if li < len(r.leaves) && r.leaves[li].keys[ii] == k {
			b.take(r.leaves[li], ii)
			next()
			continue
		}
		if at, ok := r.at[k]; ok {
			b.take(at.l, at.i)
			if li < len(r.leaves) && (at.l.ord > li || at.l.ord == li && at.i > ii) {
				li, ii = at.l.ord, at.i
				next()
			}
			continue
		}
		rec, sum, big, err := fresh(k)
		if err != nil {
			return nil, err
		}
		if big != nil {
			b.leaf(big)
			continue
		}
		b.add(k, rec, sum)
	}
	b.finish()
	r.built = b.built
	return b.out, nil
}

// commit makes leaves (from build) the rope's: the index learns the new
// leaves' keys and forgets the dropped leaves'. O(leaves + new items).
func (r *rope[K]) commit(leaves []*ropeLeaf[K]) {
	if r.at == nil {
		r.at = map[K]ropeLoc[K]{}
	}
	r.gen++
	for i, l := range leaves {
		if l.gen == 0 {
			for j, k := range l.keys {
				r.at[k] = ropeLoc[K]{l, j}
			}
		}
		l.ord, l.gen = i, r.gen
	}
	for _, l := range r.leaves {
		if l.gen == r.gen {
			continue
		}
		for _, k := range l.keys {
			if at, ok := r.at[k]; ok && at.l == l {
				delete(r.at, k)
			}
		}
	}
	r.leaves = leaves
}

// ropeWire sums up leaves: their pieces appended to dst, their total size
// and hash.
func ropeWire[K ropeKey](leaves []*ropeLeaf[K], dst []mem.Buffer) ([]mem.Buffer, int, polySum) {
	size, sum := 0, polyEmpty
	for _, l := range leaves {
		if l.big != nil {
			dst = append(dst, l.big.pieces...)
			size += l.big.size
		} else {
			dst = append(dst, l.wire)
			size += len(l.buf)
		}
		sum = sum.then(l.sum)
	}
	return dst, size, sum
}

// ropeBuilder packs records into new leaves.
type ropeBuilder[K ropeKey] struct {
	out   []*ropeLeaf[K]
	cur   *ropeLeaf[K]
	limit int // the size at which cur is sealed; leafTarget when 0
	built int // bytes packed into new leaves (tests)
}

func (b *ropeBuilder[K]) add(k K, rec []byte, sum uint64) {
	if b.cur == nil {
		b.cur = &ropeLeaf[K]{sum: polyEmpty, buf: make([]byte, 0, leafMax+2<<10)}
	}
	c := b.cur
	c.keys = append(c.keys, k)
	c.buf = append(c.buf, rec...)
	c.ends = append(c.ends, len(c.buf))
	c.sums = append(c.sums, sum)
	c.sum = c.sum.then(polyOf(sum))
	b.built += len(rec)
	if limit := cmp.Or(b.limit, leafTarget); len(c.buf) >= limit {
		b.seal()
	}
}

// take copies item i of an old leaf (a composite one is reused whole).
func (b *ropeBuilder[K]) take(l *ropeLeaf[K], i int) {
	if l.big != nil {
		b.leaf(l)
		return
	}
	start := 0
	if i > 0 {
		start = l.ends[i-1]
	}
	b.add(l.keys[i], l.buf[start:l.ends[i]], l.sums[i])
}

// finish seals the last leaf. A short one (items appended after the last
// old leaf, the usual new route) is packed with the leaf before it, as at a
// boundary: else every append would leave a leaf of one item.
func (b *ropeBuilder[K]) finish() {
	n := len(b.out)
	if b.cur == nil || len(b.cur.buf) >= leafMin || n == 0 || b.out[n-1].big != nil {
		b.seal()
		return
	}
	partial, last := b.cur, b.out[n-1]
	b.cur, b.out = nil, b.out[:n-1]
	total := len(last.buf) + len(partial.buf)
	if total <= leafMax {
		b.absorb(last)
		b.absorb(partial)
		b.seal()
		return
	}
	b.limit = total / 2
	for i := range last.keys {
		b.take(last, i)
	}
	for i := range partial.keys {
		b.take(partial, i)
	}
	b.seal()
}

// absorb appends a whole flat leaf's items to cur in bulk (its hash
// combined once), without sealing: the caller checked the size.
func (b *ropeBuilder[K]) absorb(l *ropeLeaf[K]) {
	if b.cur == nil {
		b.cur = &ropeLeaf[K]{sum: polyEmpty, buf: make([]byte, 0, leafMax+2<<10)}
	}
	c := b.cur
	base := len(c.buf)
	c.keys = append(c.keys, l.keys...)
	c.buf = append(c.buf, l.buf...)
	for _, e := range l.ends {
		c.ends = append(c.ends, base+e)
	}
	c.sums = append(c.sums, l.sums...)
	c.sum = c.sum.then(l.sum)
	b.built += len(l.buf)
}

func (b *ropeBuilder[K]) leaf(l *ropeLeaf[K]) {
	b.seal()
	b.out = append(b.out, l)
}

func (b *ropeBuilder[K]) seal() {
	b.limit = 0
	if b.cur != nil {
		if len(b.cur.buf) < cap(b.cur.buf)/2 {
			// A short leaf (at a change, or the last) is kept a
			// while: not with its unused capacity.
			b.cur.buf = slices.Clone(b.cur.buf)
		}
		b.cur.wire = mem.SliceBuffer(b.cur.buf)
		b.out = append(b.out, b.cur)
		b.cur = nil
	}
}

// ropeKey is what a rope holds: protos, by pointer.
type ropeKey interface {
	*routev3.VirtualHost | *routev3.Route
}

// samePointers is slices.Equal for lists of pointers, compared as memory:
// the vectorised compare walks the 50,000 virtual hosts of a change about
// twice as fast as an element loop (BenchmarkRouteChangeShapes/hosts-50k).
func samePointers[K ropeKey](a, b []K) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	var k K
	n := len(a) * int(unsafe.Sizeof(k))
	return bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), n), unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), n))
}
