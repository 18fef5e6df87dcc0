package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// TestHTTPS_SharedRouteTable: while every route translates the same on
// both listeners, the TLS listener names the plain listener's route
// configuration (Envoy builds one table per change instead of two). A
// first https-only route makes it name its own again, and deleting that
// route shares again; through both switches a steady route answers every
// request on both listeners, and the switched-to table is complete at once.
func TestHTTPS_SharedRouteTable(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{delta: true})
	be := startBackend(t, "shared-echo")
	s.mustAPI("POST", "/services", form("name", "echo", "url", "http://"+be.addr()), 201)
	s.mustAPI("POST", "/services/echo/routes", form("name", "steady", "paths[]", "/steady"), 201)
	tlsClient := s.httpsClient("", false)
	s.converge("the steady route on both listeners", func() (bool, string) {
		return getStatus(s.proxyURL("/steady"), s.proxy) == 200 && getStatus("https://"+s.proxyTLSAddr+"/steady", tlsClient) == 200, "not yet 200"
	})
	s.converge("the TLS listener shares the plain table", func() (bool, string) {
		n := tlsRouteConfig(t, s)
		return n == "proxy", "TLS listener names " + n
	})

	// Steady traffic on both listeners for the whole test, bounded.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sent int
	var failures []string
	for _, target := range []struct {
		url string
		c   *http.Client
	}{{s.proxyURL("/steady"), s.proxy}, {"https://" + s.proxyTLSAddr + "/steady", tlsClient}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(2 * convergeBound)
			for time.Now().Before(deadline) {
				select {
				case <-stop:
					return
				default:
				}
				code := getStatus(target.url, target.c)
				mu.Lock()
				sent++
				if code != 200 {
					failures = append(failures, fmt.Sprintf("%s: %d", target.url, code))
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}

	s.mustAPI("POST", "/services/echo/routes", form("name", "secure", "paths[]", "/secure", "protocols[]", "https"), 201)
	s.converge("the https-only route forwards on TLS and answers 426 on plain HTTP", func() (bool, string) {
		tlsCode, plainCode := getStatus("https://"+s.proxyTLSAddr+"/secure", tlsClient), getStatus(s.proxyURL("/secure"), s.proxy)
		return tlsCode == 200 && plainCode == 426, fmt.Sprintf("TLS %d, plain %d", tlsCode, plainCode)
	})
	if n := tlsRouteConfig(t, s); n != "proxy-tls" {
		t.Errorf("with an https-only route the TLS listener names %q, want proxy-tls", n)
	}

	s.mustAPI("DELETE", "/routes/secure", nil, 204)
	s.converge("sharing again once the https-only route is gone", func() (bool, string) {
		n := tlsRouteConfig(t, s)
		return n == "proxy" && getStatus("https://"+s.proxyTLSAddr+"/secure", tlsClient) == 404, "TLS listener names " + n
	})
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d steady requests failed while the TLS listener switched tables: %s", len(failures), sent,
			strings.Join(failures[:min(len(failures), 10)], "; "))
	}
	t.Logf("%d steady requests, all 200", sent)
}

// getStatus GETs url with c; 0 for a transport error.
func getStatus(url string, c *http.Client) int {
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// tlsRouteConfig is the route configuration Envoy's active TLS listener
// names, from its config_dump.
func tlsRouteConfig(t *testing.T, s *stack) string {
	t.Helper()
	ea := testenv.NewEnvoyAdmin(s.envoyAdminAddr)
	defer ea.Close()
	body, err := ea.Get("/config_dump?resource=dynamic_listeners")
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Configs []struct {
			Name        string `json:"name"`
			ActiveState *struct {
				Listener struct {
					FilterChains       []filterChainDump `json:"filter_chains"`
					DefaultFilterChain *filterChainDump  `json:"default_filter_chain"`
				} `json:"listener"`
			} `json:"active_state"`
		} `json:"configs"`
	}
	if err := json.Unmarshal([]byte(body), &dump); err != nil {
		t.Fatalf("config_dump: %v", err)
	}
	for _, c := range dump.Configs {
		if c.Name != "proxy-tls" || c.ActiveState == nil {
			continue
		}
		chains := c.ActiveState.Listener.FilterChains
		if d := c.ActiveState.Listener.DefaultFilterChain; d != nil {
			chains = append(chains, *d)
		}
		for _, fc := range chains {
			for _, f := range fc.Filters {
				if n := f.TypedConfig.RDS.RouteConfigName; n != "" {
					return n
				}
			}
		}
	}
	return ""
}

// filterChainDump is the part of a filter chain tlsRouteConfig reads.
type filterChainDump struct {
	Filters []struct {
		TypedConfig struct {
			RDS struct {
				RouteConfigName string `json:"route_config_name"`
			} `json:"rds"`
		} `json:"typed_config"`
	} `json:"filters"`
}
