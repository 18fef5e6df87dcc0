package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// kongManagerOrigin is where a user's own Kong Manager would be served
// from (Kong's admin_gui_url); no DNS is involved, only the Origin header.
const kongManagerOrigin = "http://kong-manager.test:8002"

// browserCall is one request as a browser makes it for a page of origin
// with credentials: "include" (Kong Manager's HTTP client does).
func (s *stack) browserCall(t *testing.T, origin, method, path string, body any, header ...string) apiResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, s.adminURL(path), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Accept", "application/json, text/plain, */*")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.admin.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// credentialed fails unless a browser would hand the response to a page of
// origin that sent credentials: its own origin echoed, never "*", with
// Access-Control-Allow-Credentials: true.
func credentialed(t *testing.T, what string, r apiResponse, origin string, want int) map[string]any {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, want, r.body)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("%s: Access-Control-Allow-Origin %q, want %q (the browser hides the response otherwise)", what, got, origin)
	}
	if r.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("%s: no Access-Control-Allow-Credentials: true", what)
	}
	return r.json()
}

// preflight sends the OPTIONS a browser sends before a non-simple request
// and checks the answer lets it through.
func (s *stack) preflight(t *testing.T, origin, method, path, headers string) {
	t.Helper()
	r := s.browserCall(t, origin, http.MethodOptions, path, nil,
		"Access-Control-Request-Method", method, "Access-Control-Request-Headers", headers)
	credentialed(t, "preflight "+method+" "+path, r, origin, http.StatusNoContent)
	if m := r.header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, method) {
		t.Errorf("preflight %s %s: Access-Control-Allow-Methods %q", method, path, m)
	}
	allowed := strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
	for _, h := range strings.Split(headers, ",") {
		if !strings.Contains(allowed, strings.TrimSpace(h)) {
			t.Errorf("preflight %s %s: header %q not in Access-Control-Allow-Headers %q", method, path, h, allowed)
		}
	}
}

// TestManager_KongManagerSequence replays, from a foreign origin allowed
// by --admin-gui-url, the calls Kong's own Kong Manager makes on its
// overview, Gateway Services and Upstreams pages: credentialed GETs,
// preflights naming Kong-Admin-Token and Content-Type, JSON writes. Every
// answer must be readable by that page; the same calls from an origin not
// allowed must be refused.
func TestManager_KongManagerSequence(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{extraArgs: []string{"--admin-gui-url", kongManagerOrigin, "--manager-listen", "off"}})
	o := kongManagerOrigin
	const hdrs = "content-type,kong-admin-token"

	// Overview: GET / and its configuration keys.
	root := credentialed(t, "GET /", s.browserCall(t, o, "GET", "/", nil), o, 200)
	conf, _ := root["configuration"].(map[string]any)
	for _, k := range []string{"admin_listeners", "proxy_listeners", "admin_gui_listeners", "admin_gui_url", "database"} {
		if _, ok := conf[k]; !ok {
			t.Errorf("GET / configuration lacks %s", k)
		}
	}
	if l, _ := conf["proxy_listeners"].([]any); len(l) == 0 {
		t.Errorf("configuration.proxy_listeners = %v, want the proxy listener", conf["proxy_listeners"])
	}

	// Gateway Services: list, schema, create, view, edit, its routes, delete.
	credentialed(t, "GET /services", s.browserCall(t, o, "GET", "/services?size=30", nil), o, 200)
	credentialed(t, "GET /schemas/services", s.browserCall(t, o, "GET", "/schemas/services", nil), o, 200)
	s.preflight(t, o, "POST", "/services", hdrs)
	svc := credentialed(t, "POST /services", s.browserCall(t, o, "POST", "/services", map[string]any{
		"name": "km-svc", "protocol": "http", "host": "km-up", "port": 80, "path": nil,
		"retries": 5, "connect_timeout": 60000, "write_timeout": 60000, "read_timeout": 60000,
		"enabled": true, "tags": nil, "client_certificate": nil, "tls_verify": nil, "ca_certificates": nil,
		"tls_sans": nil, // newer Kong Manager builds send it; null is tolerated
	}), o, 201)
	id, _ := svc["id"].(string)
	credentialed(t, "GET /services/{id}", s.browserCall(t, o, "GET", "/services/"+id, nil), o, 200)
	s.preflight(t, o, "PATCH", "/services/"+id, hdrs)
	credentialed(t, "PATCH /services/{id}", s.browserCall(t, o, "PATCH", "/services/"+id, map[string]any{"retries": 3}), o, 200)
	credentialed(t, "GET /services/{id}/routes", s.browserCall(t, o, "GET", "/services/"+id+"/routes?size=30", nil), o, 200)
	s.preflight(t, o, "POST", "/services/"+id+"/routes", hdrs)
	credentialed(t, "POST /services/{id}/routes", s.browserCall(t, o, "POST", "/services/"+id+"/routes", map[string]any{
		"name": "km-route", "protocols": []string{"http", "https"}, "paths": []string{"/km"}, "strip_path": true,
	}), o, 201)

	// Upstreams: list, create, targets, health, delete.
	credentialed(t, "GET /upstreams", s.browserCall(t, o, "GET", "/upstreams?size=30", nil), o, 200)
	s.preflight(t, o, "POST", "/upstreams", hdrs)
	up := credentialed(t, "POST /upstreams", s.browserCall(t, o, "POST", "/upstreams", map[string]any{"name": "km-up", "algorithm": "round-robin"}), o, 201)
	uid, _ := up["id"].(string)
	s.preflight(t, o, "POST", "/upstreams/"+uid+"/targets", hdrs)
	tg := credentialed(t, "POST targets", s.browserCall(t, o, "POST", "/upstreams/"+uid+"/targets", map[string]any{"target": "127.0.0.9:8080", "weight": 100}), o, 201)
	credentialed(t, "GET targets", s.browserCall(t, o, "GET", "/upstreams/"+uid+"/targets?size=30", nil), o, 200)
	credentialed(t, "GET health", s.browserCall(t, o, "GET", "/upstreams/"+uid+"/health?balancer_health=1", nil), o, 200)
	tid, _ := tg["id"].(string)
	s.preflight(t, o, "DELETE", "/upstreams/"+uid+"/targets/"+tid, hdrs)
	credentialed(t, "DELETE target", s.browserCall(t, o, "DELETE", "/upstreams/"+uid+"/targets/"+tid, nil), o, 204)

	// A schema violation reaches the page too, with the field named.
	bad := credentialed(t, "POST bad service", s.browserCall(t, o, "POST", "/services", map[string]any{"name": "km-bad", "host": "x", "path": "nope"}), o, 400)
	if f, _ := bad["fields"].(map[string]any); f["path"] == nil {
		t.Errorf("schema violation without fields.path: %v", bad)
	}

	// A page of another origin reads nothing and writes nothing.
	evil := "http://evil.test"
	r := s.browserCall(t, evil, "POST", "/services", map[string]any{"name": "evil", "host": "x"})
	if r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("write from %s: %d, ACAO %q; want 403 and no CORS headers", evil, r.status, r.header.Get("Access-Control-Allow-Origin"))
	}
	r = s.browserCall(t, evil, http.MethodOptions, "/services", nil, "Access-Control-Request-Method", "POST")
	if r.header.Get("Access-Control-Allow-Methods") != "" || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from %s allowed: %v", evil, r.header)
	}
	if r := s.browserCall(t, evil, "GET", "/services", nil); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET from %s readable: ACAO %q", evil, r.header.Get("Access-Control-Allow-Origin"))
	}

	credentialed(t, "DELETE route", s.browserCall(t, o, "DELETE", "/routes/km-route", nil), o, 204)
	credentialed(t, "DELETE service", s.browserCall(t, o, "DELETE", "/services/"+id, nil), o, 204)
	credentialed(t, "DELETE upstream", s.browserCall(t, o, "DELETE", "/upstreams/"+uid, nil), o, 204)
}
