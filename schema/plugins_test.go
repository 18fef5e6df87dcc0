package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

func build(t *testing.T, body string, base map[string]any) (string, string) {
	t.Helper()
	var in map[string]any
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		t.Fatal(err)
	}
	out, errs := Plugins.Build(in, base)
	if errs != nil {
		b, _ := json.Marshal(errs)
		return "", string(b)
	}
	b, _ := json.Marshal(out)
	return string(b), ""
}

func TestPlugins_Build(t *testing.T) {
	tests := []struct {
		name, body string
		want, errs string // substrings
	}{
		{"rate-limiting defaults", `{"name":"rate-limiting","config":{"minute":5,"policy":"local"}}`,
			`"config":{"day":null,"error_code":429,"error_message":"API rate limit exceeded","fault_tolerant":true,"header_name":null,"hide_client_headers":false,"hour":null,"limit_by":"consumer","minute":5,"month":null,"path":null,"policy":"local","redis":{"database":0,"host":null,"password":null,"port":6379,"server_name":null,"ssl":false,"ssl_verify":false,"timeout":2000,"username":null},"redis_database":0,"redis_host":null,"redis_password":null,"redis_port":6379,"redis_server_name":null,"redis_ssl":false,"redis_ssl_verify":false,"redis_timeout":2000,"redis_username":null,"second":null,"sync_rate":-1,"year":null}`, ""},
		{"protocols default", `{"name":"key-auth"}`, `"protocols":["grpc","grpcs","http","https"]`, ""},
		{"key-auth defaults", `{"name":"key-auth"}`, `"config":{"anonymous":null,"hide_credentials":false,"key_in_body":false,"key_in_header":true,"key_in_query":true,"key_names":["apikey"],"realm":null,"run_on_preflight":true}`, ""},
		{"proxy-cache defaults", `{"name":"proxy-cache","config":{"strategy":"memory"}}`, `"config":{"cache_control":false,"cache_ttl":300,"content_type":["text/plain","application/json"],"ignore_uri_case":false,"memory":{"dictionary_name":"kong_db_cache"},"request_method":["GET","HEAD"],"response_code":[200,301,404],"response_headers":{"X-Cache-Key":true,"X-Cache-Status":true,"age":true},"storage_ttl":null,"strategy":"memory","vary_headers":null,"vary_query_params":null}`, ""},
		{"no name", `{}`, "", `{"name":"required field missing"}`},
		{"unknown plugin", `{"name":"foo","config":{"x":1}}`, "", `{"name":"plugin 'foo' not enabled; add it to the 'plugins' configuration property"}`},
		{"no window", `{"name":"rate-limiting"}`, "", `{"@entity":["at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'"]}`},
		{"window order", `{"name":"rate-limiting","config":{"second":20,"hour":10}}`, "", `{"config":"The limit for hour(10.0) cannot be lower than the limit for second(20.0)"}`},
		{"header required", `{"name":"rate-limiting","config":{"minute":1,"limit_by":"header"}}`, "", `{"@entity":["failed conditional validation given value of field 'config.limit_by'"],"config":{"header_name":"required field missing"}}`},
		{"redis host required", `{"name":"rate-limiting","config":{"minute":1,"policy":"redis"}}`, "", `"config":{"redis":{"host":"required field missing"}}`},
		{"sync_rate", `{"name":"rate-limiting","config":{"minute":1,"sync_rate":1}}`, "", `{"config":"sync_rate can only be used with the redis policy"}`},
		{"zero minute", `{"name":"rate-limiting","config":{"minute":0}}`, "", `"minute":"value must be greater than 0"`},
		{"bad policy", `{"name":"rate-limiting","config":{"minute":1,"policy":"x"}}`, "", `"policy":"expected one of: local, cluster, redis"`},
		{"shorthand in", `{"name":"rate-limiting","config":{"minute":1,"policy":"redis","redis_host":"r.test","redis_port":6380}}`, `"host":"r.test","password":null,"port":6380`, ""},
		{"response_code range", `{"name":"proxy-cache","config":{"strategy":"memory","response_code":[1000]}}`, "", `"response_code":["value should be between 100 and 900"]`},
		{"response_code empty", `{"name":"proxy-cache","config":{"strategy":"memory","response_code":[]}}`, "", `"response_code":"length must be at least 1"`},
		{"response_code string", `{"name":"proxy-cache","config":{"strategy":"memory","response_code":"a"}}`, "", `"response_code":"expected an array"`},
		{"response_code float", `{"name":"proxy-cache","config":{"strategy":"memory","response_code":[1.5]}}`, "", `"response_code":["expected an integer"]`},
		{"no strategy", `{"name":"proxy-cache"}`, "", `"strategy":"required field missing"`},
		{"strategy", `{"name":"proxy-cache","config":{"strategy":"redis"}}`, "", `"strategy":"expected one of: memory"`},
		{"method", `{"name":"proxy-cache","config":{"strategy":"memory","request_method":["GOT"]}}`, "", `"request_method":["expected one of: HEAD, GET, POST, PATCH, PUT"]`},
		{"ttl", `{"name":"proxy-cache","config":{"strategy":"memory","cache_ttl":0}}`, "", `"cache_ttl":"value must be greater than 0"`},
		{"dict", `{"name":"proxy-cache","config":{"strategy":"memory","memory":{"dictionary_name":"x"}}}`, "", `{"@entity":["missing shared dict 'x'"]}`},
		{"key name", `{"name":"key-auth","config":{"key_names":["hello\\world"]}}`, "", `"key_names":["bad header name 'hello\\world', allowed characters are A-Z, a-z, 0-9, '_', and '-'"]`},
		{"consumer on key-auth", `{"name":"key-auth","consumer":{"id":"5a1e0000-0000-4000-8000-000000000001"}}`, "", `{"consumer":"value must be null"}`},
		{"unknown field", `{"name":"key-auth","foo":"bar"}`, "", `{"foo":"unknown field"}`},
		{"config not a record", `{"name":"key-auth","config":"bar"}`, "", `{"config":"expected a record"}`},
		{"tcp on rate-limiting", `{"name":"rate-limiting","config":{"minute":1},"protocols":["tcp"]}`, "", `"protocols":["expected one of: grpc, grpcs, http, https"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errs := build(t, tc.body, nil)
			if tc.errs == "" && errs != "" {
				t.Fatalf("errors %s", errs)
			}
			if tc.errs != "" && !strings.Contains(errs, tc.errs) {
				t.Fatalf("errors %s, want %s (out %s)", errs, tc.errs, out)
			}
			if tc.want != "" && !strings.Contains(out, tc.want) {
				t.Fatalf("got %s\nwant %s", out, tc.want)
			}
		})
	}
}

// A PATCH merges config deeply; the stored shorthand echoes never beat the
// input's nested fields.
func TestPlugins_UpdateMergesConfig(t *testing.T) {
	stored, errs := build(t, `{"name":"rate-limiting","config":{"minute":5,"policy":"redis","redis":{"host":"a.test"}}}`, nil)
	if errs != "" {
		t.Fatal(errs)
	}
	var base map[string]any
	_ = json.Unmarshal([]byte(stored), &base)
	out, errs := build(t, `{"config":{"hour":100,"redis":{"host":"b.test"}}}`, base)
	if errs != "" {
		t.Fatal(errs)
	}
	for _, want := range []string{`"minute":5`, `"hour":100`, `"host":"b.test"`, `"redis_host":"b.test"`, `"name":"rate-limiting"`} {
		if !strings.Contains(out, want) {
			t.Errorf("%s missing from %s", want, out)
		}
	}
}

// What /schemas/plugins/{name} advertises as defaults is what an instance
// created without config stores (decK fills defaults from it).
func TestPlugins_SchemaDefaultsAreStored(t *testing.T) {
	for _, name := range PluginNames() {
		p := GetPlugin(name)
		body := `{"name":"` + name + `","config":{"minute":1,"strategy":"memory"}}`
		if name != "rate-limiting" {
			body = strings.Replace(body, `"minute":1,`, "", 1)
		}
		if name != "proxy-cache" {
			body = strings.Replace(body, `"strategy":"memory"`, "", 1)
			body = strings.Replace(body, `,}`, `}`, 1)
		}
		out, errs := build(t, body, nil)
		if errs != "" {
			t.Fatalf("%s: %s", name, errs)
		}
		var got map[string]any
		_ = json.Unmarshal([]byte(out), &got)
		def := p.ConfigDefaults()
		for k, v := range def {
			gb, _ := json.Marshal(got["config"].(map[string]any)[k])
			db, _ := json.Marshal(v)
			if k != "minute" && k != "strategy" && string(gb) != string(db) {
				t.Errorf("%s config.%s: stored %s, schema default %s", name, k, gb, db)
			}
		}
		if len(def) != len(got["config"].(map[string]any)) {
			t.Errorf("%s: %d default fields, %d stored", name, len(def), len(got["config"].(map[string]any)))
		}
	}
}
