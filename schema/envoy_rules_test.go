package schema

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestEnvoyRules_Values(t *testing.T) {
	cases := []struct {
		name string
		got  string
		bad  bool
	}{
		{"plain header value", HeaderValueProblem("v1"), false},
		{"CR", HeaderValueProblem("a\rb"), true},
		{"LF", HeaderValueProblem("a\nb"), true},
		{"NUL", HeaderValueProblem("a\x00b"), true},
		{"path", PathBytesProblem("/a/b"), false},
		{"NUL path", PathBytesProblem("/a\x00"), true},
		{"DEL path", PathBytesProblem("/a\x7f"), true},
		{"short plain path", RoutePlainPathProblem("/" + strings.Repeat("p", 90)), false},
		{"long plain path", RoutePlainPathProblem("/" + strings.Repeat("p", 100)), true},
		{"interval off", HealthCheckIntervalProblem(0), false},
		{"interval 1ms", HealthCheckIntervalProblem(0.001), false},
		{"interval 0.4ms", HealthCheckIntervalProblem(0.0004), true},
		{"negative is the schema's", HealthCheckIntervalProblem(-1), false},
		{"small regex path", RoutePathRegexProblem(`/users/(?<id>\d+)`), false},
		{"big regex path", RoutePathRegexProblem(`/static/[a-zA-Z0-9._-]{0,40}/`), true},
		{"syntax error is the schema's", RoutePathRegexProblem(`/a(`), false},
		{"header values", RouteHeaderValuesProblem([]string{"a", "b", "~*^c[0-9]+$"}), false},
		{"header regex too big", RouteHeaderValuesProblem([]string{"~*[a-z0-9]{60}"}), true},
		{"standard methods", RouteMethodsProblem([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}), false},
		{"too many methods", RouteMethodsProblem([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK"}), true},
	}
	for _, c := range cases {
		if (c.got != "") != c.bad {
			t.Errorf("%s: got %q, want bad=%v", c.name, c.got, c.bad)
		}
	}
}

func TestEnvoyRules_HeaderRegexMatchesTranslator(t *testing.T) {
	got := RouteHeaderRegex([]string{"a.b", "~*^x+$"})
	if want := `(?i)(?:a\.b|.*(?:^x+$).*)`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if regexpQuote(`a.b+*?()|[]{}^$\`) != regexp.QuoteMeta(`a.b+*?()|[]{}^$\`) {
		t.Fatal("regexpQuote differs from regexp.QuoteMeta")
	}
}

// TestEnvoyRules_ProgramSizeAgainstEnvoy calibrates RE2ProgramSize with the
// real Envoy (`--mode validate`): every regex the estimate accepts, Envoy
// accepts too, so an accepted route is never NACKed for its regex. Skipped
// without an Envoy binary (ENVOY_BIN or ../bin/envoy).
func TestEnvoyRules_ProgramSizeAgainstEnvoy(t *testing.T) {
	bin := os.Getenv("ENVOY_BIN")
	if bin == "" {
		if p, err := filepath.Abs(filepath.Join("..", "bin", "envoy")); err == nil {
			if _, err := os.Stat(p); err == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		t.Skip("no Envoy binary: set ENVOY_BIN or run make envoy")
	}
	res := []string{
		"/x{90}", "/x{94}", "/x{95}", "/x{96}", "/static/[a-zA-Z0-9._-]{0,15}/", "/static/[a-zA-Z0-9._-]{0,16}/",
		`(?:/users/(?P<id>\d+)).*`, `\pL{8}`, `\pL{12}`, `[^/]{40}`, `.{40}`, `\w{30}`, `\s{30}`, `(ab|cd){9}`,
		`(?i)[a-z]{40}`, `(?:/api/v[0-9]+/(users|groups)/[^/]+).*`, `[é-ü]{10}`, `[^/]{48}`, `.{48}`, `(?i)[a-z]{96}`, `\w{32}`, `\pL{13}`, `\pL{14}`, `[ace]{32}`,
	}
	for _, re := range res {
		size, err := RE2ProgramSize(re)
		if err != nil {
			t.Fatalf("%s: %v", re, err)
		}
		envoySays := envoyProgramSize(t, bin, re)
		t.Logf("%-45s estimate %3d envoy %s", re, size, envoySays)
		if size <= EnvoyMaxProgramSize && envoySays != "ok" {
			t.Errorf("%s: estimate %d accepts, Envoy refuses (program size %s)", re, size, envoySays)
		}
	}
}

// envoyProgramSize returns "ok" when Envoy accepts re as a route's
// safe_regex, else the program size it reports.
func envoyProgramSize(t *testing.T, bin, re string) string {
	t.Helper()
	hcm := map[string]any{
		"@type":        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
		"stat_prefix":  "x",
		"http_filters": []any{map[string]any{"name": "envoy.filters.http.router", "typed_config": map[string]any{"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}},
		"route_config": map[string]any{"virtual_hosts": []any{map[string]any{"name": "v", "domains": []any{"*"},
			"routes": []any{map[string]any{"match": map[string]any{"safe_regex": map[string]any{"regex": re}}, "direct_response": map[string]any{"status": 200}}}}}},
	}
	cfg := map[string]any{"static_resources": map[string]any{"listeners": []any{map[string]any{
		"name":          "l",
		"address":       map[string]any{"socket_address": map[string]any{"address": "127.0.0.1", "port_value": 10000}},
		"filter_chains": []any{map[string]any{"filters": []any{map[string]any{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}}}},
	}}}}
	b, _ := json.Marshal(cfg)
	file := filepath.Join(t.TempDir(), "cfg.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--mode", "validate", "-c", file, "--log-level", "error", "--use-dynamic-base-id").CombinedOutput()
	if err == nil {
		return "ok"
	}
	m := regexp.MustCompile(`program size of (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("envoy refused %q for another reason: %s", re, out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return strconv.Itoa(n)
}
