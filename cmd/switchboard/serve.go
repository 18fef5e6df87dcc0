package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/envoy"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/store/raftstore"
	"github.com/switchboard-gw/switchboard/translator"
	"github.com/switchboard-gw/switchboard/xds"
	"github.com/switchboard-gw/switchboard/xds/resolve"
)

// readyTimeout bounds how long start-up waits for the replicated log to
// catch up before serving xDS; a node cut off from its quorum then serves
// what it has rather than nothing.
const readyTimeout = 60 * time.Second

func runServe(args []string, stderr io.Writer) int {
	cfg, fs, err := parseServeFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "switchboard serve: %v\n", err)
		fs.Usage()
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	lim := applyMemoryLimit(ctx, log)
	if err := serve(ctx, cfg, log, lim); err != nil {
		log.Error("switchboard stopped", "err", err)
		return 1
	}
	log.Info("switchboard stopped")
	return 0
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// serve wires the store, the durable log, the Admin API, the xDS server
// and optionally a local Envoy, and runs them until ctx ends. lim is the
// default memory limit (nil when the operator set GOMEMLIMIT).
func serve(ctx context.Context, cfg *serveConfig, log *slog.Logger, lim *memoryLimit) error {
	// An absolute data dir: the Envoy child reads its bootstrap from it
	// and may not share our working directory's view of a relative path.
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	cfg.DataDir = abs
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	nodeID := cfg.NodeID
	if nodeID == "" {
		id, err := loadOrCreateNodeID(cfg.DataDir)
		if err != nil {
			return err
		}
		nodeID = id
	}
	log = log.With("node", shortID(nodeID))

	sec, err := loadSecurity(cfg)
	if err != nil {
		return err
	}
	for _, w := range sec.warnings {
		log.Warn("SECURITY WARNING: " + w)
	}

	adminLis, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		return fmt.Errorf("admin listen: %w", err)
	}
	defer adminLis.Close()
	xdsLis, err := net.Listen("tcp", cfg.XDSListen)
	if err != nil {
		return fmt.Errorf("xds listen: %w", err)
	}
	defer xdsLis.Close()
	adminAdvertise := cfg.AdminAdvertise
	if adminAdvertise == "" {
		adminAdvertise = advertisable(adminLis.Addr().String())
	}
	join := splitList(cfg.Join)
	if sec.adminTLS != nil {
		// Members' Admin APIs speak TLS like ours: peers dial them https.
		adminAdvertise = withScheme(adminAdvertise)
		for i := range join {
			join[i] = withScheme(join[i])
		}
	}
	adminLis = admin.LimitListener(adminLis, admin.MaxConnections)
	if sec.adminTLS != nil {
		adminLis = tls.NewListener(adminLis, sec.adminTLS)
	}

	st, err := store.New()
	if err != nil {
		return err
	}
	node, err := raftstore.Open(raftstore.Config{
		DataDir: cfg.DataDir, NodeID: nodeID, RaftListen: cfg.RaftListen, RaftAdvertise: cfg.RaftAdvertise,
		AdminAddr: adminAdvertise, Join: join, Logger: log,
		ClusterSecret: sec.clusterSecret, HTTPClient: sec.peerClient,
	}, st)
	if err != nil {
		return err
	}
	defer func() {
		if err := node.Close(); err != nil {
			log.Warn("raft close", "err", err)
		}
	}()
	st.SetProposer(node)

	topts, err := translatorOptions(cfg)
	if err != nil {
		return err
	}
	// Before the translator: the Envoys it configures get a cluster to it.
	rateLimitAddr, stopRateLimit, err := startRateLimit(cfg, st, log)
	if err != nil {
		return err
	}
	defer stopRateLimit()
	topts.RateLimitAddress = rateLimitAddr
	trustedCA, err := resolveTrustedCA(cfg.UpstreamTrustedCA, cfg.DataDir, log)
	if err != nil {
		return err
	}
	topts.TrustedCAFile = trustedCA
	res := resolve.New(resolve.Options{
		HostsFile: cfg.DNSHostsFile, Servers: splitList(cfg.DNSResolver), Logger: log.With("component", "dns"),
	})
	xsrv := xds.New(st, res, xds.Options{
		TranslatorOptions: topts,
		Logger:            log.With("component", "xds"),
		GRPCOptions:       sec.xdsGRPCOptions(),
		OnPublish:         lim.onPublish(),
	})
	envoys := newEnvoyHealth(xsrv, log.With("component", "envoyhealth"))
	api := admin.New(st, admin.Options{
		NodeID: nodeID,
		Logger: log.With("component", "admin"),
		Health: envoys.source(st, res),
		Configuration: map[string]any{
			"admin_listen": []string{cfg.AdminListen}, "proxy_listen": proxyListen(cfg),
			"xds_listen": cfg.XDSListen, "prefix": cfg.DataDir, "node_id": nodeID,
			"admin_gui_listen": managerListen(cfg), "admin_gui_url": splitList(cfg.AdminGUIURL),
		},
		AllowedOrigins: splitList(cfg.AdminGUIURL),
		Tokens:         sec.tokens,
		// The Manager serves this API under /api, so its listener counts.
		LoopbackOnly: isLoopback(cfg.AdminListen) && (cfg.ManagerListen == "" || isLoopback(cfg.ManagerListen)),
		AllowedHosts: splitList(cfg.AdminHosts),
		Warnings:     sec.warnings,
		Quarantined:  xsrv.Quarantined,
	})
	mountInternal(api, node, xsrv)
	xsrv.Registry().MustRegister(newCertExpiry(st))
	api.Mount("/clustering/health", envoys.handler())

	gate := &startupGate{next: withInternal(node, api.Handler())}
	httpSrv := admin.NewHTTPServer(gate)
	errc := make(chan error, 4)
	go func() { errc <- serveHTTP(httpSrv, adminLis) }()
	log.Info("admin API listening", "addr", adminLis.Addr().String())
	stopManager, err := startManager(cfg, gate, log)
	if err != nil {
		return err
	}
	defer stopManager()

	// Envoy must never see an empty or partial config: catch up with the
	// log, publish the first snapshot, and only then accept ADS streams.
	readyCtx, cancelReady := context.WithTimeout(ctx, readyTimeout)
	if err := node.WaitReady(readyCtx); err != nil {
		log.Warn("serving before the log caught up", "err", err)
	}
	cancelReady()
	if cfg.DeclarativeFile != "" {
		if err := loadDeclarative(api, cfg.DeclarativeFile, log); err != nil {
			_ = shutdown(httpSrv, xsrv, nil, log)
			return err
		}
	}
	// The default certificate before the first publish, so that Envoy's
	// first configuration already holds the TLS listener (it waits for
	// the pair); ensureDefaultCertificate keeps it there afterwards (no
	// leader yet, a restore).
	needDefaultCert := cfg.ProxyTLSListen != "" && cfg.ProxyTLSCert == ""
	if needDefaultCert {
		_ = createDefaultCertificate(st) // retried below
	}
	gate.open()
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	go res.Run(runCtx)
	go envoys.run(runCtx)
	if needDefaultCert {
		go ensureDefaultCertificate(runCtx, st, log)
	}
	go func() {
		if err := xsrv.Run(runCtx); err != nil {
			errc <- err
		}
	}()
	select {
	case <-xsrv.Ready():
	case err := <-errc:
		return err
	case <-ctx.Done():
		return shutdown(httpSrv, xsrv, nil, log)
	}
	go func() { errc <- xsrv.Serve(xdsLis) }()
	log.Info("xDS server listening", "addr", xdsLis.Addr().String(), "revision", st.Revision())

	var runner *envoy.Runner
	if cfg.Envoy {
		runner, err = startEnvoy(runCtx, cfg, nodeID, xdsLis.Addr().String(), sec.localEnvoy, log)
		if err != nil {
			cancelRun()
			_ = shutdown(httpSrv, xsrv, nil, log)
			return err
		}
		envoys.setLocal(localEnvoyNodeID(nodeID), runner.AdminAddress)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-errc:
		log.Error("server failed", "err", err)
	}
	cancelRun()
	if sErr := shutdown(httpSrv, xsrv, runner, log); err == nil {
		err = sErr
	}
	return err
}

