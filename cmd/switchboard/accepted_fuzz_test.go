package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// FuzzAccepted_Translates is "accepted means served" as a property: any
// route and upstream the Admin API accepts translates without an entity
// error (so every resource passed ValidateAll and nothing was left out),
// and every regex in the generated configuration fits Envoy's RE2
// program-size limit.
func FuzzAccepted_Translates(f *testing.F) {
	f.Add("/mock", "example.test", "x-version", "v1", "GET", 5.0)
	f.Add(`~/users/(?<id>\d+)$`, "*.example.test", "x-v", `~*^beta-[0-9]{1,3}$`, "POST", 0.001)
	f.Add("/a\x00b", "h.test:8000", "x", "a\r\n", "PATCH", 0.0004)
	f.Add("/"+string(bytes.Repeat([]byte("p"), 96)), "example.*", "x", "~*[a-z0-9]{30}", "DELETE", 65535.0)
	f.Add(`~/static/[a-zA-Z0-9._-]{0,15}/`, "ü.test", "x-y", "~*(a|b)", "PUT", 1e-9)
	f.Add("/m", "m.test", "x", "y", "PROPPATCHPROPPATCHPROPPATCHPRO", 1.0)
	f.Fuzz(func(t *testing.T, path, host, hname, hvalue, method string, interval float64) {
		st, err := store.New()
		if err != nil {
			t.Fatal(err)
		}
		h := admin.New(st, admin.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
		post := func(p string, body map[string]any) int {
			b, _ := json.Marshal(body)
			req := httptest.NewRequest(http.MethodPost, p, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("POST %s %s: %d %s", p, b, rec.Code, rec.Body)
			}
			return rec.Code
		}
		post("/upstreams", map[string]any{"name": "u.test", "healthchecks": map[string]any{"active": map[string]any{
			"healthy": map[string]any{"interval": interval}, "headers": map[string]any{hname: []string{hvalue}}}}})
		post("/upstreams/u.test/targets", map[string]any{"target": "127.0.0.1:8080"})
		post("/services", map[string]any{"name": "s", "host": "u.test"})
		post("/services/s/routes", map[string]any{"paths": []string{path}, "hosts": []string{host},
			"headers": map[string]any{hname: []string{hvalue, "v2"}}, "methods": []string{method, "GET", "OPTIONS"}})
		post("/services/s/routes", map[string]any{"paths": []string{path}})

		in, err := translator.FromSnapshot(st.Snapshot(), nil, translator.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := translator.Translate(in)
		if err != nil {
			t.Fatalf("accepted entities did not translate: %v", err)
		}
		for _, rc := range res.Routes {
			b, _ := protojson.Marshal(rc)
			var v any
			_ = json.Unmarshal(b, &v)
			for _, re := range regexes(v) {
				if msg := schema.RegexProblem(re); msg != "" {
					t.Fatalf("accepted route makes a regex Envoy refuses: %q: %s", re, msg)
				}
			}
		}
	})
}

// regexes collects every "regex" string of a protojson document.
func regexes(v any) []string {
	var out []string
	stack := []any{v}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch t := cur.(type) {
		case map[string]any:
			for k, e := range t {
				if s, ok := e.(string); ok && k == "regex" {
					out = append(out, s)
				} else {
					stack = append(stack, e)
				}
			}
		case []any:
			stack = append(stack, t...)
		}
	}
	return out
}
