package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/manager"
	"github.com/switchboard-gw/switchboard/store/raftstore"
)

// startManager serves switchboard Manager on --manager-listen with api (the
// Admin API handler, with its authentication) under /api/. A default
// address that is taken (another node on this host) only warns; one the
// operator asked for is fatal.
func startManager(cfg *serveConfig, api http.Handler, log *slog.Logger) (stop func(), err error) {
	if cfg.ManagerListen == "" {
		return func() {}, nil
	}
	lis, err := net.Listen("tcp", cfg.ManagerListen)
	if err != nil {
		if cfg.ManagerExplicit {
			return nil, fmt.Errorf("manager listen: %w", err)
		}
		log.Warn("switchboard Manager not started: its default address is taken; set --manager-listen", "addr", cfg.ManagerListen, "err", err)
		return func() {}, nil
	}
	// The cluster's internal endpoints are for peers on the Admin API
	// listener only; the UI's /api/ serves the public API.
	public := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, raftstore.PathPrefix) {
			http.NotFound(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
	// The same timeouts, header cap and connection bound as the Admin API:
	// the Manager serves that API under /api/, so a slow or greedy client
	// must not hold more of it here than there.
	lis = admin.LimitListener(lis, admin.MaxConnections)
	srv := admin.NewHTTPServer(manager.Handler(manager.Options{
		API: public, Logger: log.With("component", "manager"), Hosts: managerHosts(cfg),
	}))
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("switchboard Manager stopped", "err", err)
		}
	}()
	log.Info("switchboard Manager listening", "url", "http://"+lis.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// managerListen is --manager-listen as GET /'s admin_gui_listen list.
func managerListen(cfg *serveConfig) []string {
	if cfg.ManagerListen == "" {
		return []string{}
	}
	return []string{cfg.ManagerListen}
}

// managerHosts are the names the Manager answers besides IPs and localhost:
// the hosts of --admin-gui-url (the operator's list of browser origins) and
// of --manager-listen.
func managerHosts(cfg *serveConfig) []string {
	var out []string
	for _, o := range splitList(cfg.AdminGUIURL) {
		if u, err := url.Parse(o); err == nil && u.Hostname() != "" {
			out = append(out, u.Hostname())
		}
	}
	if h, _, err := net.SplitHostPort(cfg.ManagerListen); err == nil && h != "" {
		out = append(out, h)
	}
	return out
}

// managerExposureWarning is the Manager's line of exposureWarnings: a
// Manager reachable from other machines when the Admin API takes no token.
// Its listener is plain HTTP, so an Admin API client certificate
// (--admin-tls-ca) does not guard it; only tokens do.
func managerExposureWarning(cfg *serveConfig, tokens bool) []string {
	if cfg.ManagerListen == "" || isLoopback(cfg.ManagerListen) || tokens {
		return nil
	}
	return []string{fmt.Sprintf("switchboard Manager listens on %s, beyond loopback, without Admin API tokens: "+
		"anyone who reaches it controls all traffic through its /api/ (set --admin-token/--admin-tokens-file)", cfg.ManagerListen)}
}