// translatorOptions are the listener settings of cfg for the translator.
func translatorOptions(cfg *serveConfig) (translator.Options, error) {
	host, port, _ := splitHostPort(cfg.ProxyListen)
	// RateLimitCluster: the rate-limit service's cluster is sent even when
	// this node's service is off or could not bind (its CLA is then
	// empty), so that every node of a raft cluster sends the same CDS.
	o := translator.Options{ProxyAddress: host, ProxyPort: port, RateLimitCluster: true}
	if cfg.ProxyTLSListen == "" {
		return o, nil
	}
	o.ProxyTLSAddress, o.ProxyTLSPort, _ = splitHostPort(cfg.ProxyTLSListen)
	var err error
	o.TLSCert, o.TLSKey, err = loadProxyTLSPair(cfg.ProxyTLSCert, cfg.ProxyTLSKey)
	return o, err
}

// proxyListen is GET /'s configuration.proxy_listen, in Kong's syntax: the
// TLS listener carries "http2 ssl", which proxy_listeners reports.
func proxyListen(cfg *serveConfig) []string {
	out := []string{cfg.ProxyListen}
	if cfg.ProxyTLSListen != "" {
		out = append(out, cfg.ProxyTLSListen+" http2 ssl")
	}
	return out
}

// mountInternal adds the endpoints that other packages own to the Admin API.
func mountInternal(api *admin.Server, node *raftstore.Node, xsrv *xds.Server) {
	api.Mount("/clustering/status", node.StatusHandler())
	api.Mount("/clustering/data-planes", xsrv.DataPlanesHandler())
	api.Mount("/metrics", xsrv.MetricsHandler())
}

