package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rlClient sends from source address ip, one connection per request: the
// per-IP counters of one case never meet another's, and with two Envoys on
// one SO_REUSEPORT listener each request may land on either.
func rlClient(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// rlAnswer is one answer through Envoy.
type rlAnswer struct {
	status int
	header http.Header
	body   string
}

func (a rlAnswer) String() string {
	var hs []string
	for k, v := range a.header {
		if strings.Contains(strings.ToLower(k), "ratelimit") || k == "Retry-After" || k == "Content-Type" {
			hs = append(hs, k+"="+strings.Join(v, ","))
		}
	}
	return fmt.Sprintf("%d %v %.120s", a.status, hs, a.body)
}

// rlGet sends GET path through s's proxy from c with the given headers.
func rlGet(t *testing.T, s *stack, c *http.Client, path string, hdr ...string) rlAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.proxyURL(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rlAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// statuses sends n GETs and returns the answers.
func rlSeq(t *testing.T, s *stack, c *http.Client, n int, path string, hdr ...string) []rlAnswer {
	t.Helper()
	out := make([]rlAnswer, n)
	for i := range out {
		out[i] = rlGet(t, s, c, path, hdr...)
	}
	return out
}

func rlCodes(as []rlAnswer) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = fmt.Sprint(a.status)
	}
	return strings.Join(parts, ",")
}

// inOneWindow runs try until a run starts and ends inside one calendar
// window of the given length (Kong's windows are fixed: a run that crosses a
// boundary meets fresh counters and proves nothing), at most three runs. try
// gets a fresh attempt number (use it for fresh identifiers) and returns
// what went wrong, "" when the run passed.
func inOneWindow(t *testing.T, window time.Duration, try func(attempt int) string) {
	t.Helper()
	for attempt := 1; attempt <= 3; attempt++ {
		start := time.Now().UTC().Truncate(window)
		problem := try(attempt)
		if problem == "" {
			return
		}
		if time.Now().UTC().Truncate(window).Equal(start) {
			t.Fatal(problem)
		}
		t.Logf("attempt %d crossed a %s window boundary, again: %s", attempt, window, problem)
	}
	t.Fatal("three attempts crossed a window boundary")
}

// waitRoutesContain waits until Envoy's route table mentions every id (a
// plugin instance's id is in the descriptors of the routes it applies to),
// without sending a request that a shared counter would count.
func waitRoutesContain(t *testing.T, envoyAdmin string, ids ...string) {
	t.Helper()
	eventually(t, convergeBound, "route table has "+strings.Join(ids, ","), func() (bool, string) {
		body, err := getText("http://" + envoyAdmin + "/config_dump?resource=dynamic_route_configs")
		if err != nil {
			return false, err.Error()
		}
		for _, id := range ids {
			if !strings.Contains(body, id) {
				return false, "missing " + id
			}
		}
		return true, ""
	})
}

func getText(url string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
