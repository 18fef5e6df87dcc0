package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawAdmin sends one request to the Admin API listener with exactly the
// headers given: no token unless the test adds one.
func rawAdmin(t *testing.T, s *stack, method, path, ctype, body string, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.adminURL(path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{Timeout: requestTimeout}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// configState is what must not change: the store revision and the full
// backup of the store.
func configState(t *testing.T, s *stack) string {
	t.Helper()
	r := s.api("GET", "/services", nil)
	backup := filepath.Join(t.TempDir(), "state.json")
	snapshotCLI(t, "save", backup, s)
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	return r.header.Get(revisionHeader) + "\n" + string(b)
}

// TestSecurity_TokenRequired: with --admin-token set, every endpoint the
// API lists, with every method, answers 401 to a request without the
// token, and nothing changes; a read-only token can GET and cannot write.
func TestSecurity_TokenRequired(t *testing.T) {
	t.Parallel()
	a := startBackend(t, "a")
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("ro-token read-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{
		hosts:      map[string]string{"a.test": a.ip},
		extraArgs:  []string{"--admin-token", "rw-token", "--admin-tokens-file", tokens},
		adminToken: "rw-token",
	})
	s.mustAPI("POST", "/upstreams", form("name", "u"), 201)
	s.mustAPI("POST", "/upstreams/u/targets", form("target", fmt.Sprintf("a.test:%d", a.port)), 201)
	s.mustAPI("POST", "/services", form("name", "svc", "host", "u"), 201)
	s.mustAPI("POST", "/services/svc/routes", form("name", "rt", "paths[]", "/sec"), 201)
	s.converge("route through Envoy", func() (bool, string) {
		r := s.get("/sec/x", "")
		return r.backend == "a", r.String()
	})
	before := configState(t, s)

	var paths []string
	for _, p := range s.mustAPI("GET", "/endpoints", nil, 200)["data"].([]any) {
		paths = append(paths, fillPlaceholders(p.(string)))
	}
	if len(paths) < 10 {
		t.Fatalf("only %d endpoints listed", len(paths))
	}
	bodies := map[string]string{"application/json": `{"name":"evil","host":"evil.test"}`,
		"application/x-www-form-urlencoded": "name=evil&host=evil.test"}
	checked := 0
	for _, p := range paths {
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
			for ctype, body := range bodies {
				for _, hdr := range [][]string{nil, {"Kong-Admin-Token", "wrong"}, {"Authorization", "Bearer wrong"}} {
					code, out := rawAdmin(t, s, m, p, ctype, body, hdr...)
					if code != http.StatusUnauthorized {
						t.Fatalf("%s %s %v without a valid token: %d %s", m, p, hdr, code, out)
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d requests without a valid token to %d endpoints: all 401", checked, len(paths))

	// Read-only: every GET answers, no write does.
	for _, p := range paths {
		if code, out := rawAdmin(t, s, "GET", p, "", "", "Kong-Admin-Token", "ro-token"); code == http.StatusUnauthorized || code == http.StatusForbidden {
			t.Fatalf("read-only GET %s: %d %s", p, code, out)
		}
		for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			code, out := rawAdmin(t, s, m, p, "application/json", bodies["application/json"], "Authorization", "Bearer ro-token")
			if code != http.StatusForbidden {
				t.Fatalf("read-only %s %s: %d %s", m, p, code, out)
			}
		}
	}
	// The internal endpoints take neither admin token.
	for _, tok := range []string{"rw-token", "ro-token"} {
		if code, _ := rawAdmin(t, s, "POST", "/_switchboard/snapshot", "application/json", "{}", "Kong-Admin-Token", tok); code != http.StatusUnauthorized {
			t.Fatalf("restore with admin token %s: %d", tok, code)
		}
	}
	if after := configState(t, s); after != before {
		t.Fatalf("requests without write access changed the configuration:\nbefore %s\nafter  %s", before, after)
	}
	if r := s.get("/sec/x", ""); r.backend != "a" {
		t.Fatalf("route after the refused requests: %s", r)
	}
}

// TestSecurity_BrowserCannotWipe is the cross-site wipe: a page on
// another origin POSTs "{}" as text/plain (a simple request, no preflight)
// to the restore endpoint and forms to the Admin API. Nothing changes and
// Envoy keeps its routes.
func TestSecurity_BrowserCannotWipe(t *testing.T) {
	t.Parallel()
	a := startBackend(t, "a")
	s := startStack(t, stackOptions{hosts: map[string]string{"a.test": a.ip}})
	s.mustAPI("POST", "/services", form("name", "svc", "url", fmt.Sprintf("http://a.test:%d", a.port)), 201)
	s.mustAPI("POST", "/services/svc/routes", form("name", "rt", "paths[]", "/kept"), 201)
	s.converge("route through Envoy", func() (bool, string) {
		r := s.get("/kept/x", "")
		return r.backend == "a", r.String()
	})
	before := configState(t, s)
	evil := []string{"Origin", "http://evil.test", "Sec-Fetch-Site", "cross-site"}
	attacks := []struct{ method, path, ctype, body string }{
		{"POST", "/_switchboard/snapshot", "text/plain", "{}"},
		{"POST", "/_switchboard/snapshot", "application/x-www-form-urlencoded", "{}"},
		{"POST", "/_switchboard/raft/join", "text/plain", `{"id":"evil","raft_address":"127.0.0.1:1"}`},
		{"POST", "/_switchboard/raft/apply", "text/plain", `{}`},
		{"GET", "/_switchboard/snapshot", "", ""},
		{"POST", "/services", "application/x-www-form-urlencoded", "name=evil&host=evil.test"},
		{"POST", "/services", "text/plain", `{"name":"evil","host":"evil.test"}`},
		{"DELETE", "/routes/rt", "", ""},
		{"PATCH", "/services/svc", "application/x-www-form-urlencoded", "host=evil.test"},
	}
	for _, at := range attacks {
		code, out := rawAdmin(t, s, at.method, at.path, at.ctype, at.body, evil...)
		if code < 400 || code >= 500 {
			t.Fatalf("%s %s from a foreign origin: %d %s", at.method, at.path, code, out)
		}
	}
	// Without a browser's headers the internal paths still want the secret.
	if code, _ := rawAdmin(t, s, "POST", "/_switchboard/snapshot", "application/json", "{}"); code != http.StatusUnauthorized {
		t.Fatalf("restore without the cluster secret: %d", code)
	}
	if after := configState(t, s); after != before {
		t.Fatalf("a cross-origin request changed the configuration:\nbefore %s\nafter  %s", before, after)
	}
	if r := s.get("/kept/x", ""); r.backend != "a" {
		t.Fatalf("route after the attack: %s", r)
	}
	if code, out := rawAdmin(t, s, "GET", "/endpoints", "", ""); code != 200 || strings.Contains(out, "_switchboard") {
		t.Fatalf("internal paths listed on the Admin API: %s", out)
	}
}

// fillPlaceholders puts existing entity names into an /endpoints template.
func fillPlaceholders(p string) string {
	r := strings.NewReplacer("{services}", "svc", "{routes}", "rt", "{upstreams}", "u", "{targets}", "t",
		"{address}", "127.0.0.1:1", "{db_entity_name}", "services", "{name}", "key-auth", "{node}", "n")
	p = r.Replace(p)
	for i := strings.IndexByte(p, '{'); i >= 0; i = strings.IndexByte(p, '{') {
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			break
		}
		p = p[:i] + "x" + p[i+j+1:]
	}
	return p
}
