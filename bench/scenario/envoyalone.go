package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
	"github.com/switchboard-gw/switchboard/internal/adstest"
)

// Envoy alone
//
// Envoy's RDS update_duration covers only part of what Envoy does with a
// route configuration: receiving and decoding it, and handing the new
// table to the worker threads, come on top (at 5,000 routes the main
// thread spends about twice update_duration per update). envoyAlone is
// Envoy's whole time for the same work without a control plane: a second
// Envoy (same binary, same worker count) reads the stack's own route
// configuration from a file (binary proto, path_config_source), and each
// sample adds one direct-response route to it, as the propagation run adds
// one route per sample, timed from the file's rename to the first 200
// through its listener, polled as pollUntil200 does. It runs under the same
// background load as the run it stands beside, in two ways:
//   - aimed at the stack's Envoy, so that both Envoys compete for the same
//     cores while the reference's own workers idle (the figure of earlier
//     runs);
//   - carried by the reference itself, its steady route forwarding to the
//     run's backend (a static cluster of the same name), with the stack
//     idle: Envoy's own time to apply the configuration under the same
//     traffic, the like-for-like reference of the hostless goal
//     (docs/decisions.md, 2026-12-03).

// envoyAloneSamples is how many route additions envoyAlone times: as many
// as the run it stands beside (Sizes.PropNew), so that both p99s are the
// same rank. With 60 against 200, the reference's nearest-rank p99 was its
// maximum and the run's its third-largest sample.
func envoyAloneSamples(sz Sizes) int { return sz.PropNew }

// envoyAlone measures Envoy's own time to apply st's route configuration
// plus one route, samples times. With backend ("host:port") set, the
// reference serves the background load on its steady route (forwarded to
// backend) while it is measured.
func envoyAlone(env *Env, st *harness.Stack, samples int, backend string) (load.Summary, error) {
	rc, err := fetchRouteConfig(st.XDSAddr)
	if err != nil {
		return load.Summary{}, err
	}
	dir, err := os.MkdirTemp(env.WorkDir, "envoy-alone-")
	if err != nil {
		return load.Summary{}, err
	}
	watched := filepath.Join(dir, "rds")
	if err := os.Mkdir(watched, 0o700); err != nil {
		return load.Summary{}, err
	}
	rdsFile := filepath.Join(watched, "routes.pb")
	if err := writeRouteFile(dir, rdsFile, rc, 0); err != nil {
		return load.Summary{}, err
	}
	addrs, err := harness.FreePorts(2)
	if err != nil {
		return load.Summary{}, err
	}
	proxy := addrs[0]
	steadyCluster := ""
	if backend != "" {
		if steadyCluster = routeCluster(catchAll(rc), steadyPath); steadyCluster == "" {
			return load.Summary{}, fmt.Errorf("envoy alone: no route %s in the route configuration", steadyPath)
		}
	}
	boot, err := aloneBootstrap(addrs[0], addrs[1], rdsFile, watched, steadyCluster, backend)
	if err != nil {
		return load.Summary{}, err
	}
	bootPath := filepath.Join(dir, "envoy.json")
	if err := os.WriteFile(bootPath, boot, 0o600); err != nil {
		return load.Summary{}, err
	}
	p, err := harness.StartProc(dir, "envoy-alone", env.Bins.Envoy, "-c", bootPath, "--use-dynamic-base-id", "--log-level", "warn")
	if err != nil {
		return load.Summary{}, err
	}
	defer p.Stop(5 * time.Second)

	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	defer c.CloseIdleConnections()
	// Serving: the stack's configuration routes /steady (to a cluster this
	// Envoy lacks, so not 200; any answer will do).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := harness.Poll(ctx, 10*time.Millisecond, func() (bool, error) {
		code := statusHost(c, "http://"+proxy+steadyPath, "")
		return code > 0 && (backend == "" || code == http.StatusOK), nil
	}); err != nil {
		return load.Summary{}, fmt.Errorf("envoy alone: %w", err)
	}
	if backend != "" {
		bg := load.Start(load.Options{Name: "background", URL: "http://" + proxy + steadyPath, Rate: env.Sizes.LoadRate,
			Duration: 5 * time.Minute, Warmup: 0})
		defer func() {
			r := bg.Stop()
			env.logf("  propagation: Envoy alone's own background: %.0f req/s, %d failed", r.Rate, r.Failed())
		}()
		time.Sleep(time.Second) // as propagationRun: let the load reach its rate
	}
	vh := catchAll(rc)
	if vh == nil {
		return load.Summary{}, fmt.Errorf("envoy alone: the route configuration has no catch-all virtual host")
	}
	var lat []time.Duration
	for i := range samples {
		path := fmt.Sprintf("/alone/%04d", i)
		vh.Routes = append([]*routev3.Route{{
			Name:   fmt.Sprintf("alone-%04d", i),
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: path}},
			Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200}},
		}}, vh.Routes...)
		if err := writeRouteFile(dir, rdsFile, rc, i+1); err != nil {
			return load.Summary{}, err
		}
		renamed := time.Now()
		d, ok := pollUntil200(c, "http://"+proxy+path, "", renamed)
		if !ok {
			return load.Summary{}, fmt.Errorf("envoy alone: %s never answered 200", path)
		}
		lat = append(lat, d)
	}
	return load.Summarize(lat), nil
}

