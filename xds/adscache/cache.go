// Package adscache is the xDS cache behind go-control-plane's server: it
// keeps one marshalled copy of every resource for all streams, an index from
// resource name to the delta watches subscribed to it, and delta watches
// that survive the ACK that re-creates them.
//
// Why not go-control-plane's caches: its snapshot cache marshals a
// response per stream (a multi-megabyte RouteConfiguration once per Envoy),
// and its LinearCache walks every watch's whole subscription under one
// mutex on every change and again on every ACK (O(clients × subscribed
// names) per change). Here a change costs O(watchers of that name), an ACK
// O(names it subscribes or unsubscribes), and bytes are marshalled once, by
// the publisher, when a resource changes.
//
// Protocol handling (nonces, ACK/NACK, ordering on the ADS stream) stays in
// go-control-plane's server; this package implements its cache.Cache, and
// the gRPC codec (Codec) that sends every stream those same bytes by
// reference rather than copying them into each response.
//
// Versions. A resource's version is a hash of its bytes, computed only when
// they change; a type's version (SotW version_info, delta
// system_version_info) is the XOR of one hash per (name, version), updated
// in O(change). Equal content means equal versions on every control-plane
// node and across restarts, so an Envoy that reconnects elsewhere is sent
// nothing it holds. A touched resource (re-sent with unchanged bytes) gets
// a node-local suffix. RevisionOf maps a recent type version back to the
// store revision that produced it, for propagation metrics.
package adscache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/types/known/anypb"
)

// staleWatch is how long a cancelled delta watch is kept for the request
// that revives it. go-control-plane cancels a stream's watch right before it
// re-creates it for the next request, in the same goroutine; a watch still
// cancelled after this long belongs to a closed stream.
const staleWatch = 5 * time.Second

// EmptyVersion is the version of a type that holds no resource.
const EmptyVersion = "0"

// revisionHistory bounds how many type versions RevisionOf remembers.
const revisionHistory = 1024

// Resource is one resource in its deterministic wire form. Version, when
// set, is the caller's content version of Bytes (equal bytes, equal
// version, on every node): the cache then compares versions instead of
// bytes and hashes nothing, which matters for a route configuration of
// megabytes. Empty: the cache hashes the bytes.
type Resource struct {
	Name    string
	Bytes   []byte
	Version string
	// Pieces, when set, are the bytes in order instead of Bytes, and
	// Version must be set: a route configuration of megabytes that a
	// change patches is never flattened. Streams get them through
	// PiecesOf; the caller must not modify them.
	Pieces []mem.Buffer
}

// Cache implements go-control-plane's cache.Cache.
type Cache struct {
	full map[string]bool // SotW types whose responses carry every resource

	mu    sync.Mutex
	seq   uint64
	types map[string]*typeState
	delta map[deltaKey]*deltaWatch
	now   func() time.Time
	after func(time.Duration, func()) // time.AfterFunc (tests)

	// wires maps every entry's Any to its wireForm, for Codec, which runs
	// on the streams' goroutines without mu. Written under mu.
	wires sync.Map // *anypb.Any → *wireForm
}

var _ cachev3.Cache = (*Cache)(nil)

// New returns an empty cache. fullState lists the type URLs whose SotW
// responses must carry every resource (listeners and clusters); the others
// carry the requested resources that changed.
func New(fullState ...string) *Cache {
	c := &Cache{
		full:  map[string]bool{},
		types: map[string]*typeState{},
		delta: map[deltaKey]*deltaWatch{},
		now:   time.Now,
		after: func(d time.Duration, f func()) { time.AfterFunc(d, f) },
	}
	for _, t := range fullState {
		c.full[t] = true
	}
	return c
}

// entry is one resource as every stream receives it: the Any (SotW) and the
// delta Resource share the same bytes.
type entry struct {
	version string
	mix     uint64 // this entry's share of the type version
	any     *anypb.Any
	delta   *discoveryv3.Resource
	pieces  []mem.Buffer // Resource.Pieces; any's Value is then empty
}

// GetVersion is e's version ("" for nil).
func (e *entry) GetVersion() string {
	if e == nil {
		return ""
	}
	return e.version
}

// typeState is one type URL: its resources and its watches.
type typeState struct {
	url     string
	full    bool
	set     bool // Update was called at least once: the type exists
	entries map[string]*entry
	version string
	mix     uint64 // XOR of the entries' mix

	// revs maps recent type versions to the store revision that made
	// them; order is their insertion order (a ring).
	revs  map[string]uint64
	order []string
	next  int

	sotwAll []*anypb.Any // every resource sorted by name; nil when stale
	sotw    map[*sotwWatch]struct{}

	wildcard map[*deltaWatch]struct{}
	byName   map[string]map[*deltaWatch]struct{}
}

func (c *Cache) typeLocked(url string) *typeState {
	ts := c.types[url]
	if ts == nil {
		ts = &typeState{
			url: url, full: c.full[url],
			entries:  map[string]*entry{},
			sotw:     map[*sotwWatch]struct{}{},
			wildcard: map[*deltaWatch]struct{}{},
			byName:   map[string]map[*deltaWatch]struct{}{},
			revs:     map[string]uint64{},
		}
		c.types[url] = ts
	}
	return ts
}

// RevisionOf returns the store revision whose Update produced a recent
// version of a type.
func (c *Cache) RevisionOf(typeURL, version string) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.types[typeURL]
	if ts == nil {
		return 0, false
	}
	rev, ok := ts.revs[version]
	return rev, ok
}

