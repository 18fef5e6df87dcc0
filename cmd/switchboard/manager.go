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
	srv := &http.Server{
		Handler: manager.Handler(manager.Options{
			API: public, Logger: log.With("component", "manager"), Hosts: managerHosts(cfg),
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
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
