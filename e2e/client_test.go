package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// revisionHeader is on every Admin API response: the store revision the
// answer reflects.
const revisionHeader = testenv.RevisionHeader

// apiResponse is one Admin API answer.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic object ({} when it is not one).
func (r apiResponse) json() map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(r.body, &m)
	return m
}

// api sends form data (as `curl --data` does) to the Admin API.
func (s *stack) api(method, path string, form url.Values) apiResponse {
	s.t.Helper()
	resp, err := testenv.NewAdminWith(s.adminAddr, s.admin).DoForm(method, path, form)
	if err != nil {
		s.t.Fatal(err)
	}
	r := apiResponse{status: resp.Status, header: resp.Header, body: resp.Body}
	if resp.Header.Get(revisionHeader) == "" {
		s.t.Errorf("%s %s: response lacks %s", method, path, revisionHeader)
	}
	return r
}

// mustAPI is api that fails the test unless the status is want.
func (s *stack) mustAPI(method, path string, form url.Values, want int) map[string]any {
	s.t.Helper()
	r := s.api(method, path, form)
	if r.status != want {
		s.t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, form.Encode(), r.status, want, r.body)
	}
	return r.json()
}

// form builds url.Values from key, value pairs ("paths[]", "/mock", …).
func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// proxyResponse is one answer through Envoy.
type proxyResponse struct {
	status  int
	header  http.Header
	body    []byte
	backend string // X-Backend-Name, "" when Envoy answered itself
	err     error
}

// echo decodes a backend's echo.
func (r proxyResponse) echo() (echo, error) {
	var e echo
	err := json.Unmarshal(r.body, &e.Echo)
	return e, err
}

func (r proxyResponse) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	b := string(r.body)
	if len(b) > 200 {
		b = b[:200] + "…"
	}
	return fmt.Sprintf("%d backend=%q %s", r.status, r.backend, strings.TrimSpace(b))
}

// get sends GET path through Envoy. host, when set, is the Host header.
func (s *stack) get(path, host string) proxyResponse {
	req, err := http.NewRequest(http.MethodGet, s.proxyURL(path), nil)
	if err != nil {
		return proxyResponse{err: err}
	}
	if host != "" {
		req.Host = host
	}
	resp, err := s.proxy.Do(req)
	if err != nil {
		return proxyResponse{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return proxyResponse{status: resp.StatusCode, header: resp.Header, body: b, backend: resp.Header.Get(backendHeader), err: err}
}

// spread sends n GETs to path and counts the answers by backend name
// ("status NNN" for answers Envoy made itself, "error" for failures). The
// loop is bounded in count and time.
func (s *stack) spread(path string, n int) map[string]int {
	s.t.Helper()
	if n > 2000 {
		s.t.Fatalf("spread: %d requests is more than the bound", n)
	}
	counts := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; i < n; i++ {
		if time.Now().After(deadline) {
			s.t.Fatalf("spread: %d requests took over a minute; counts so far %v", i, counts)
		}
		r := s.get(path, "")
		switch {
		case r.err != nil:
			counts["error"]++
		case r.backend != "":
			counts[r.backend]++
		default:
			counts[fmt.Sprintf("status %d", r.status)]++
		}
	}
	return counts
}

// fmtCounts prints counts in a stable order.
func fmtCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// kongMessage is the "message" of a Kong-shaped error body.
func kongMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &m)
	return m.Message
}
