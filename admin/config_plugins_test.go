package admin

import (
	"encoding/json"
	"net/http"
	"testing"
)

// A plugin's protocols are checked against its route as the file has it,
// not as the store had it before the file.
func TestConfig_PluginProtocolsAgainstTheFile(t *testing.T) {
	route := func(protocols string) string {
		strip := "true"
		if protocols == `["grpc"]` {
			strip = "false"
		}
		return `{"_format_version": "3.0", "services": [{"name": "s", "host": "s.test", "routes": [
			{"name": "r", "paths": ["/r"], "strip_path": ` + strip + `, "protocols": ` + protocols + `,
			 "plugins": [{"name": "rate-limiting", "protocols": ["http"], "config": {"minute": 5}}]}]}]}`
	}
	routeOnly := func(protocols string) string {
		return `{"_format_version": "3.0", "services": [{"name": "s", "host": "s.test", "routes": [
			{"name": "r", "paths": ["/r"], "strip_path": false, "protocols": ` + protocols + `}]}]}`
	}
	ts := newTestServer(t)
	ts.postConfig("", "application/json", routeOnly(`["http"]`)).mustStatus(t, http.StatusCreated)
	r := ts.postConfig("", "application/json", route(`["grpc"]`)).mustStatus(t, http.StatusBadRequest)
	if r.obj()["code"] != json.Number("14") {
		t.Errorf("grpc route with an http-only plugin: %s", r.raw)
	}
	ts = newTestServer(t)
	ts.postConfig("", "application/json", routeOnly(`["grpc"]`)).mustStatus(t, http.StatusCreated)
	ts.postConfig("", "application/json", route(`["http"]`)).mustStatus(t, http.StatusCreated)
}
