package xds

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// The cache layout.
//
// CDS, LDS and RDS live in a go-control-plane snapshot cache (ADS mode) and
// carry one version per type, derived from a hash of the type's resources:
// a publish that leaves a type byte-for-byte identical keeps its version, so
// the cache does not answer that type's watches (SotW), and the per-resource
// hashes we put in the snapshot's VersionMap keep delta streams quiet too.
//
// EDS lives in a LinearCache, with one version per resource: a target
// change updates one ClusterLoadAssignment and only that one is sent (SotW
// EDS is not a full-state type, and delta is per resource anyway), while
// CDS/LDS/RDS are untouched. Cluster protos therefore never change with
// targets, which keeps Envoy's health-check state (envoy-mapping §1.3 #8).
//
// A MuxCache routes each request by type URL. Every Envoy shares one node
// group, so there is one snapshot, not one per node.
const (
	muxSnapshot = "snapshot"
	muxEDS      = "eds"
)

// DefaultNodeGroup is the single snapshot key all Envoys share.
const DefaultNodeGroup = "switchboard"

// nodeGroup maps every node to one key: the configuration does not depend
// on which Envoy asks.
type nodeGroup string

func (g nodeGroup) ID(*corev3.Node) string { return string(g) }

type caches struct {
	group    string
	snapshot cachev3.SnapshotCache
	eds      *cachev3.LinearCache
	// edsPrefix starts every EDS version this process sends (acks.go).
	edsPrefix string
	mux       *cachev3.MuxCache
}

func newCaches(group string, log *slog.Logger) *caches {
	l := cacheLogger{log}
	prefix := "eds-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
	c := &caches{
		group:     group,
		edsPrefix: prefix,
		snapshot:  cachev3.NewSnapshotCache(true, nodeGroup(group), l),
		// The boot-time prefix makes versions from an earlier process
		// unmistakable: a reconnecting Envoy whose version lacks it gets a
		// full answer.
		eds: cachev3.NewLinearCache(resourcev3.EndpointType,
			cachev3.WithVersionPrefix(prefix),
			cachev3.WithLogger(l)),
	}
	classify := func(typeURL string) string {
		if typeURL == resourcev3.EndpointType {
			return muxEDS
		}
		return muxSnapshot
	}
	c.mux = &cachev3.MuxCache{
		Classify:      func(r *cachev3.Request) string { return classify(r.GetTypeUrl()) },
		ClassifyDelta: func(r *cachev3.DeltaRequest) string { return classify(r.GetTypeUrl()) },
		Caches:        map[string]cachev3.Cache{muxSnapshot: c.snapshot, muxEDS: c.eds},
	}
	return c
}

// cacheLogger adapts slog to go-control-plane's logger. The caches log
// every watch at Info; that is debug detail for us.
type cacheLogger struct{ l *slog.Logger }

func (c cacheLogger) Debugf(format string, args ...any) { c.logf(slog.LevelDebug, format, args) }
func (c cacheLogger) Infof(format string, args ...any)  { c.logf(slog.LevelDebug, format, args) }
func (c cacheLogger) Warnf(format string, args ...any)  { c.logf(slog.LevelWarn, format, args) }
func (c cacheLogger) Errorf(format string, args ...any) { c.logf(slog.LevelError, format, args) }

// logf formats only when the level is on: the caches print whole resource
// name sets, which at 10,000 clusters is not free.
func (c cacheLogger) logf(level slog.Level, format string, args []any) {
	if c.l.Enabled(context.Background(), level) {
		c.l.Log(context.Background(), level, "xds cache: "+fmt.Sprintf(format, args...))
	}
}
