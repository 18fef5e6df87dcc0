package harness

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// staticEnvoyTemplate is the hand-written config of the proxy-overhead
// scenario: one listener, one prefix route, one static cluster — the
// routing switchboard generates for a Kong route `paths=/o` with
// strip_path=false on a service pointing at the backend, without the Kong
// compatibility extras (X-Forwarded-* and X-Real-IP headers, local-reply
// rewriting, retries, path normalisation). It is the ceiling for what any
// control plane could push for that route.
var staticEnvoyTemplate = template.Must(template.New("static").Parse(`
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: {{ .AdminPort }} }
static_resources:
  listeners:
  - name: proxy
    address:
      socket_address: { address: 127.0.0.1, port_value: {{ .ProxyPort }} }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: proxy
          route_config:
            name: proxy
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "{{ .Prefix }}" }
                route: { cluster: backend }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
              suppress_envoy_headers: true
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 5s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: {{ .BackendIP }}, port_value: {{ .BackendPort }} }
`))

// StaticEnvoy is an Envoy run from a hand-written bootstrap.
type StaticEnvoy struct {
	Proc      *Proc
	ProxyAddr string
	AdminAddr string
}

// StartStaticEnvoy runs Envoy with a static route prefix → backend.
func StartStaticEnvoy(bins Bins, dir, prefix, backend string) (*StaticEnvoy, error) {
	host, port, err := net.SplitHostPort(backend)
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := 1; attempt <= 3; attempt++ {
		ports, err := FreePorts(2)
		if err != nil {
			return nil, err
		}
		_, adminPort, _ := net.SplitHostPort(ports[0])
		_, proxyPort, _ := net.SplitHostPort(ports[1])
		var b strings.Builder
		if err := staticEnvoyTemplate.Execute(&b, map[string]string{
			"AdminPort": adminPort, "ProxyPort": proxyPort, "Prefix": prefix,
			"BackendIP": host, "BackendPort": port,
		}); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "static-envoy.yaml")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		p, err := StartProc(dir, fmt.Sprintf("static-envoy-%d", attempt), bins.Envoy,
			"-c", path, "--use-dynamic-base-id", "--log-level", "warn")
		if err != nil {
			return nil, err
		}
		e := &StaticEnvoy{Proc: p, ProxyAddr: ports[1], AdminAddr: ports[0]}
		if last = waitEnvoyReady(e.AdminAddr, e.ProxyAddr, p); last == nil {
			return e, nil
		}
		bind := p.BindFailed()
		p.Stop(5 * time.Second)
		if !bind {
			break
		}
	}
	return nil, fmt.Errorf("static envoy: %w", last)
}
