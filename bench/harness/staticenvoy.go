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

// Hand-written configs of the proxy-overhead scenario, both for a Kong
// route `paths=/o`, strip_path=false, on a service pointing at the
// backend.
const (
	// StaticKong gives a client and the backend what Kong (and so
	// switchboard) gives them: the X-Forwarded-* and X-Real-IP headers,
	// the Host of the service, Kong's retries (5, on connect failure and
	// reset) and timeouts (60 s), path normalisation, Kong's error bodies,
	// header case as sent, no Envoy headers either way. Written as an Envoy
	// expert would for this one route: a literal Host rewrite, a retry
	// policy without a host predicate (one endpoint), Envoy-native
	// X-Forwarded-For/-Proto/-Port, one static cluster. The goal compares
	// switchboard's Envoy with this one.
	StaticKong = "kong"
	// StaticBare is only the routing: one listener, one prefix route, one
	// static cluster; the ceiling for any config of that route.
	StaticBare = "bare"
)

// staticKongTemplate is StaticKong's bootstrap.
var staticKongTemplate = template.Must(template.New("kong").Parse(`
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
          use_remote_address: true
          append_x_forwarded_port: true
          normalize_path: true
          merge_slashes: true
          strip_any_host_port: true
          server_header_transformation: PASS_THROUGH
          stream_idle_timeout: 60s
          upgrade_configs: [{ upgrade_type: websocket }]
          http_protocol_options:
            header_key_format: { proper_case_words: {} }
          local_reply_config:
            mappers:
            - filter: { response_flag_filter: { flags: [NR] } }
              status_code: 404
              body: { inline_string: '{"message":"no Route matched with those values"}' }
              body_format_override:
                text_format_source: { inline_string: "%LOCAL_REPLY_BODY%" }
                content_type: application/json; charset=utf-8
            - filter: { response_flag_filter: { flags: [UH] } }
              status_code: 503
              body: { inline_string: '{"message":"failure to get a peer from the ring-balancer"}' }
              body_format_override:
                text_format_source: { inline_string: "%LOCAL_REPLY_BODY%" }
                content_type: application/json; charset=utf-8
            - filter: { response_flag_filter: { flags: [UF, UC, URX] } }
              status_code: 502
              body: { inline_string: '{"message":"An invalid response was received from the upstream server"}' }
              body_format_override:
                text_format_source: { inline_string: "%LOCAL_REPLY_BODY%" }
                content_type: application/json; charset=utf-8
            - filter: { response_flag_filter: { flags: [UT] } }
              status_code: 504
              body: { inline_string: '{"message":"The upstream server is timing out"}' }
              body_format_override:
                text_format_source: { inline_string: "%LOCAL_REPLY_BODY%" }
                content_type: application/json; charset=utf-8
          route_config:
            name: proxy
            request_headers_to_add:
            - header: { key: x-forwarded-host, value: "%REQ(:AUTHORITY)%" }
              append_action: OVERWRITE_IF_EXISTS_OR_ADD
            - header: { key: x-forwarded-path, value: "%PATH(NQ)%" }
              append_action: OVERWRITE_IF_EXISTS_OR_ADD
            - header: { key: x-real-ip, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" }
              append_action: OVERWRITE_IF_EXISTS_OR_ADD
            request_headers_to_remove: [x-envoy-external-address]
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "{{ .Prefix }}" }
                route:
                  cluster: backend
                  host_rewrite_literal: "{{ .BackendIP }}:{{ .BackendPort }}"
                  timeout: 60s
                  retry_policy:
                    retry_on: connect-failure,refused-stream,reset
                    num_retries: 5
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
              suppress_envoy_headers: true
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 60s
    circuit_breakers:
      thresholds:
      - { max_connections: 1048576, max_pending_requests: 1048576, max_requests: 1048576, max_retries: 1048576 }
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        common_http_protocol_options: { idle_timeout: 60s }
        explicit_http_config: { http_protocol_options: {} }
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: {{ .BackendIP }}, port_value: {{ .BackendPort }} }
`))

// staticBareTemplate is StaticBare's bootstrap.
var staticBareTemplate = template.Must(template.New("bare").Parse(`
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

// StartStaticEnvoy runs Envoy with a static route prefix → backend, from
// the config kind names (StaticKong or StaticBare).
func StartStaticEnvoy(bins Bins, dir, kind, prefix, backend string) (*StaticEnvoy, error) {
	tmpl := staticBareTemplate
	if kind == StaticKong {
		tmpl = staticKongTemplate
	}
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
		if err := tmpl.Execute(&b, map[string]string{
			"AdminPort": adminPort, "ProxyPort": proxyPort, "Prefix": prefix,
			"BackendIP": host, "BackendPort": port,
		}); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "static-envoy-"+kind+".yaml")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		p, err := StartProc(dir, fmt.Sprintf("static-envoy-%s-%d", kind, attempt), bins.Envoy,
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
