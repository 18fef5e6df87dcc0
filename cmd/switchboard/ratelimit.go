package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"google.golang.org/grpc"

	"github.com/switchboard-gw/switchboard/ratelimit"
	"github.com/switchboard-gw/switchboard/store"
)

// dialable is the address Envoys on this host dial for a listener bound to
// a: an unspecified address (0.0.0.0, ::) becomes the loopback one.
func dialable(a *net.TCPAddr) string {
	ip := a.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if a.IP.To4() == nil {
			ip = net.IPv6loopback
		}
	}
	return netip.AddrPortFrom(netip.MustParseAddr(ip.String()), uint16(a.Port)).String()
}

// startRateLimit serves the rate-limiting plugin's policy=cluster|redis
// counters (package ratelimit) on --ratelimit-listen, a gRPC listener of its
// own so the data path's calls never queue behind xDS streams. policy=redis
// finds config.redis by the plugin id the descriptor names, in the current
// snapshot. The default address may be taken by another node on this host:
// then only a warning, unless the flag was set.
func startRateLimit(cfg *serveConfig, st *store.Store, log *slog.Logger) (addr string, stop func(), err error) {
	if cfg.RateLimitListen == "" {
		return "", func() {}, nil
	}
	lis, err := net.Listen("tcp", cfg.RateLimitListen)
	if err != nil {
		if cfg.RateLimitExplicit {
			return "", nil, fmt.Errorf("ratelimit listen: %w", err)
		}
		log.Warn("rate-limit service not started: its default address is taken; set --ratelimit-listen", "addr", cfg.RateLimitListen, "err", err)
		return "", func() {}, nil
	}
	if !isLoopback(cfg.RateLimitListen) {
		log.Warn("SECURITY WARNING: the rate-limit service speaks plaintext gRPC on a non-loopback address", "addr", cfg.RateLimitListen)
	}
	redisStores := &ratelimit.RedisStores{Lookup: func(pluginID string) (ratelimit.RedisConfig, error) {
		p, err := st.Snapshot().PluginByID(pluginID)
		if err != nil {
			return ratelimit.RedisConfig{}, err
		}
		if p == nil {
			return ratelimit.RedisConfig{}, fmt.Errorf("no plugin %s", pluginID)
		}
		return ratelimit.RedisConfigFromPlugin(p.Config)
	}}
	g := grpc.NewServer()
	ratelimit.New(ratelimit.Options{Redis: redisStores.Store, Logger: log.With("component", "ratelimit")}).Register(g)
	go func() {
		if err := g.Serve(lis); err != nil {
			log.Error("rate-limit service stopped", "err", err)
		}
	}()
	log.Info("rate-limit service listening", "addr", lis.Addr().String())
	addr = dialable(lis.Addr().(*net.TCPAddr))
	if cfg.RateLimitAdvertise != "" {
		addr = cfg.RateLimitAdvertise
	}
	return addr, func() {
		g.GracefulStop()
		_ = redisStores.Close()
	}, nil
}
