package admin

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboard-gw/switchboard/store"
)

// databaseName is what GET / advertises as configuration.database. Kong's
// clients switch on the exact values: "off" means DB-less (writes only
// through /config, go-kong skips entity tests, decK refuses sync), "postgres"
// means entities are written one by one through the Admin API — which is
// what switchboard does. The truth is beside it in configuration.switchboard
// (docs/decisions.md, 2026-12-01 "GET / database").
const databaseName = "postgres"

// storeName is configuration.switchboard.store: the durable store behind
// the Admin API.
const storeName = "raft"

func (s *Server) registerRootRoutes() {
	s.handleFunc("/", http.MethodGet, s.handleRoot)
	s.handleFunc("/status", http.MethodGet, s.handleStatus)
	s.handleFunc("/endpoints", http.MethodGet, s.handleEndpoints)
	s.handleFunc("/counts", http.MethodGet, s.handleCounts)
}

// handleRoot is GET /: Kong's node information. decK reads version (and
// refuses non-3.0 files for 3.x), go-kong reads configuration.database.
func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	conf := map[string]any{
		"database":          databaseName,
		"router_flavor":     "traditional_compatible",
		"role":              "traditional",
		"plugins":           []string{"bundled"},
		"admin_listen":      []string{},
		"proxy_listen":      []string{},
		"admin_gui_listen":  []string{},
		"status_listen":     []string{},
		"stream_listen":     []string{},
		"admin_gui_url":     []string{},
		"admin_gui_path":    "/",
		"admin_gui_auth":    nil,
		"enforce_rbac":      "off",
		"rbac":              "off",
		"portal":            false,
		"anonymous_reports": false,
		"switchboard":       map[string]any{"store": storeName},
	}
	for k, v := range s.opts.Configuration {
		conf[k] = v
	}
	addListeners(conf)
	pid := os.Getpid()
	out := map[string]any{
		"tagline":  "Welcome to kong",
		"version":  s.opts.Version,
		"edition":  "community",
		"hostname": s.opts.Hostname,
		"node_id":  s.opts.NodeID,
		"timers":   map[string]int{"running": 0, "pending": 0},
		"plugins":  s.pluginsInfo(), // plugins.go
		// No Lua runs here; the field exists because clients expect it.
		"lua_version":   "none (switchboard, " + runtime.Version() + ")",
		"configuration": conf,
		"pids":          map[string]any{"master": pid, "workers": []int{pid}},
	}
	if len(s.opts.Warnings) > 0 {
		out["warnings"] = s.opts.Warnings // security.go in cmd: exposed listeners
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// listenerKeys pairs each *_listen key of Kong's configuration with the
// parsed *_listeners list Kong derives from it. Kong Manager reads the
// parsed form (its overview shows the proxy and admin URLs from them).
var listenerKeys = map[string]string{
	"admin_listen":     "admin_listeners",
	"proxy_listen":     "proxy_listeners",
	"admin_gui_listen": "admin_gui_listeners",
	"status_listen":    "status_listeners",
	"stream_listen":    "stream_listeners",
}

// addListeners sets every *_listeners key from its *_listen list, unless
// the configuration already carries it.
func addListeners(conf map[string]any) {
	for listen, parsed := range listenerKeys {
		if _, ok := conf[parsed]; ok {
			continue
		}
		addrs, _ := conf[listen].([]string)
		out := make([]map[string]any, 0, len(addrs))
		for _, a := range addrs {
			if l, ok := kongListener(a); ok {
				out = append(out, l)
			}
		}
		conf[parsed] = out
	}
}

// kongListener is one listener in the shape of Kong's conf_loader
// (ip, port, ssl, http2, ..., listener). Addresses are host:port; a
// trailing " ssl" flag is honoured for when TLS listeners arrive.
func kongListener(addr string) (map[string]any, bool) {
	fields := strings.Fields(addr)
	if len(fields) == 0 {
		return nil, false
	}
	host, portStr, err := net.SplitHostPort(fields[0])
	if err != nil {
		return nil, false
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, false
	}
	if host == "" {
		host = "0.0.0.0"
	}
	l := map[string]any{
		"ip": host, "port": port, "ssl": false, "http2": false, "proxy_protocol": false,
		"deferred": false, "reuseport": false, "bind": false, "ipv6only": false, "so_keepalive": false,
		"backlog=%d+": false,
	}
	for _, f := range fields[1:] {
		if _, known := l[f]; known {
			l[f] = true
		}
	}
	l["listener"] = strings.Join(append([]string{net.JoinHostPort(host, portStr)}, fields[1:]...), " ")
	return l, true
}

var unitRe = regexp.MustCompile(`^[bBkKmMgG]$`)

// handleStatus is GET /status. Connection figures count Admin API requests;
// memory is the Go heap, in Kong's units (?unit=b|k|m|g, ?scale=n).
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	unit, scale := "m", 2
	if v, ok := q["unit"]; ok {
		if !unitRe.MatchString(v[0]) {
			s.writeError(w, r, errStatus(http.StatusBadRequest, fmt.Sprintf("invalid unit '%s' (expected 'k/K', 'm/M', or 'g/G')", v[0])))
			return
		}
		unit = strings.ToLower(v[0])
	}
	if v, ok := q["scale"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 || n > 20 {
			s.writeError(w, r, errStatus(http.StatusBadRequest, fmt.Sprintf("invalid scale '%s'", v[0])))
			return
		}
		scale = n
	}
	hash, err := s.configurationHash()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	total := int64(s.totalRequests.Load())
	active := s.activeConns.Load()
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"server": map[string]int64{
			"connections_accepted": total,
			"connections_active":   active,
			"connections_handled":  total,
			"connections_reading":  0,
			"connections_writing":  active,
			"connections_waiting":  0,
			"total_requests":       total,
		},
		"memory": map[string]any{
			"lua_shared_dicts": map[string]any{},
			"workers_lua_vms": []map[string]any{{
				"http_allocated_gc": formatBytes(ms.HeapAlloc, unit, scale),
				"pid":               os.Getpid(),
			}},
		},
		"database": map[string]bool{"reachable": true},
		// Kong reports it in DB-less mode only; every node here holds
		// the whole state, so it is always there (config_hash.go).
		"configuration_hash": hash,
	})
}

