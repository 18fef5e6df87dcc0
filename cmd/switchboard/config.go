package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/switchboard-gw/switchboard/admin"
)

// serveConfig is everything `switchboard serve` is told.
type serveConfig struct {
	AdminListen string
	XDSListen   string
	ProxyListen string
	// ProxyTLSListen is the TLS listener's address ("" or "off": none);
	// ProxyTLSCert/Key are PEM files replacing the cluster's default pair.
	ProxyTLSListen   string
	ProxyTLSCert     string
	ProxyTLSKey      string
	EnvoyAdminListen string
	DataDir          string
	DeclarativeFile  string // --declarative-config: a kong.yaml loaded at start
	Envoy            bool
	EnvoyBin         string
	DNSHostsFile     string
	NodeID           string
	Delta            bool
	RaftListen       string
	RaftAdvertise    string
	AdminAdvertise   string
	Join             string
	LogLevel         string

	// Access control (security.go, README "Security").
	AdminGUIURL       string
	AdminToken        string
	AdminTokensFile   string
	AdminTLSCert      string
	AdminTLSKey       string
	AdminTLSCA        string
	ClusterSecret     string
	ClusterSecretFile string
	XDSTLSCert        string
	XDSTLSKey         string
	XDSTLSCA          string
	DNSResolver       string
	AdminHosts        string
	// ManagerListen is the Manager UI's address ("" or "off": none);
	// ManagerExplicit says it was set, so failing to bind it is fatal
	// rather than a warning (the default port may be another node's).
	ManagerListen   string
	ManagerExplicit bool
	// RateLimitListen is the rate-limit service's address ("off": none);
	// RateLimitExplicit, as for the Manager, makes a bind failure fatal.
	RateLimitListen   string
	RateLimitExplicit bool
	// RateLimitAdvertise is the ip:port Envoys dial for it ("": the bound
	// address, loopback for a wildcard bind).
	RateLimitAdvertise string
	// UpstreamTrustedCA is the CA bundle for upstream verification without
	// ca_certificates and for verified probes ("system": the host's).
	UpstreamTrustedCA string
}

