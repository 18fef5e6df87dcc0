package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/switchboard-gw/switchboard/envoy"
)

// runEnvoyBootstrap prints a bootstrap for an Envoy that this control plane
// (or several of them, comma-separated) will configure over ADS.
func runEnvoyBootstrap(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("envoy-bootstrap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodeID := fs.String("node-id", "envoy", "Envoy node id (every node gets the same config)")
	cluster := fs.String("cluster", "switchboard", "Envoy node cluster")
	xds := fs.String("xds-address", "127.0.0.1:18000", "control-plane ADS address(es), comma-separated for failover")
	admin := fs.String("admin-listen", "127.0.0.1:9901", "Envoy admin listener address")
	delta := fs.Bool("delta", true, "use incremental (delta) xDS; false: state-of-the-world")
	tlsCA := fs.String("xds-tls-ca", "", "CA file (on Envoy's host) that verifies the control plane's xDS certificate; turns on TLS")
	tlsCert := fs.String("tls-cert", "", "Envoy's client certificate file, for a control plane that requires mTLS (--xds-tls-ca on serve)")
	tlsKey := fs.String("tls-key", "", "private key file of --tls-cert")
	sni := fs.String("xds-sni", "", "server name Envoy sends in the TLS handshake (default: none)")
	proxyTLS := fs.Bool("proxy-tls", true, "the control plane serves the TLS proxy listener (serve's --proxy-tls-listen is not off): add its proxy-cache loop")
	fs.Usage = usageWithEnv(fs, "switchboard envoy-bootstrap [flags] > bootstrap.yaml")
	if err := parseWithEnv(fs, args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	var addrs []string
	for _, a := range strings.Split(*xds, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	bo := envoy.BootstrapOptions{
		NodeID: *nodeID, Cluster: *cluster, XDSAddresses: addrs, AdminAddress: *admin, Delta: *delta, ProxyTLS: *proxyTLS,
	}
	if *tlsCA != "" || *tlsCert != "" || *tlsKey != "" || *sni != "" {
		bo.TLS = &envoy.XDSTLS{CAFile: *tlsCA, CertFile: *tlsCert, KeyFile: *tlsKey, SNI: *sni}
	}
	y, err := envoy.Bootstrap(bo)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard envoy-bootstrap: %v\n", err)
		return 1
	}
	_, _ = stdout.Write(y)
	return 0
}
