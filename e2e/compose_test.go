package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// composeFile is the subset of the Compose spec the checks read. Fields
// with several spellings in the spec (short and long syntax) stay raw.
type composeFile struct {
	Services map[string]composeService `json:"services"`
	Volumes  map[string]any            `json:"volumes"`
}

type composeService struct {
	Image      string          `json:"image"`
	Build      json.RawMessage `json:"build"`
	Command    json.RawMessage `json:"command"`
	Entrypoint json.RawMessage `json:"entrypoint"`
	Ports      []string        `json:"ports"`
	Volumes    []string        `json:"volumes"`
	DependsOn  json.RawMessage `json:"depends_on"`
	Networks   json.RawMessage `json:"networks"`
}

// argv returns a command or entrypoint as a list (a string is one item).
func argv(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("command %s is neither a string nor a list", raw)
	}
	return []string{s}
}

// aliases returns the service's network aliases on any network.
func (c composeService) aliases() []string {
	var nets map[string]struct {
		Aliases []string `json:"aliases"`
	}
	_ = json.Unmarshal(c.Networks, &nets)
	var out []string
	for _, n := range nets {
		out = append(out, n.Aliases...)
	}
	return out
}

// flagValue finds --name=value or --name value in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// readRepoFile reads a file at the repository root.
func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// makeVar reads `NAME := value` from the Makefile.
func makeVar(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `\s*:?=\s*(\S+)`).FindStringSubmatch(readRepoFile(t, "Makefile"))
	if m == nil {
		t.Fatalf("Makefile has no %s", name)
	}
	return m[1]
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	// Strict about YAML (duplicate keys), lenient about fields: the Compose
	// spec has far more than this test reads.
	j, err := yaml.YAMLToJSONStrict([]byte(readRepoFile(t, "docker-compose.yaml")))
	if err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	var c composeFile
	if err := json.Unmarshal(j, &c); err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	return c
}