func parseServeFlags(args []string) (*serveConfig, *flag.FlagSet, error) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.AdminListen, "admin-listen", "127.0.0.1:8001", "address of the Kong-compatible Admin API")
	fs.StringVar(&c.XDSListen, "xds-listen", "127.0.0.1:18000", "address of the xDS (ADS gRPC) server Envoys connect to")
	fs.StringVar(&c.ProxyListen, "proxy-listen", "0.0.0.0:8000", "address of the Envoy listener pushed over LDS (Kong's proxy port)")
	fs.StringVar(&c.ProxyTLSListen, "proxy-tls-listen", "0.0.0.0:8443", "address of the Envoy TLS listener (Kong's proxy_listen \"8443 http2 ssl\": certificates by SNI, HTTP/2 by ALPN); empty or \"off\" for none")
	fs.StringVar(&c.ProxyTLSCert, "proxy-tls-cert", "", "default certificate (PEM) of the TLS listener, served when no SNI selects another (Kong's ssl_cert); without it the cluster's generated RSA + ECDSA pair")
	fs.StringVar(&c.ProxyTLSKey, "proxy-tls-key", "", "private key (PEM) of --proxy-tls-cert (Kong's ssl_cert_key)")
	fs.StringVar(&c.EnvoyAdminListen, "envoy-admin-listen", "127.0.0.1:9901", "admin address of the local Envoy started by --envoy")
	fs.StringVar(&c.DeclarativeFile, "declarative-config", "", "a kong.yaml (or JSON) applied at start through POST /config's validation, as one write; nothing is written when the store already holds exactly that file")
	fs.StringVar(&c.DataDir, "data-dir", "./switchboard-data", "directory for switchboard's state: the raft log and snapshots, the node id, the local Envoy's bootstrap")
	fs.BoolVar(&c.Envoy, "envoy", false, "start a local Envoy as a child process, connected to this control plane")
	fs.StringVar(&c.EnvoyBin, "envoy-bin", "", "Envoy binary for --envoy (default: $ENVOY_BIN, envoy on PATH, or ./.venv from 'make envoy')")
	fs.StringVar(&c.DNSHostsFile, "dns-hostsfile", "/etc/hosts", "hosts file consulted before DNS when resolving target and service hostnames")
	fs.StringVar(&c.NodeID, "node-id", "", "this node's id (default: a UUID kept in --data-dir)")
	fs.StringVar(&c.RaftListen, "raft-listen", "", "address for raft traffic between control-plane nodes; empty runs a single node (still durable)")
	fs.StringVar(&c.RaftAdvertise, "raft-advertise", "", "raft address other nodes dial (default: --raft-listen)")
	fs.StringVar(&c.AdminAdvertise, "admin-advertise", "", "Admin API address other nodes forward writes to (default: --admin-listen)")
	fs.StringVar(&c.Join, "join", "", "comma-separated Admin API addresses of running nodes to join (cluster mode)")
	fs.BoolVar(&c.Delta, "envoy-delta", true, "let the local Envoy use incremental (delta) xDS; false: state-of-the-world")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.AdminGUIURL, "admin-gui-url", "", "comma-separated browser origins (Kong's admin_gui_url, e.g. http://127.0.0.1:8002) allowed to use the Admin API with credentials; writes from any other Origin are refused")
	fs.StringVar(&c.AdminToken, "admin-token", "", "require this token (Kong-Admin-Token header or Authorization: Bearer) on every Admin API request; prefer SWITCHBOARD_ADMIN_TOKEN to a flag")
	fs.StringVar(&c.AdminTokensFile, "admin-tokens-file", "", "file of Admin API tokens, one per line: \"TOKEN\" or \"TOKEN read-only\"")
	fs.StringVar(&c.AdminTLSCert, "admin-tls-cert", "", "serve the Admin API over TLS with this certificate (PEM)")
	fs.StringVar(&c.AdminTLSKey, "admin-tls-key", "", "private key of --admin-tls-cert (PEM)")
	fs.StringVar(&c.AdminTLSCA, "admin-tls-ca", "", "require Admin API clients to present a certificate signed by this CA (mTLS)")
	fs.StringVar(&c.ClusterSecret, "cluster-secret", "", "secret shared by the cluster's nodes for the internal /_switchboard endpoints (default: --cluster-secret-file); prefer SWITCHBOARD_CLUSTER_SECRET to a flag")
	fs.StringVar(&c.ClusterSecretFile, "cluster-secret-file", "", "file holding the cluster secret (default: DATA_DIR/cluster-secret, created on first start; give joining nodes a copy)")
	fs.StringVar(&c.XDSTLSCert, "xds-tls-cert", "", "serve xDS over TLS with this certificate (PEM)")
	fs.StringVar(&c.XDSTLSKey, "xds-tls-key", "", "private key of --xds-tls-cert (PEM)")
	fs.StringVar(&c.XDSTLSCA, "xds-tls-ca", "", "require Envoys to present a client certificate signed by this CA (mTLS); the local Envoy also verifies the server with it")
	fs.StringVar(&c.AdminHosts, "admin-hosts", "", "comma-separated host names the Admin API answers besides IP addresses and localhost while it (and the Manager) listen on loopback only (DNS rebinding protection)")
	fs.StringVar(&c.DNSResolver, "dns-resolver", "", "comma-separated DNS servers (host:port, Kong's dns_resolver) used instead of /etc/resolv.conf")
	fs.StringVar(&c.ManagerListen, "manager-listen", "127.0.0.1:8002", "address of switchboard Manager, the web UI (Kong Manager's port); \"off\" for none")
	fs.StringVar(&c.UpstreamTrustedCA, "upstream-trusted-ca", "system", "PEM bundle Envoy trusts for services with tls_verify=true and no ca_certificates, and for active probes with https_verify_certificate (Kong's lua_ssl_trusted_certificate); \"system\": the host's bundle, found at start")
	fs.StringVar(&c.RateLimitListen, "ratelimit-listen", "127.0.0.1:18001", "address of the gRPC rate-limit service Envoys call for the rate-limiting plugin's policy=cluster|redis; \"off\" for none")
	fs.StringVar(&c.RateLimitAdvertise, "ratelimit-advertise", "", "ip:port the Envoys this node configures dial for its rate-limit service (default: the --ratelimit-listen address; loopback when that is a wildcard)")
	fs.Usage = usageWithEnv(fs, "switchboard serve [flags]")
	if err := parseWithEnv(fs, args); err != nil {
		return nil, fs, err
	}
	if fs.NArg() > 0 {
		return nil, fs, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { c.ManagerExplicit = c.ManagerExplicit || f.Name == "manager-listen" })
	fs.Visit(func(f *flag.Flag) { c.RateLimitExplicit = c.RateLimitExplicit || f.Name == "ratelimit-listen" })
	if c.RateLimitListen == "off" {
		c.RateLimitListen = ""
	} else if _, _, err := splitHostPort(c.RateLimitListen); err != nil {
		return nil, fs, fmt.Errorf("--ratelimit-listen: %w", err)
	}
	if c.RateLimitAdvertise != "" {
		// An IP: Envoy gets it as an endpoint address, never resolved.
		if _, err := netip.ParseAddrPort(c.RateLimitAdvertise); err != nil {
			return nil, fs, fmt.Errorf("--ratelimit-advertise: want ip:port: %w", err)
		}
	}
	if c.ManagerListen == "off" {
		c.ManagerListen = ""
	}
	if c.ManagerListen != "" {
		if _, _, err := splitHostPort(c.ManagerListen); err != nil {
			return nil, fs, fmt.Errorf("--manager-listen: %w", err)
		}
	}
	for name, addr := range map[string]string{
		"admin-listen": c.AdminListen, "xds-listen": c.XDSListen,
		"proxy-listen": c.ProxyListen, "envoy-admin-listen": c.EnvoyAdminListen,
	} {
		if _, _, err := splitHostPort(addr); err != nil {
			return nil, fs, fmt.Errorf("--%s: %w", name, err)
		}
	}
	if c.ProxyTLSListen == "off" {
		c.ProxyTLSListen = ""
	}
	if c.ProxyTLSListen != "" {
		if _, _, err := splitHostPort(c.ProxyTLSListen); err != nil {
			return nil, fs, fmt.Errorf("--proxy-tls-listen: %w", err)
		}
	}
	if (c.ProxyTLSCert == "") != (c.ProxyTLSKey == "") {
		return nil, fs, fmt.Errorf("--proxy-tls-cert and --proxy-tls-key go together")
	}
	if (c.AdminTLSCert == "") != (c.AdminTLSKey == "") {
		return nil, fs, fmt.Errorf("--admin-tls-cert and --admin-tls-key go together")
	}
	if (c.XDSTLSCert == "") != (c.XDSTLSKey == "") {
		return nil, fs, fmt.Errorf("--xds-tls-cert and --xds-tls-key go together")
	}
	for _, o := range splitList(c.AdminGUIURL) {
		if _, err := admin.NormalizeOrigin(o); err != nil {
			return nil, fs, fmt.Errorf("--admin-gui-url: %w", err)
		}
	}
	for _, a := range splitList(c.DNSResolver) {
		if _, _, err := splitHostPort(a); err != nil {
			return nil, fs, fmt.Errorf("--dns-resolver %q: %w", a, err)
		}
	}
	return c, fs, nil
}

// splitHostPort parses "host:port" with a numeric port.
func splitHostPort(addr string) (string, uint32, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("invalid port %q", portStr)
	}
	return host, uint32(port), nil
}