func (ts *typeState) rememberLocked(version string, rev uint64) {
	if _, ok := ts.revs[version]; ok {
		return // a later revision with the same content: keep the first
	}
	if len(ts.order) < revisionHistory {
		ts.order = append(ts.order, version)
	} else {
		delete(ts.revs, ts.order[ts.next])
		ts.order[ts.next] = version
		ts.next = (ts.next + 1) % revisionHistory
	}
	ts.revs[version] = rev
}

func contentVersion(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func mixOf(name, version string) uint64 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(version))
	var sum [sha256.Size]byte
	return binary.LittleEndian.Uint64(h.Sum(sum[:0]))
}

// Update brings one type to a new state at store revision rev: upserts
// whose bytes differ from what the cache holds (or that are new) and every
// name in touch get a new version, deletes are removed; then every watch
// of a changed name is answered. It returns the names that changed
// (upserted with new bytes, touched, or deleted), sorted.
//
// The caller keeps Envoy's ordering: new clusters and endpoints before the
// routes that use them, removals after the routes that stop using them.
// The cache keeps the byte slices; the caller must not modify them.
func (c *Cache) Update(typeURL string, rev uint64, upserts []Resource, deletes, touch []string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.typeLocked(typeURL)
	var changed []string
	put := func(name string, b []byte, pieces []mem.Buffer, version string) {
		if old, ok := ts.entries[name]; ok {
			ts.mix ^= old.mix
			c.wires.Delete(old.any)
		}
		e := &entry{version: version, mix: mixOf(name, version), any: &anypb.Any{TypeUrl: typeURL, Value: b}, pieces: pieces}
		if pieces != nil {
			e.any.Value = nil
			sharePieces(e.any, pieces)
		}
		e.delta = &discoveryv3.Resource{Name: name, Version: version, Resource: e.any}
		c.wires.Store(e.any, newWireForm(e.delta, pieces))
		ts.entries[name] = e
		ts.mix ^= e.mix
		changed = append(changed, name)
	}
	for _, r := range upserts {
		old, ok := ts.entries[r.Name]
		if r.Version != "" {
			if base, _, _ := strings.Cut(old.GetVersion(), "."); ok && base == r.Version {
				continue
			}
			put(r.Name, r.Bytes, r.Pieces, r.Version)
			continue
		}
		if ok && bytes.Equal(old.any.GetValue(), r.Bytes) {
			continue
		}
		put(r.Name, r.Bytes, nil, contentVersion(r.Bytes))
	}
	for _, name := range touch {
		if old, ok := ts.entries[name]; ok && !slices.Contains(changed, name) {
			c.seq++
			base, _, _ := strings.Cut(old.version, ".")
			put(name, old.any.GetValue(), old.pieces, base+"."+strconv.FormatUint(c.seq, 10))
		}
	}
	for _, name := range deletes {
		if old, ok := ts.entries[name]; ok {
			ts.mix ^= old.mix
			c.wires.Delete(old.any)
			delete(ts.entries, name)
			changed = append(changed, name)
		}
	}
	if len(changed) == 0 && ts.set {
		return nil
	}
	ts.set = true
	ts.version = strconv.FormatUint(ts.mix, 16)
	ts.rememberLocked(ts.version, rev)
	ts.sotwAll = nil
	slices.Sort(changed)
	c.notifyLocked(ts, changed)
	return changed
}

// Names lists the names a type holds, sorted.
func (c *Cache) Names(typeURL string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.types[typeURL]
	if ts == nil {
		return nil
	}
	out := make([]string, 0, len(ts.entries))
	for n := range ts.entries {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Get returns the bytes and version of one resource.
func (c *Cache) Get(typeURL, name string) (b []byte, version string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.types[typeURL]
	if ts == nil {
		return nil, "", false
	}
	e, ok := ts.entries[name]
	if !ok {
		return nil, "", false
	}
	if e.pieces != nil {
		return joinPieces(e.pieces), e.version, true
	}
	return e.any.GetValue(), e.version, true
}

// Version is a type's current SotW version ("" before its first Update).
func (c *Cache) Version(typeURL string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts := c.types[typeURL]; ts != nil {
		return ts.version
	}
	return ""
}

// Watches counts the open watches (parked or awaiting the next request),
// SotW and delta, for tests and metrics.
func (c *Cache) Watches() (sotw, delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ts := range c.types {
		sotw += len(ts.sotw)
	}
	return sotw, len(c.delta)
}

// notifyLocked answers the watches of the changed names.
func (c *Cache) notifyLocked(ts *typeState, changed []string) {
	for w := range ts.sotw {
		c.sotwNotifyLocked(ts, w, changed)
	}
	if len(ts.wildcard) == 0 && len(ts.byName) == 0 {
		return
	}
	per := map[*deltaWatch][]string{}
	for _, name := range changed {
		for w := range ts.byName[name] {
			if !w.wildcard {
				per[w] = append(per[w], name)
			}
		}
	}
	for w := range ts.wildcard {
		per[w] = changed
	}
	for w, names := range per {
		c.deltaNotifyLocked(ts, w, names)
	}
}

// Fetch implements cache.ConfigFetcher; REST is not served.
func (c *Cache) Fetch(context.Context, *cachev3.Request) (cachev3.Response, error) {
	return nil, errors.New("adscache: REST fetch is not supported")
}