// TestCompose checks docker-compose.yaml's structure (Docker cannot run
// here): the services, the published ports, the Envoy image at the pinned
// version, and the bootstrap wiring from switchboard to the Envoy sidecar.
func TestCompose(t *testing.T) {
	c := loadCompose(t)
	svc := func(name string) composeService {
		t.Helper()
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("docker-compose.yaml has no service %q", name)
		}
		return s
	}
	sb, ev, boot := svc("switchboard"), svc("envoy"), svc("envoy-bootstrap")

	// The control plane: built from the repo's Dockerfile, Kong's Admin port.
	if len(sb.Build) == 0 {
		t.Error("switchboard: no build section (the image comes from ./Dockerfile)")
	}
	serve := argv(t, sb.Command)
	if len(serve) == 0 || serve[0] != "serve" {
		t.Fatalf("switchboard command = %v, want serve …", serve)
	}
	for flag, want := range map[string]string{"admin-listen": "0.0.0.0:8001", "xds-listen": "0.0.0.0:18000"} {
		if got, _ := flagValue(serve, flag); got != want {
			t.Errorf("switchboard --%s = %q, want %q", flag, got, want)
		}
	}
	if !slices.Contains(sb.Ports, "8001:8001") {
		t.Errorf("switchboard ports = %v, want 8001:8001 published", sb.Ports)
	}

	// The Envoy sidecar: the official image at the Makefile's pin.
	if want := "envoyproxy/envoy:v" + makeVar(t, "ENVOY_VERSION"); ev.Image != want {
		t.Errorf("envoy image = %q, want %q (Makefile ENVOY_VERSION)", ev.Image, want)
	}
	proxyListen, _ := flagValue(serve, "proxy-listen")
	if proxyListen == "" {
		proxyListen = "0.0.0.0:8000" // serve's default
	}
	if !strings.HasSuffix(proxyListen, ":8000") || !slices.Contains(ev.Ports, "8000:8000") {
		t.Errorf("proxy: --proxy-listen %q, envoy ports %v; want Envoy's :8000 published as 8000", proxyListen, ev.Ports)
	}

	// Bootstrap wiring: envoy-bootstrap writes the file that envoy reads,
	// through one named volume, before envoy starts.
	envoyArgs := argv(t, ev.Command)
	bootstrapPath, ok := flagValueShort(envoyArgs, "-c")
	if !ok {
		t.Fatalf("envoy command %v has no -c <bootstrap>", envoyArgs)
	}
	vol := volumeFor(t, ev.Volumes, bootstrapPath)
	if vol == "" {
		t.Fatalf("envoy: no volume holds %s (volumes %v)", bootstrapPath, ev.Volumes)
	}
	if _, ok := c.Volumes[vol]; !ok {
		t.Errorf("volume %q is not declared at the top level", vol)
	}
	if volumeFor(t, boot.Volumes, bootstrapPath) != vol {
		t.Errorf("envoy-bootstrap does not mount volume %q at %s (volumes %v)", vol, filepath.Dir(bootstrapPath), boot.Volumes)
	}
	var deps map[string]struct {
		Condition string `json:"condition"`
	}
	if err := json.Unmarshal(ev.DependsOn, &deps); err != nil || deps["envoy-bootstrap"].Condition != "service_completed_successfully" {
		t.Errorf("envoy depends_on = %s, want envoy-bootstrap: service_completed_successfully", ev.DependsOn)
	}
	if boot.Image != sb.Image || sb.Image == "" {
		t.Errorf("envoy-bootstrap image %q, switchboard image %q: want the same switchboard image", boot.Image, sb.Image)
	}
	script := strings.Join(append(argv(t, boot.Entrypoint), argv(t, boot.Command)...), " ")
	bootArgs := strings.Fields(script)
	if !strings.Contains(script, "switchboard envoy-bootstrap") || !strings.Contains(script, "> "+bootstrapPath) {
		t.Errorf("envoy-bootstrap runs %q, want `switchboard envoy-bootstrap … > %s`", script, bootstrapPath)
	}
	_, xdsPort, _ := strings.Cut(mustFlag(t, serve, "xds-listen"), ":")
	if got, _ := flagValue(bootArgs, "xds-address"); got != "switchboard:"+xdsPort {
		t.Errorf("bootstrap --xds-address = %q, want switchboard:%s (the service name and its --xds-listen port)", got, xdsPort)
	}

	// Demo backends answer to the names and port of the walkthrough's
	// defaults, so ./e2e/walkthrough.sh runs unchanged against compose.
	aliases := map[string]composeService{}
	for _, s := range c.Services {
		for _, a := range s.aliases() {
			aliases[a] = s
		}
	}
	walk := readRepoFile(t, "e2e/walkthrough.sh")
	for _, v := range []string{"TARGET_1", "TARGET_2", "SERVICE_URL"} {
		m := regexp.MustCompile(v + `="\$\{` + v + `:-([^}]*)\}"`).FindStringSubmatch(walk)
		if m == nil {
			t.Fatalf("walkthrough.sh has no default for %s", v)
		}
		hostPort := strings.TrimPrefix(strings.TrimPrefix(m[1], "http://"), "https://")
		host, port, found := strings.Cut(hostPort, ":")
		if !found {
			port = "80"
		}
		b, ok := aliases[host]
		if !ok {
			t.Errorf("%s default %q: no compose service has the alias %q", v, m[1], host)
			continue
		}
		if got, _ := flagValueShort(argv(t, b.Command), "-port"); got != port {
			t.Errorf("%s: the backend for %q listens on %q, want %s", v, host, got, port)
		}
	}

	// The command compose runs must print a bootstrap Envoy accepts.
	t.Run("bootstrap command output", func(t *testing.T) {
		requireStack(t)
		i := slices.Index(bootArgs, "envoy-bootstrap")
		j := slices.Index(bootArgs, ">")
		if i < 0 || j < i {
			t.Fatalf("cannot find the envoy-bootstrap arguments in %q", script)
		}
		cmd := exec.Command(switchboardBin, bootArgs[i:j]...)
		cmd.Env = cleanEnv()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("switchboard %v: %v", bootArgs[i:j], err)
		}
		path := filepath.Join(t.TempDir(), "envoy.yaml")
		if err := os.WriteFile(path, out, 0o600); err != nil {
			t.Fatal(err)
		}
		if v, err := exec.Command(envoyBin, "--mode", "validate", "-c", path, "--log-level", "warn").CombinedOutput(); err != nil {
			t.Fatalf("envoy --mode validate: %v\n%s\n---\n%s", err, v, out)
		}
	})
}

// TestDockerfile checks the multi-stage build: a Go builder at go.mod's
// version and a small runtime image whose entrypoint is switchboard.
func TestDockerfile(t *testing.T) {
	df := readRepoFile(t, "Dockerfile")
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a multi-stage build", len(froms))
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	if !strings.HasPrefix(froms[0][1], "golang:"+goVersion[1]) {
		t.Errorf("builder image %q, want golang:%s… (go.mod)", froms[0][1], goVersion[1])
	}
	if strings.HasPrefix(froms[len(froms)-1][1], "golang") {
		t.Errorf("runtime image %q is the Go toolchain", froms[len(froms)-1][1])
	}
	for _, want := range []string{"./cmd/switchboard", `ENTRYPOINT ["switchboard"]`, "CGO_ENABLED=0"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// flagValueShort finds "-name value" (Envoy's and go-httpbin's style).
func flagValueShort(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func mustFlag(t *testing.T, args []string, name string) string {
	t.Helper()
	v, ok := flagValue(args, name)
	if !ok {
		t.Fatalf("no --%s in %v", name, args)
	}
	return v
}

// volumeFor returns the named volume mounted at path's directory.
func volumeFor(t *testing.T, volumes []string, path string) string {
	t.Helper()
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == filepath.Dir(path) {
			return parts[0]
		}
	}
	return ""
}
