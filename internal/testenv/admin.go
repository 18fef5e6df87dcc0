package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RevisionHeader carries the store revision on every Admin API answer.
const RevisionHeader = "X-Switchboard-Revision"

// Admin is a client of the Kong-compatible Admin API.
type Admin struct {
	// Token, when set, is sent as Kong-Admin-Token on every request.
	Token string

	base string
	c    *http.Client
}

// NewAdmin returns a client for the Admin API at addr (host:port). Its
// transport keeps enough idle connections for 64 parallel writers.
func NewAdmin(addr string) *Admin {
	return &Admin{base: "http://" + addr, c: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 64},
	}}
}

// NewAdminWith returns a client for the Admin API at addr that sends
// through c.
func NewAdminWith(addr string, c *http.Client) *Admin { return &Admin{base: "http://" + addr, c: c} }

// Close drops idle connections.
func (a *Admin) Close() { a.c.CloseIdleConnections() }

// Response is one Admin API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Revision is the X-Switchboard-Revision header (0 when absent).
	Revision uint64
}

// JSON decodes the body into a generic object ({} when it is not one).
func (r Response) JSON() map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Do sends body (nil, or any value encoded as JSON) to path.
func (a *Admin) Do(method, path string, body any) (Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return a.Send(req)
}

// DoForm sends form (nil for no body) as application/x-www-form-urlencoded,
// as `curl --data` does and as Kong's docs write their calls.
func (a *Admin) DoForm(method, path string, form url.Values) (Response, error) {
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return Response{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return a.Send(req)
}

// URL is the Admin API URL of path, for requests built by hand.
func (a *Admin) URL(path string) string { return a.base + path }

// Send sends a request built by hand (a header of its own, another body
// encoding) and reads the whole answer.
func (a *Admin) Send(req *http.Request) (Response, error) {
	if a.Token != "" {
		req.Header.Set("Kong-Admin-Token", a.Token)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: read: %w", req.Method, req.URL.Path, err)
	}
	rev, _ := strconv.ParseUint(resp.Header.Get(RevisionHeader), 10, 64)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b, Revision: rev}, nil
}

// Must is Do that fails unless the status is want.
func (a *Admin) Must(method, path string, body any, want int) (Response, error) {
	r, err := a.Do(method, path, body)
	if err != nil {
		return r, err
	}
	if r.Status != want {
		return r, fmt.Errorf("%s %s: status %d, want %d: %s", method, path, r.Status, want, bytes.TrimSpace(r.Body))
	}
	return r, nil
}