// withInternal routes the cluster's internal /_switchboard/ paths around
// the Admin API: they are not part of its surface (not in /endpoints, no
// CORS, no admin tokens) and authenticate members with the cluster secret
// themselves (raftstore/members.go).
// (No http.ServeMux here: it would clean and redirect Admin API paths.)
func withInternal(node *raftstore.Node, api http.Handler) http.Handler {
	internal := node.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, raftstore.PathPrefix) {
			internal.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

func serveHTTP(srv *http.Server, lis net.Listener) error {
	if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin API: %w", err)
	}
	return nil
}

// startEnvoy runs a local Envoy whose bootstrap points at our xDS listener.
func startEnvoy(ctx context.Context, cfg *serveConfig, nodeID, xdsAddr string, id *localIdentity, log *slog.Logger) (*envoy.Runner, error) {
	bin, err := envoy.FindBinary(cfg.EnvoyBin)
	if err != nil {
		return nil, fmt.Errorf("--envoy: %w", err)
	}
	bo := envoy.BootstrapOptions{
		NodeID: localEnvoyNodeID(nodeID), Cluster: "switchboard",
		XDSAddresses: []string{advertisable(xdsAddr)}, AdminAddress: cfg.EnvoyAdminListen, Delta: cfg.Delta,
		ProxyTLS: cfg.ProxyTLSListen != "",
	}
	if id != nil {
		bo.TLS = id.envoyTLS()
	}
	boot, err := envoy.Bootstrap(bo)
	if err != nil {
		return nil, fmt.Errorf("--envoy: %w", err)
	}
	r, err := envoy.NewRunner(envoy.RunnerOptions{
		Binary: bin, Bootstrap: boot, Dir: filepath.Join(cfg.DataDir, "envoy"), Logger: log.With("component", "envoy"),
		// The data plane outlives a crash of the control plane and is
		// adopted by the next serve on this data dir; SIGINT/SIGTERM stop it.
		Detach: true,
	})
	if err != nil {
		return nil, err
	}
	if err := r.Start(ctx); err != nil {
		return nil, fmt.Errorf("--envoy: %w", err)
	}
	log.Info("local Envoy is live", "binary", bin, "admin", r.AdminAddress(), "proxy", cfg.ProxyListen)
	return r, nil
}

// shutdown stops accepting Admin API requests, ends the xDS streams and
// waits for the local Envoy to exit.
func shutdown(httpSrv *http.Server, xsrv *xds.Server, runner *envoy.Runner, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := httpSrv.Shutdown(ctx)
	xsrv.Stop()
	if runner != nil {
		runner.Wait()
	}
	if err != nil {
		log.Warn("admin API shutdown", "err", err)
	}
	return nil
}

// advertisable turns a wildcard listen address into one a local peer can
// dial (0.0.0.0:8001 → 127.0.0.1:8001).
func advertisable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
