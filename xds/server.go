package xds

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/xds/adscache"
)

// gRPC settings from go-control-plane's example server: Envoy keeps one
// long-lived ADS stream, pings detect dead peers, and the enforcement
// policy lets Envoy ping without being sent GOAWAY.
const (
	grpcKeepaliveTime        = 30 * time.Second
	grpcKeepaliveTimeout     = 5 * time.Second
	grpcKeepaliveMinTime     = 30 * time.Second
	grpcMaxConcurrentStreams = 1000000
	// gracefulStopTimeout bounds Stop: ADS streams never end on their own.
	gracefulStopTimeout = 5 * time.Second
	// maxPendingNacks bounds the NACKs waiting for the publish loop.
	maxPendingNacks = 64
)

// Defaults for Options.
const (
	// DefaultMinPublishInterval is 0: a commit is published at once, and
	// commits that land while a publish is in flight are folded into the
	// next one (publish.go). A fixed spacing was most of a change's latency.
	DefaultMinPublishInterval = 0
	DefaultDataPlanePurge     = time.Hour
)

// Options configure a Server. The zero value works.
type Options struct {
	// Translator builds Envoy resources from store snapshots. Nil means the
	// translator package with TranslatorOptions.
	Translator        Translator
	TranslatorOptions TranslatorOptions
	// MinPublishInterval spaces publishes during bursts of writes (see
	// publish.go). Zero or negative means none: publish at once.
	MinPublishInterval time.Duration
	// DataPlanePurge is how long a disconnected Envoy stays listed in
	// /clustering/data-planes.
	DataPlanePurge time.Duration
	// Registry receives the xDS metrics. Nil means a private registry that
	// also carries the Go and process collectors (MetricsHandler serves it).
	Registry *prometheus.Registry
	// GRPCOptions are appended to the built-in server options (keepalive,
	// stream limits), e.g. TLS credentials.
	GRPCOptions []grpc.ServerOption
	// OnPublish, when set, is called as a publish starts, before the
	// translation: cmd/switchboard lifts the soft memory limit for it, so
	// that a collection in progress does not throttle the fan-out.
	OnPublish func()
	Logger    *slog.Logger
}

// Server is the xDS control plane: the caches, the ADS gRPC server and the
// publish loop. Start it with Run (publishes, then keeps publishing) and
// Serve (accepts Envoys once the first snapshot is in the cache).
type Server struct {
	st      *store.Store
	res     Resolver
	opts    Options
	log     *slog.Logger
	metrics *metrics
	cache   *adscache.Cache
	pub     *publisher
	nodes   *registry
	acks    *ackHistory // published configs, to map ACKed versions to revisions
	commits *commitLog

	grpc   *grpc.Server
	ctx    context.Context // ends the xDS streams on Stop
	cancel context.CancelFunc

	ready    chan struct{} // closed after the first publish
	stopped  chan struct{}
	stopOnce sync.Once

	// nacks carries NACKs from the stream callbacks to the publish loop
	// (quarantine.go); a NACK arriving while it is full is not isolated.
	nacks chan nackEvent

	pubMu  sync.Mutex
	pubRev uint64
	pubCh  chan struct{} // closed and replaced on every publish
}

// New builds a Server over st. res resolves target and service hostnames;
// it may be nil (names then never resolve). Run the resolver's own loop
// (resolve.Resolver.Run) alongside.
func New(st *store.Store, res Resolver, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MinPublishInterval < 0 {
		opts.MinPublishInterval = DefaultMinPublishInterval
	}
	if opts.DataPlanePurge <= 0 {
		opts.DataPlanePurge = DefaultDataPlanePurge
	}
	if opts.Translator == nil {
		opts.Translator = NewTranslator(opts.TranslatorOptions)
	}
	s := &Server{
		st:      st,
		res:     res,
		opts:    opts,
		log:     opts.Logger,
		metrics: newMetrics(opts.Registry),
		ready:   make(chan struct{}),
		stopped: make(chan struct{}),
		pubCh:   make(chan struct{}),
	}
	s.cache = newCache()
	s.pub = newPublisher(s.cache, opts.Translator, res, s.log, s.metrics)
	s.pub.settle = st.SettleWatches
	s.nodes = newRegistry(s.log, s.metrics, opts.DataPlanePurge)
	s.acks = &ackHistory{}
	s.commits = newCommitLog()
	s.nodes.commitTime = s.commits.lookup
	s.nodes.revisionOf = s.cache.RevisionOf
	s.nacks = make(chan nackEvent, maxPendingNacks)
	s.nodes.onNack = func(ev nackEvent) {
		select {
		case s.nacks <- ev:
		default:
			s.log.Warn("xds: NACK not isolated: publish loop busy", "node", ev.node, "type", typeName(ev.typeURL))
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	xds := serverv3.NewServer(s.ctx, s.cache, s.nodes, sotw.WithOrderedADS())
	grpcOpts := append([]grpc.ServerOption{
		grpc.ForceServerCodecV2(s.cache.Codec()),
		grpc.MaxConcurrentStreams(grpcMaxConcurrentStreams),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    grpcKeepaliveTime,
			Timeout: grpcKeepaliveTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             grpcKeepaliveMinTime,
			PermitWithoutStream: true,
		}),
	}, opts.GRPCOptions...)
	s.grpc = grpc.NewServer(grpcOpts...)
	// ADS only: our bootstrap points every type at ads {}, both
	// StreamAggregatedResources (SotW) and DeltaAggregatedResources.
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(s.grpc, xds)
	return s
}

// Ready is closed once the first snapshot is in the cache.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Serve accepts Envoy connections on lis. It waits for the first publish
// (Run) before accepting, so that no Envoy ever sees an empty or partial
// configuration while the store loads; connections queue in the listen
// backlog meanwhile. It returns nil after Stop.
func (s *Server) Serve(lis net.Listener) error {
	select {
	case <-s.ready:
	case <-s.stopped:
		_ = lis.Close()
		return nil
	}
	err := s.grpc.Serve(lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Stop ends every ADS stream and stops the gRPC server, waiting up to a few
// seconds for in-flight sends. Safe to call more than once. The publish
// loop ends with the context given to Run.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		close(s.stopped)
		s.cancel() // stream handlers return when this context ends
		done := make(chan struct{})
		go func() {
			s.grpc.GracefulStop()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(gracefulStopTimeout):
			s.grpc.Stop()
			<-done
		}
	})
}

// CheckedUpstreams lists, sorted, the upstreams whose clusters have active
// or passive health checks in the published configuration: the health
// poller asks Envoy only about those (xds/envoyhealth Options.Upstreams).
func (s *Server) CheckedUpstreams() []string {
	if p := s.pub.checked.Load(); p != nil {
		return *p
	}
	return nil
}

// MetricsHandler serves the Prometheus metrics (mount on the admin API's
// GET /metrics).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Registry is the Prometheus registry the xDS metrics live on, for callers
// that add their own metrics to the same /metrics page.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }
