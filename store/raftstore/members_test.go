package raftstore

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testSecret = "test-cluster-secret"

// The cross-site wipe: any web page the operator visits POSTs "{}" as
// text/plain (no preflight) to the restore path, which used to wipe every
// entity. Neither that nor any other request without the cluster secret
// reaches a handler.
func TestInternal_StrangersGetNothing(t *testing.T) {
	a := startNode(t, "n1", t.TempDir(), "", "127.0.0.1:0", nil)
	if err := a.node.WaitReady(ctx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.Apply(upstream(1)); err != nil {
		t.Fatal(err)
	}
	before := string(dumpJSON(t, a.st))
	base := "http://" + a.adminAddr
	tests := []struct {
		name, method, path, ctype, body string
		headers                         map[string]string
		want                            int
	}{
		{"browser text/plain restore", "POST", PathSnapshot, "text/plain", "{}",
			map[string]string{"Origin": "http://evil.test"}, 403},
		{"browser restore with the secret", "POST", PathSnapshot, "application/json", "{}",
			map[string]string{"Origin": "http://evil.test", SecretHeader: testSecret}, 403},
		{"fetch metadata", "GET", PathSnapshot, "", "", map[string]string{"Sec-Fetch-Site": "cross-site", SecretHeader: testSecret}, 403},
		{"restore without secret", "POST", PathSnapshot, "application/json", "{}", nil, 401},
		{"restore, wrong secret", "POST", PathSnapshot, "application/json", "{}", map[string]string{SecretHeader: "nope"}, 401},
		{"restore as text/plain with the secret", "POST", PathSnapshot, "text/plain", "{}", map[string]string{SecretHeader: testSecret}, 415},
		{"save without secret", "GET", PathSnapshot, "", "", nil, 401},
		{"join without secret", "POST", pathJoin, "application/json", `{"id":"x","raft_address":"127.0.0.1:1"}`, nil, 401},
		{"apply without secret", "POST", pathApply, "application/json", `{}`, nil, 401},
		{"index without secret", "GET", pathIndex, "", "", nil, 401},
		{"join with a bad address", "POST", pathJoin, "application/json", `{"id":"x","raft_address":"nowhere"}`,
			map[string]string{SecretHeader: testSecret}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Fatalf("%d %s, want %d", res.StatusCode, body, tt.want)
			}
			if tt.method == "GET" && strings.Contains(string(body), "up-1.test") {
				t.Fatal("the store leaked")
			}
		})
	}
	if got := string(dumpJSON(t, a.st)); got != before {
		t.Fatalf("the store changed:\n%s\n%s", before, got)
	}
	if len(a.node.fsm.memberList()) > 1 {
		t.Fatal("a stranger joined")
	}
}

// The members themselves, and the CLI, get through with the secret.
func TestInternal_SecretOpensSaveAndRestore(t *testing.T) {
	a := startNode(t, "n1", t.TempDir(), "", "127.0.0.1:0", nil)
	if err := a.node.WaitReady(ctx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.Apply(upstream(1)); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+a.adminAddr+PathSnapshot, nil)
	req.Header.Set(SecretHeader, testSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	saved, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(saved), "up-1.test") {
		t.Fatalf("save: %d %s", res.StatusCode, saved)
	}
	if _, err := a.st.Apply(upstream(2)); err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("POST", "http://"+a.adminAddr+PathSnapshot, strings.NewReader(string(saved)))
	req.Header.Set(SecretHeader, testSecret)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("restore: %d %s", res.StatusCode, body)
	}
	if strings.Contains(string(dumpJSON(t, a.st)), "up-2.test") {
		t.Fatal("restore did not replace the store")
	}
}

func TestInternal_EmptySecretRefusesAll(t *testing.T) {
	h := membersOnly("", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	for _, secret := range []string{"", "x"} {
		rec := httptest.NewRecorder()
		req, _ := http.NewRequest("GET", PathSnapshot, nil)
		req.Header.Set(SecretHeader, secret)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("secret %q: %d", secret, rec.Code)
		}
	}
}
