package translator

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-gw/switchboard/store"
)

// TestRouteLayouts_Envoy checks on the real Envoy that the two route
// layouts (route_table.go) pick the same Kong route for every request: the
// per-host virtual hosts, which hold copies of the routes without hosts,
// and the single virtual host, which holds every route once with host
// conditions. Each route answers with its name (a direct response), one
// listener per layout, and a grid of hosts × paths × methods × headers is
// sent to both. Skipped without an Envoy binary (as
// TestTranslate_EnvoyAccepts).
func TestRouteLayouts_Envoy(t *testing.T) {
	bin := envoyBinary(t)
	in := layoutInput()
	tr := newTranslator(in)
	var routes []*translatedRoute
	for _, r := range sortedBy(in.Routes, func(r *store.Route) string { return r.ID }) {
		if x := tr.translateRoute(r, tr.opts.listenerSpecs()[0]); x != nil {
			routes = append(routes, x)
		}
	}
	if len(tr.errs) > 0 {
		t.Fatalf("translate: %v", tr.errs)
	}
	table := newRouteTable(RouteConfigName, routes)
	perHost, single := table.render(false), table.render(true)
	if n := len(single.GetVirtualHosts()); n != 1 {
		t.Fatalf("single layout has %d virtual hosts", n)
	}

	ports := freePorts(t, 2)
	var listeners []json.RawMessage
	for i, rc := range []*routev3.RouteConfiguration{perHost, single} {
		listeners = append(listeners, marshal(t, answeringListener(t, fmt.Sprintf("layout-%d", i), ports[i], rc)))
	}
	boot, err := json.Marshal(map[string]any{
		"node":             map[string]any{"id": "layouts", "cluster": "layouts"},
		"admin":            map[string]any{"address": map[string]any{"socket_address": map[string]any{"address": "127.0.0.1", "port_value": 0}}},
		"static_resources": map[string]any{"listeners": listeners},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "bootstrap.json")
	if err := os.WriteFile(file, boot, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", file, "--log-level", "warn", "--use-dynamic-base-id", "--concurrency", "1")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cancel(); <-exited })

	// A bare HTTP/1.1 exchange over net (this package may not import
	// net/http): one request per connection, answered and closed by Envoy.
	ask := func(port int, host, path, method string, headers map[string]string) string {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if err != nil {
			return "error: " + err.Error()
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		var req strings.Builder
		fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, host)
		for k, v := range headers {
			fmt.Fprintf(&req, "%s: %s\r\n", k, v)
		}
		req.WriteString("\r\n")
		if _, err := io.WriteString(conn, req.String()); err != nil {
			return "error: " + err.Error()
		}
		// Read exactly the response: Envoy keeps the connection open for
		// its delayed close after answering.
		br := bufio.NewReader(conn)
		status, err := br.ReadString('\n')
		if err != nil {
			return "error: " + err.Error()
		}
		length := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return "error: " + err.Error()
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "content-length") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(br, body); err != nil {
			return "error: " + err.Error()
		}
		if _, code, ok := strings.Cut(status, " "); ok && len(code) >= 3 {
			return code[:3] + " " + string(body)
		}
		return "error: no status line in " + strconv.Quote(status)
	}
	// Both listeners up: poll with a bound.
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range ports {
		for strings.HasPrefix(ask(p, "x", "/", "GET", nil), "error: ") {
			if time.Now().After(deadline) {
				t.Fatal("Envoy did not start listening within 30s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	hosts := []string{"api.example.com", "API.Example.COM", "foo.example.com", "a.b.example.com", "api.other", "other.test", "nothing.test", "upper.example.com"}
	paths := []string{"/", "/a", "/a/x", "/api/v1/x", "/api/v2", "/h", "/m", "/zzz", "/health"}
	headerSets := []map[string]string{nil, {"x-version": "v1"}, {"x-version": "V1", "x-a": "1", "x-b": "2"}}
	seen := map[string]bool{}
	for _, h := range hosts {
		for _, p := range paths {
			for _, m := range []string{"GET", "POST"} {
				for _, hs := range headerSets {
					a, b := ask(ports[0], h, p, m, hs), ask(ports[1], h, p, m, hs)
					if a != b {
						t.Errorf("%s %s%s %v: per-host layout answers %q, single layout %q", m, h, p, hs, a, b)
					}
					seen[a] = true
				}
			}
		}
	}
	// The grid must reach most routes, or it proves little.
	if len(seen) < len(in.Routes)*2/3 {
		t.Errorf("the grid reached only %d distinct answers for %d routes: %v", len(seen), len(in.Routes), seen)
	}
}

// layoutInput mixes hosts (exact, wildcards, several, upper case, host
// only) with routes without hosts of every weight.
func layoutInput() *Input {
	svc := defaultService()
	svc.ID, svc.Host = "svc", "10.0.0.1"
	in := &Input{Services: []*store.Service{svc}}
	add := func(name string, hosts, paths, methods []string, headers map[string][]string, regexPriority int64) {
		r := defaultRoute()
		r.ID, r.Name, r.CreatedAt = name, &name, int64(len(in.Routes))
		r.Hosts, r.Paths, r.Methods, r.Headers, r.RegexPriority = hosts, paths, methods, headers, regexPriority
		r.Service = &store.ForeignKey{ID: svc.ID}
		in.Routes = append(in.Routes, r)
	}
	add("exact-a", []string{"api.example.com"}, []string{"/a"}, nil, nil, 0)
	add("suffix-a", []string{"*.example.com"}, []string{"/a"}, nil, nil, 0)
	add("prefix-api", []string{"api.*"}, []string{"/api"}, nil, nil, 0)
	add("two-hosts", []string{"api.example.com", "other.test"}, []string{"/h"}, nil, nil, 0)
	add("host-only", []string{"other.test"}, nil, nil, nil, 0)
	add("wild-only", []string{"*.example.com"}, nil, []string{"POST"}, nil, 0)
	add("upper", []string{"UPPER.example.com"}, []string{"/m"}, nil, nil, 0)
	add("exact-regex", []string{"api.example.com"}, []string{`~/api/v\d+`}, nil, nil, 0)
	add("hostless-a-long", nil, []string{"/a/x"}, nil, nil, 0)
	add("hostless-root", nil, []string{"/"}, nil, nil, 0)
	add("hostless-get", nil, nil, []string{"GET"}, nil, 0)
	add("hostless-header", nil, []string{"/h"}, nil, map[string][]string{"x-version": {"v1"}}, 0)
	add("hostless-three", nil, []string{"/h"}, []string{"GET"}, map[string][]string{"x-a": {"1"}, "x-b": {"2"}}, 0)
	add("hostless-regex", nil, []string{`~/api/v1/.*`}, nil, nil, 10)
	add("hostless-method-path", nil, []string{"/m"}, []string{"POST"}, nil, 0)
	return in
}

// answeringListener is the translator's listener on 127.0.0.1:port with rc
// inline, every route answering 200 with its name.
func answeringListener(t *testing.T, name string, port int, rc *routev3.RouteConfiguration) *listenerv3.Listener {
	t.Helper()
	rc = proto.Clone(rc).(*routev3.RouteConfiguration)
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			r.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
				Status: 200,
				Body:   &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: r.GetName()}},
			}}
			r.RequestHeadersToAdd, r.ResponseHeadersToAdd = nil, nil
		}
	}
	l, err := buildListener(Options{ProxyAddress: "127.0.0.1", ProxyPort: uint32(port)}.withDefaults().listenerSpecs()[0])
	if err != nil {
		t.Fatal(err)
	}
	l.Name = name
	hcm := listenerHCM(t, l)
	hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: rc}
	l.FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)}
	return l
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return out
}

// envoyBinary finds Envoy as TestTranslate_EnvoyAccepts does.
func envoyBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("ENVOY_BIN"); bin != "" {
		return bin
	}
	if p, err := filepath.Abs(filepath.Join("..", "bin", "envoy")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Envoy binary: set ENVOY_BIN or run make envoy")
	}
	t.Skip("no Envoy binary: set ENVOY_BIN or run make envoy")
	return ""
}
