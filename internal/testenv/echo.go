package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveEcho answers as httpbin does, so that Kong's docs' commands (which
// use httpbin.konghq.com) run unchanged against a loopback backend: it
// echoes what it received (method, path, query, headers, body) as
// pretty-printed JSON in httpbin's shapes, plus the backend's name.
// /headers, /status/<code>, /delay/<seconds>, /xml and /response-headers
// behave as on httpbin; every other path is /anything.
func serveEcho(w http.ResponseWriter, r *http.Request, name string) {
	path := r.URL.Path
	switch {
	case path == "/headers":
		writeEchoJSON(w, http.StatusOK, map[string]any{"headers": echoHeaders(r)})
	case strings.HasPrefix(path, "/status/"):
		code, err := strconv.Atoi(strings.TrimPrefix(path, "/status/"))
		if err != nil || code < 100 || code > 599 {
			writeEchoJSON(w, http.StatusBadRequest, map[string]any{"error": "bad status code"})
			return
		}
		w.WriteHeader(code)
	case path == "/xml":
		// A body of another content type (proxy-cache bypasses it).
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, "<?xml version='1.0'?><slideshow/>\n")
	case path == "/response-headers":
		// Every query argument becomes a response header (Cache-Control
		// for proxy-cache's cache_control tests), echoed in the body.
		args := map[string]any{}
		for k, v := range r.URL.Query() {
			w.Header()[http.CanonicalHeaderKey(k)] = v
			args[k] = strings.Join(v, ",")
		}
		writeEchoJSON(w, http.StatusOK, args)
	case strings.HasPrefix(path, "/delay/"):
		secs, err := strconv.ParseFloat(strings.TrimPrefix(path, "/delay/"), 64)
		if err != nil || secs < 0 {
			writeEchoJSON(w, http.StatusBadRequest, map[string]any{"error": "bad delay"})
			return
		}
		// httpbin caps delays at 10s; so do we, and a client that goes away
		// ends the wait.
		d := time.Duration(min(secs, 10) * float64(time.Second))
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		writeEchoJSON(w, http.StatusOK, anything(r, name))
	default:
		writeEchoJSON(w, http.StatusOK, anything(r, name))
	}
}

// anything is httpbin's /anything body, plus "backend" and "path".
func anything(r *http.Request, name string) map[string]any {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	args := map[string]any{}
	for k, v := range r.URL.Query() {
		if len(v) == 1 {
			args[k] = v[0]
		} else {
			args[k] = v
		}
	}
	origin, _, _ := net.SplitHostPort(r.RemoteAddr)
	return map[string]any{
		"args":    args,
		"backend": name,
		"data":    string(body),
		"headers": echoHeaders(r),
		"method":  r.Method,
		"origin":  origin,
		"path":    r.URL.Path,
		"url":     "http://" + r.Host + r.URL.RequestURI(),
	}
}

// echoHeaders renders request headers as httpbin does: canonical names,
// one string each (repeated values joined by ","), Host included.
func echoHeaders(r *http.Request) map[string]string {
	h := map[string]string{"Host": r.Host}
	for k, v := range r.Header {
		h[k] = strings.Join(v, ",")
	}
	return h
}

// writeEchoJSON pretty-prints like httpbin: two-space indent, one key per
// line, so `grep -i -A1 '"host"'` finds the Host line as it does on
// httpbin.org.
func writeEchoJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// Echo is a decoded echo answer.
type Echo struct {
	Backend string            `json:"backend"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	URL     string            `json:"url"`
	Args    map[string]any    `json:"args"`
	Headers map[string]string `json:"headers"`
}

// Header returns an echoed request header, case-insensitively.
func (e Echo) Header(name string) (string, bool) {
	for k, v := range e.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}
