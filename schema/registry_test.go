package schema

import (
	"encoding/json"
	"testing"
)

func TestSchema_Defaults(t *testing.T) {
	svc := Defaults("services")
	for k, want := range map[string]any{"protocol": "http", "port": int64(80), "retries": int64(5), "connect_timeout": int64(DefaultTimeoutMS), "enabled": true} {
		if svc[k] != want {
			t.Errorf("services.%s = %v, want %v", k, svc[k], want)
		}
	}
	if _, has := svc["host"]; has {
		t.Error("services.host has a default")
	}
	hc := Defaults("upstreams")["healthchecks"].(map[string]any)
	if hc["active"].(map[string]any)["http_path"] != "/" {
		t.Errorf("healthchecks.active.http_path = %v", hc["active"].(map[string]any)["http_path"])
	}
	// A fresh copy each time.
	Defaults("routes")["protocols"].([]any)[0] = "tcp"
	if Defaults("routes")["protocols"].([]any)[0] != "http" {
		t.Error("Defaults returned shared state")
	}
	if Defaults("nope") != nil {
		t.Error("unknown entity has defaults")
	}
}

// The checks that Build interprets are the ones /schemas renders.
func TestSchema_ChecksAreData(t *testing.T) {
	for name, n := range map[string]int{"upstreams": 16, "services": 5, "routes": 1, "targets": 0} {
		if got := len(Get(name).JSON()["entity_checks"].([]any)); got != n {
			t.Errorf("%s: %d entity checks, want %d", name, got, n)
		}
	}
	b, _ := json.Marshal(Services.JSON()["entity_checks"].([]any)[0])
	want := `{"conditional":{"if_field":"protocol","if_match":{"one_of":["tcp","tls","udp","grpc","grpcs"]},"then_field":"path","then_match":{"eq":null}}}`
	if string(b) != want {
		t.Errorf("services check 1:\n%s\nwant\n%s", b, want)
	}
	_, errs := Upstreams.Build(map[string]any{"name": "u", "hash_on": "header"}, nil)
	if errs["hash_on_header"] != msgRequired {
		t.Errorf("hash_on=header without a header: %v", errs)
	}
	_, errs = Services.Build(map[string]any{"host": "h", "protocol": "tcp", "path": "/x"}, nil)
	if errs["path"] != msgNotNull || len(errs[EntityKey].([]string)) != 1 {
		t.Errorf("tcp service with a path: %v", errs)
	}
}

func TestSchema_SplitTarget(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port uint16
		ok   bool
	}{
		{"a.test:80", "a.test", 80, true},
		{"a.test", "a.test", DefaultTargetPort, true},
		{"[::1]:81", "::1", 81, true},
		{"[::1]", "::1", DefaultTargetPort, true},
		{"1.2.3.4:65536", "", 0, false},
		{"", "", DefaultTargetPort, false},
	}
	for _, tt := range tests {
		host, port, ok := SplitTarget(tt.in)
		if host != tt.host || port != tt.port || ok != tt.ok {
			t.Errorf("SplitTarget(%q) = %q, %d, %v", tt.in, host, port, ok)
		}
	}
}