// fetchRouteConfig reads the proxy listener's route configuration from
// the control plane at xdsAddr, as one more (simulated) Envoy.
func fetchRouteConfig(xdsAddr string) (*routev3.RouteConfiguration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := adstest.Dial(ctx, xdsAddr, adstest.Options{NodeID: "sbbench-envoy-alone", Delta: true})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var rc *routev3.RouteConfiguration
	err = c.WaitUntil(ctx, func() bool {
		res, err := c.Resources(resourcev3.RouteType)
		if err != nil {
			return false
		}
		rc, _ = res["proxy"].(*routev3.RouteConfiguration)
		return rc != nil
	})
	if err != nil {
		return nil, fmt.Errorf("envoy alone: route configuration proxy: %w", err)
	}
	return proto.Clone(rc).(*routev3.RouteConfiguration), nil
}

// writeRouteFile replaces rdsFile by an RDS response holding rc, through a
// rename, which Envoy's watched directory picks up.
func writeRouteFile(dir, rdsFile string, rc *routev3.RouteConfiguration, version int) error {
	a, err := anypb.New(rc)
	if err != nil {
		return err
	}
	b, err := proto.Marshal(&discoveryv3.DiscoveryResponse{VersionInfo: strconv.Itoa(version), TypeUrl: a.GetTypeUrl(), Resources: []*anypb.Any{a}})
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "routes.pb.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, rdsFile)
}

// steadyPath is the background load's route (Propagation creates it).
const steadyPath = "/steady"

// routeCluster is the cluster of vh's route matching the prefix path, ""
// for none.
func routeCluster(vh *routev3.VirtualHost, path string) string {
	for _, r := range vh.GetRoutes() {
		if r.GetMatch().GetPrefix() == path {
			return r.GetRoute().GetCluster()
		}
	}
	return ""
}

func catchAll(rc *routev3.RouteConfiguration) *routev3.VirtualHost {
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			if d == "*" {
				return vh
			}
		}
	}
	return nil
}

// aloneBootstrap is the second Envoy's: one listener whose HCM takes its
// route configuration from rdsFile, the router its only filter (the
// configuration's per-filter settings are built all the same), and, with
// cluster set, a static cluster of that name leading to backend.
func aloneBootstrap(proxyAddr, adminAddr, rdsFile, watched, cluster, backend string) ([]byte, error) {
	proxyHost, proxyPort, err := splitHostPort(proxyAddr)
	if err != nil {
		return nil, err
	}
	adminHost, adminPort, err := splitHostPort(adminAddr)
	if err != nil {
		return nil, err
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: "alone",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: "proxy",
			ConfigSource: &corev3.ConfigSource{
				ResourceApiVersion: corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_PathConfigSource{PathConfigSource: &corev3.PathConfigSource{
					Path: rdsFile, WatchedDirectory: &corev3.WatchedDirectory{Path: watched},
				}},
			},
		}},
	}
	router, err := anypb.New(&routerv3.Router{})
	if err != nil {
		return nil, err
	}
	hcm.HttpFilters = []*hcmv3.HttpFilter{{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}}}
	hcmAny, err := anypb.New(hcm)
	if err != nil {
		return nil, err
	}
	l := &listenerv3.Listener{
		Name: "alone",
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: proxyHost, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: proxyPort},
		}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcmAny},
		}}}},
	}
	lj, err := protojson.Marshal(l)
	if err != nil {
		return nil, err
	}
	static := map[string]any{"listeners": []json.RawMessage{lj}}
	if cluster != "" {
		beHost, bePort, err := splitHostPort(backend)
		if err != nil {
			return nil, err
		}
		c := &clusterv3.Cluster{
			Name:                 cluster,
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
			LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: cluster, Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
						Address: beHost, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: bePort},
					}}},
				}}}},
			}}},
		}
		cj, err := protojson.Marshal(c)
		if err != nil {
			return nil, err
		}
		static["clusters"] = []json.RawMessage{cj}
	}
	return json.Marshal(map[string]any{
		"node":             map[string]any{"id": "sbbench-envoy-alone", "cluster": "sbbench"},
		"admin":            map[string]any{"address": map[string]any{"socket_address": map[string]any{"address": adminHost, "port_value": adminPort}}},
		"static_resources": static,
	})
}

func splitHostPort(addr string) (string, uint32, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.ParseUint(p, 10, 16)
	return h, uint32(n), err
}
