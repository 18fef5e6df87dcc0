package testenv

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// EnvoyAdmin reads an Envoy's admin interface.
type EnvoyAdmin struct {
	addr string
	c    *http.Client
}

// NewEnvoyAdmin returns a reader for the admin listener at addr.
func NewEnvoyAdmin(addr string) *EnvoyAdmin {
	return &EnvoyAdmin{addr: addr, c: &http.Client{Timeout: 10 * time.Second}}
}

// Get returns the body of path (with its query) on the admin listener; a
// status other than 200 is an error.
func (e *EnvoyAdmin) Get(path string) (string, error) { return get(e.c, "http://"+e.addr+path) }

// Stats returns the counters and gauges whose names match filter (a regex
// handed to Envoy's /stats?filter=).
func (e *EnvoyAdmin) Stats(filter string) (map[string]int64, error) {
	body, err := get(e.c, "http://"+e.addr+"/stats?filter="+url.QueryEscape(filter))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

// HostStatus is one host of one cluster in /clusters?format=json, with the
// health flags exactly as Envoy reports them (failed_active_health_check,
// failed_outlier_check, eds_health_status, …).
type HostStatus struct {
	Cluster string
	Address string // ip:port
	Health  map[string]any
}

// HostStatuses returns the hosts of the clusters whose names start with
// clusterPrefix.
func (e *EnvoyAdmin) HostStatuses(clusterPrefix string) ([]HostStatus, error) {
	body, err := get(e.c, "http://"+e.addr+"/clusters?format=json")
	if err != nil {
		return nil, err
	}
	var cs struct {
		ClusterStatuses []struct {
			Name         string `json:"name"`
			HostStatuses []struct {
				Address struct {
					SocketAddress struct {
						Address   string `json:"address"`
						PortValue int    `json:"port_value"`
					} `json:"socket_address"`
				} `json:"address"`
				HealthStatus map[string]any `json:"health_status"`
			} `json:"host_statuses"`
		} `json:"cluster_statuses"`
	}
	if err := json.Unmarshal([]byte(body), &cs); err != nil {
		return nil, fmt.Errorf("/clusters: %w", err)
	}
	var out []HostStatus
	for _, c := range cs.ClusterStatuses {
		if !strings.HasPrefix(c.Name, clusterPrefix) {
			continue
		}
		for _, h := range c.HostStatuses {
			sa := h.Address.SocketAddress
			out = append(out, HostStatus{Cluster: c.Name, Address: net.JoinHostPort(sa.Address, strconv.Itoa(sa.PortValue)),
				Health: h.HealthStatus})
		}
	}
	return out, nil
}

// HostHealth is one host of /clusters?format=json, with the flags the
// benchmarks read.
type HostHealth struct {
	Address         string
	FailedActiveHC  bool
	FailedOutlier   bool
	EDSHealthStatus string
}

// Hosts returns the hosts of the clusters whose names start with prefix.
func (e *EnvoyAdmin) Hosts(clusterPrefix string) ([]HostHealth, error) {
	hs, err := e.HostStatuses(clusterPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]HostHealth, 0, len(hs))
	for _, h := range hs {
		eds, _ := h.Health["eds_health_status"].(string)
		out = append(out, HostHealth{Address: h.Address, EDSHealthStatus: eds,
			FailedActiveHC: h.Health["failed_active_health_check"] == true,
			FailedOutlier:  h.Health["failed_outlier_check"] == true})
	}
	return out, nil
}

// Close drops idle connections.
func (e *EnvoyAdmin) Close() { e.c.CloseIdleConnections() }

// EndpointWeights returns, from /config_dump, the load-balancing weight of
// every endpoint of the clusters whose names match nameRegex, by address
// (ip:port). Only the matching ClusterLoadAssignments are dumped; Envoy
// matches the whole name, so the regex must cover all of it.
func (e *EnvoyAdmin) EndpointWeights(nameRegex string) (map[string]int, error) {
	body, err := get(e.c, "http://"+e.addr+"/config_dump?include_eds&resource=dynamic_endpoint_configs&name_regex="+url.QueryEscape(nameRegex))
	if err != nil {
		return nil, err
	}
	var dump struct {
		Configs []struct {
			EndpointConfig struct {
				Endpoints []struct {
					LbEndpoints []struct {
						Endpoint struct {
							Address struct {
								SocketAddress struct {
									Address   string `json:"address"`
									PortValue int    `json:"port_value"`
								} `json:"socket_address"`
							} `json:"address"`
						} `json:"endpoint"`
						LoadBalancingWeight int `json:"load_balancing_weight"`
					} `json:"lb_endpoints"`
				} `json:"endpoints"`
			} `json:"endpoint_config"`
		} `json:"configs"`
	}
	if err := json.Unmarshal([]byte(body), &dump); err != nil {
		return nil, fmt.Errorf("/config_dump: %w", err)
	}
	out := map[string]int{}
	for _, c := range dump.Configs {
		for _, l := range c.EndpointConfig.Endpoints {
			for _, ep := range l.LbEndpoints {
				a := ep.Endpoint.Address.SocketAddress
				out[fmt.Sprintf("%s:%d", a.Address, a.PortValue)] = ep.LoadBalancingWeight
			}
		}
	}
	return out, nil
}
