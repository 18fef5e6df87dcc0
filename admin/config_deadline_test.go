package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestConfigPost_OutlivesWriteTimeout checks that POST /config answers a
// file whose processing takes longer than the server's write timeout
// (ConfigWriteTimeout replaces it), where the connection would otherwise
// be closed without an answer. The server's timeout is shrunk to 20 ms and
// the file has 2,000 services with a route each (well over 20 ms).
func TestConfigPost_OutlivesWriteTimeout(t *testing.T) {
	ts := newTestServer(t)
	srv := httptest.NewUnstartedServer(ts.h)
	srv.Config.WriteTimeout = 20 * time.Millisecond
	srv.Start()
	defer srv.Close()

	var svcs []any
	for i := range 2000 {
		name := fmt.Sprintf("svc-%04d", i)
		svcs = append(svcs, map[string]any{"name": name, "url": "http://127.0.0.1:9/", "routes": []any{
			map[string]any{"name": name, "paths": []string{"/" + name}},
		}})
	}
	body, err := json.Marshal(map[string]any{"_format_version": "3.0", "services": svcs})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := srv.Client().Post(srv.URL+"/config", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /config: %v (after %s)", err, time.Since(start))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /config: %d %s", resp.StatusCode, msg)
	}
	if took := time.Since(start); took < srv.Config.WriteTimeout {
		t.Logf("the file took %s, under the shrunk timeout: the test proved nothing this run", took)
	}
}
