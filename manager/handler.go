package manager

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
)

// contentSecurityPolicy allows only what the UI itself serves: its own
// scripts and styles, calls to its own origin, no frames, no plugins, no
// inline code (an injected <script> or on* attribute never runs).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// apiPrefix is where the UI reaches the Admin API, on its own origin.
const apiPrefix = "/api"

// Options configure the Manager handler.
type Options struct {
	// API is the Admin API handler, including its authentication: the UI
	// sends the operator's token (Kong-Admin-Token) through it.
	API http.Handler
	// Logger receives refused requests at debug level; slog.Default()
	// when nil.
	Logger *slog.Logger
	// Hosts are the host names (no port) the Manager answers besides IP
	// addresses, localhost and this machine's hostname. Any other Host is
	// refused, so a DNS-rebinding page (evil.test resolving to 127.0.0.1)
	// cannot pass the same-origin check with its own name.
	Hosts []string
}

// Handler serves the UI and, under /api/, the Admin API.
func Handler(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	static := newStaticFiles()
	hosts := map[string]bool{"localhost": true}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts[strings.ToLower(h)] = true
	}
	for _, h := range opts.Hosts {
		hosts[strings.ToLower(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		p := r.URL.Path
		switch {
		case !knownHost(r.Host, hosts):
			opts.Logger.Debug("manager: unknown Host refused", "host", r.Host)
			writeMessage(w, http.StatusMisdirectedRequest, "unknown host: switchboard Manager answers IP addresses, localhost and the names given with --admin-gui-url")
		case p == apiPrefix || strings.HasPrefix(p, apiPrefix+"/"):
			serveAPI(w, r, opts)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			writeMessage(w, http.StatusMethodNotAllowed, "Method not allowed")
		default:
			static.serve(w, r)
		}
	})
}

// serveAPI hands the request to the Admin API without the /api prefix.
// Writes must come from a page of this origin: browsers send Origin on
// every non-GET request, so a missing or different one is a cross-site
// request (or not a browser, which has :8001 for that) and is refused
// before anything runs. The Origin is then dropped: the Admin API's CORS
// rules are for other origins, and this request is same-origin.
func serveAPI(w http.ResponseWriter, r *http.Request, opts Options) {
	if !safeMethod(r.Method) {
		if origin := r.Header.Get("Origin"); origin != ownOrigin(r) {
			opts.Logger.Debug("manager: cross-origin write refused", "origin", origin, "method", r.Method, "path", r.URL.Path)
			writeMessage(w, http.StatusForbidden, "cross-origin write refused: switchboard Manager accepts writes from its own pages only")
			return
		}
	}
	r2 := r.Clone(r.Context())
	r2.Header.Del("Origin")
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, apiPrefix)
	if r2.URL.Path == "" {
		r2.URL.Path = "/"
	}
	if r.URL.RawPath != "" {
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, apiPrefix)
		if r2.URL.RawPath == "" {
			r2.URL.RawPath = "/"
		}
	}
	r2.RequestURI = r2.URL.RequestURI()
	opts.API.ServeHTTP(&sameOriginWriter{ResponseWriter: w}, r2)
}

// corsHeaders are the Admin API's CORS answers. Under /api they would let
// other sites read through the Manager's origin (the API sees no Origin
// here and answers "*"), so they are dropped: /api is for the Manager's own
// pages, which need none.
var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers",
}

// sameOriginWriter removes the CORS headers before the response goes out.
type sameOriginWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *sameOriginWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		for _, h := range corsHeaders {
			w.Header().Del(h)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *sameOriginWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *sameOriginWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// knownHost reports whether the request's Host (maybe with a port) is an
// IP address, localhost (or a *.localhost name) or one of hosts.
func knownHost(hostport string, hosts map[string]bool) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if net.ParseIP(host) != nil || hosts[host] || strings.HasSuffix(host, ".localhost") {
		return true
	}
	return false
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// ownOrigin is the origin a page served by this request's host has.
func ownOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host)
}

// writeMessage answers in the Admin API's error shape.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
