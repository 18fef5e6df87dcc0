package envoy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"text/template"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	// The bootstrap names these types inside Any fields; protojson can only
	// resolve an Any whose type is linked in.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// Defaults of BootstrapOptions.
const (
	DefaultCluster      = "switchboard"
	DefaultAdminAddress = "127.0.0.1:9901"
	DefaultXDSAddress   = "127.0.0.1:18000"
	// DefaultInitialFetchTimeout bounds how long a starting Envoy waits for
	// its first CDS/LDS answer before it goes LIVE anyway (Envoy's default is
	// 15s). With the control plane up the answer takes milliseconds; with it
	// down, Envoy should still come up, serve its admin /ready and keep
	// retrying ADS in the background rather than hang in INITIALIZING.
	DefaultInitialFetchTimeout = 5 * time.Second
	// DefaultMaxReconnect caps the backoff between ADS reconnect attempts,
	// so a restarted control plane is found within a few seconds.
	DefaultMaxReconnect = 2 * time.Second
	// DefaultMaxConnections is the global downstream connection cap.
	DefaultMaxConnections = 50000
)

// BootstrapOptions shape the bootstrap of one Envoy. Zero values take the
// defaults above; NodeID is required because the control plane keys its
// snapshot cache by node id.
type BootstrapOptions struct {
	NodeID  string
	Cluster string
	// XDSAddresses are host:port of the control plane's ADS server. Several
	// addresses become endpoints of one xds_cluster: Envoy streams from one
	// and fails over to another when the stream breaks. Hostnames (as in
	// docker-compose) make the cluster STRICT_DNS.
	XDSAddresses []string
	// AdminAddress is host:port of Envoy's admin listener. Port 0 lets the
	// kernel choose; Runner learns the real port via --admin-address-path.
	AdminAddress string
	// Delta selects incremental xDS (DELTA_GRPC) instead of state of the world.
	Delta               bool
	InitialFetchTimeout time.Duration
	MaxReconnect        time.Duration
	MaxConnections      int64
	// TLS, when set, makes Envoy dial the control plane over TLS.
	TLS *XDSTLS
	// ProxyTLS says the control plane serves the TLS proxy listener (and the
	// route configuration proxy-cache-tls), so the bootstrap adds that
	// listener's proxy-cache loop: a loop naming a route configuration
	// nobody serves would hold Envoy's start for InitialFetchTimeout.
	ProxyTLS bool
}

// XDSTLS is how an Envoy secures its ADS connection. Files are read by
// Envoy, so they are paths on Envoy's host.
type XDSTLS struct {
	// CAFile verifies the control plane's certificate; required (TLS that
	// verifies nothing would give an attacker the config stream).
	CAFile string
	// CertFile and KeyFile are Envoy's client certificate, for a control
	// plane that requires mTLS (--xds-tls-ca). Both or neither.
	CertFile, KeyFile string
	// SNI is the server name sent in the handshake; empty sends none.
	SNI string
}

//go:embed bootstrap.yaml.tmpl
var bootstrapTemplateText string

var bootstrapTemplate = template.Must(template.New("bootstrap").
	Funcs(template.FuncMap{"q": yamlQuote}).
	Parse(bootstrapTemplateText))

// hostPort is one parsed address for the template.
type hostPort struct {
	Host string
	Port uint32
}

// Bootstrap renders the bootstrap YAML for opts. The result is parsed back
// and validated (protoc-gen-validate rules) before it is returned, so an
// error here is the only way a bad option shows up: Envoy never gets a
// bootstrap it would reject on those grounds.
func Bootstrap(opts BootstrapOptions) ([]byte, error) {
	if opts.NodeID == "" {
		return nil, errors.New("bootstrap: node id is required")
	}
	if opts.Cluster == "" {
		opts.Cluster = DefaultCluster
	}
	if opts.AdminAddress == "" {
		opts.AdminAddress = DefaultAdminAddress
	}
	if len(opts.XDSAddresses) == 0 {
		opts.XDSAddresses = []string{DefaultXDSAddress}
	}
	if opts.InitialFetchTimeout <= 0 {
		opts.InitialFetchTimeout = DefaultInitialFetchTimeout
	}
	if opts.MaxReconnect <= 0 {
		opts.MaxReconnect = DefaultMaxReconnect
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = DefaultMaxConnections
	}

	if t := opts.TLS; t != nil {
		if t.CAFile == "" {
			return nil, errors.New("bootstrap: xDS TLS needs a CA file to verify the control plane")
		}
		if (t.CertFile == "") != (t.KeyFile == "") {
			return nil, errors.New("bootstrap: xDS TLS client certificate and key go together")
		}
	}
	admin, err := parseHostPort(opts.AdminAddress, true)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: admin address: %w", err)
	}
	allIPs := true
	xds := make([]hostPort, 0, len(opts.XDSAddresses))
	for _, a := range opts.XDSAddresses {
		hp, err := parseHostPort(a, false)
		if err != nil {
			return nil, fmt.Errorf("bootstrap: xds address: %w", err)
		}
		if _, err := netip.ParseAddr(hp.Host); err != nil {
			allIPs = false
		}
		xds = append(xds, hp)
	}

	var buf bytes.Buffer
	err = bootstrapTemplate.Execute(&buf, struct {
		BootstrapOptions
		Admin               hostPort
		XDS                 []hostPort
		AllIPs              bool
		InitialFetchTimeout string
		MaxReconnect        string
		CacheStoreLua       string
		LoopReplies         []loopReply
		CacheLoops          []cacheLoop
	}{
		BootstrapOptions:    opts,
		Admin:               admin,
		XDS:                 xds,
		AllIPs:              allIPs,
		InitialFetchTimeout: protoDuration(opts.InitialFetchTimeout),
		MaxReconnect:        protoDuration(opts.MaxReconnect),
		CacheStoreLua:       cacheStoreLua,
		LoopReplies:         loopReplies,
		CacheLoops:          loopsFor(opts),
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: render: %w", err)
	}
	if _, err := ParseBootstrap(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParseBootstrap reads bootstrap YAML into the proto Envoy will read and
// runs its validation rules. Unknown fields are errors, as they are for Envoy.
func ParseBootstrap(y []byte) (*bootstrapv3.Bootstrap, error) {
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: yaml: %w", err)
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(j, b); err != nil {
		return nil, fmt.Errorf("bootstrap: decode: %w", err)
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap: invalid: %w", err)
	}
	return b, nil
}

// parseHostPort splits "host:port"; port 0 is allowed only where the kernel
// may pick (the admin listener), never for an address Envoy dials.
func parseHostPort(addr string, allowZero bool) (hostPort, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return hostPort{}, fmt.Errorf("%q: %w", addr, err)
	}
	if host == "" {
		return hostPort{}, fmt.Errorf("%q: missing host", addr)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return hostPort{}, fmt.Errorf("%q: invalid port %q", addr, portStr)
	}
	if port == 0 && !allowZero {
		return hostPort{}, fmt.Errorf("%q: port 0", addr)
	}
	return hostPort{Host: host, Port: uint32(port)}, nil
}

// yamlQuote renders s as a double-quoted scalar: JSON strings are valid
// YAML, so node ids with colons or quotes cannot break the document.
func yamlQuote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// protoDuration formats d as protobuf JSON does ("1.5s").
func protoDuration(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}