// formatBytes is Kong's bytes_to_str.
func formatBytes(n uint64, unit string, scale int) any {
	switch unit {
	case "k":
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', scale, 64) + " KiB"
	case "m":
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', scale, 64) + " MiB"
	case "g":
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', scale, 64) + " GiB"
	default:
		return n
	}
}

// handleEndpoints is GET /endpoints: every path, sorted segment-wise the
// way Kong sorts them ("/" compares lowest).
func (s *Server) handleEndpoints(w http.ResponseWriter, r *http.Request) {
	paths := append([]string(nil), s.order...)
	sort.Slice(paths, func(i, j int) bool {
		return strings.ReplaceAll(paths[i], "/", "\x00") < strings.ReplaceAll(paths[j], "/", "\x00")
	})
	s.writeJSON(w, r, http.StatusOK, map[string]any{"data": paths})
}

// handleCounts is GET /counts (ours, not Kong's): how many of each served
// entity one snapshot holds, so that an overview never pages through 10,000
// services to count them. Walking the in-memory tables costs no decoding.
func (s *Server) handleCounts(w http.ResponseWriter, r *http.Request) {
	snap := s.store.Snapshot()
	counts := make(map[string]int, len(s.entities))
	for table := range s.entities {
		n := 0
		if err := snap.Walk(table, "", func(store.Row) bool { n++; return true }); err != nil {
			s.writeError(w, r, err)
			return
		}
		counts[table] = n
	}
	s.writeJSON(w, r, http.StatusOK, counts)
}
