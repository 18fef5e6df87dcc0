package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"golang.org/x/net/netutil"

	"github.com/switchboard-gw/switchboard/store"
)

// DefaultVersion is the Kong version the API advertises. decK parses it and
// insists on _format_version "3.0" for any 3.x version, which is what we
// want.
const DefaultVersion = "3.9.1"

// Options configure a Server. Zero values get sensible defaults.
type Options struct {
	// NodeID is this node's UUID (GET / and /upstreams/{u}/health); a random
	// one when empty.
	NodeID string
	// Hostname for GET /; os.Hostname() when empty.
	Hostname string
	// Version is the Kong version to advertise; DefaultVersion when empty.
	Version string
	// Logger receives request logs (debug) and unexpected errors (error);
	// slog.Default() when nil.
	Logger *slog.Logger
	// Health reports per-address health for /upstreams/{u}/health. When nil,
	// IP targets report one address and hostname targets DNS_ERROR.
	Health HealthSource
	// Configuration is merged into the "configuration" object of GET /
	// (listeners, data directory, ...). Secrets must not be put here.
	Configuration map[string]any
	// Now is the clock used to stamp created_at/updated_at; time.Now when
	// nil. Tests set it for stable timestamps.
	Now func() time.Time
	// AllowedOrigins are the browser origins (--admin-gui-url) that may use
	// the API with credentials; writes from any other Origin are refused
	// (cors.go). Empty allows no browser page to write.
	AllowedOrigins []string
	// Tokens, when any, are required on every request (auth.go).
	Tokens []Token
	// LoopbackOnly: the API listens on loopback only, so a Host that is not
	// an IP, localhost or one of AllowedHosts is refused (cors_host.go).
	LoopbackOnly bool
	AllowedHosts []string
	// Warnings are shown in GET / (e.g. an exposed listener without
	// authentication).
	Warnings []string
	// Quarantined reports why an entity is left out of the Envoy
	// configuration after an Envoy rejected it (the xds server's
	// Quarantined); GET of that entity then carries the reason in
	// QuarantineHeader. Nil: nothing is ever quarantined.
	Quarantined func(id string) (reason string, ok bool)
}

// Server is the Admin API. Create it with New and serve Handler().
type Server struct {
	store  *store.Store
	opts   Options
	log    *slog.Logger
	router *mux.Router
	// endpoints is every registered path with its methods, in registration
	// order, for dispatch, OPTIONS and GET /endpoints.
	endpoints map[string]*endpoint
	order     []string
	started   time.Time
	cors      corsPolicy
	tokens    tokenSet
	hosts     hostPolicy
	// entities are the served entities by table (entity.go), relations
	// their foreign keys by "table.field" (foreign.go).
	entities  map[string]*entity
	relations map[string]*relation

	hash     configHash // config_hash.go: /status configuration_hash
	lastFile lastFile   // config_last.go: POST /config?check_hash=1 without a plan

	totalRequests atomic.Uint64
	activeConns   atomic.Int64
}

// endpoint is one path and the handlers of its methods.
type endpoint struct {
	path    string
	methods map[string]http.Handler
}

// New builds the Admin API over st.
func New(st *store.Store, opts Options) *Server {
	if opts.NodeID == "" {
		opts.NodeID = uuid.NewString()
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		store:     st,
		opts:      opts,
		log:       opts.Logger,
		endpoints: map[string]*endpoint{},
		started:   opts.Now(),
		cors:      newCORSPolicy(opts.AllowedOrigins),
		tokens:    newTokenSet(opts.Tokens),
		hosts:     newHostPolicy(opts.LoopbackOnly, opts.AllowedHosts),
	}
	s.router = mux.NewRouter().UseEncodedPath().SkipClean(true)
	s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errNotFound)
	})
	s.registerRootRoutes()
	s.registerEntities()
	s.registerProxyCacheRoutes()
	s.registerSchemaRoutes()
	s.registerTagRoutes()
	s.registerConfigRoutes()
	s.registerPlaceholderLists()
	return s
}

// Limits of the Admin API's HTTP server (NewHTTPServer). A client that
// dribbles a request or holds an idle keep-alive open loses its connection;
// at most MaxConnections are served at once, more wait in the listen
// backlog.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second // the whole request, body included
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 60 * time.Second // nginx's (Kong's) keepalive_timeout
	MaxHeaderBytes    = 64 << 10
	MaxConnections    = 512
	// ConfigWriteTimeout replaces WriteTimeout for POST /config: a file of
	// 50,000 routes takes most of a minute to validate and commit on two
	// busy cores, and a client whose connection is closed then cannot tell
	// whether the file was applied. Only the answer's deadline moves: the
	// body is read under ReadTimeout as for every request.
	ConfigWriteTimeout = 10 * time.Minute
)

// NewHTTPServer is the http.Server every Admin API listener uses.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// LimitListener bounds the connections served at once (MaxConnections for
// the Admin API).
func LimitListener(l net.Listener, n int) net.Listener { return netutil.LimitListener(l, n) }

// Handler returns the Admin API's HTTP handler: every response carries
// Kong's headers and X-Switchboard-Revision.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Mount serves h at path for the given methods (GET when none are given),
// so that other packages can add /metrics or /clustering/... endpoints. The
// path is a gorilla/mux template ("/clustering/{node}"); it is listed in
// /endpoints and answers HEAD, OPTIONS and 405 like every other path. Call
// Mount before serving requests.
func (s *Server) Mount(path string, h http.Handler, methods ...string) {
	if len(methods) == 0 {
		methods = []string{http.MethodGet}
	}
	for _, m := range methods {
		s.handle(path, m, h)
	}
}

// handle registers h for method on path.
func (s *Server) handle(path, method string, h http.Handler) {
	ep, ok := s.endpoints[path]
	if !ok {
		ep = &endpoint{path: path, methods: map[string]http.Handler{}}
		s.endpoints[path] = ep
		s.order = append(s.order, path)
		s.router.Handle(path, s.dispatch(ep))
	}
	ep.methods[method] = h
}

func (s *Server) handleFunc(path, method string, h http.HandlerFunc) { s.handle(path, method, h) }

// reqState carries per-request facts to the response writer.
type reqState struct {
	revision uint64
	origin   string // the request's Origin header, for the CORS headers
}

type stateKey struct{}

// committed records the revision a write committed, for the
// X-Switchboard-Revision header.
func committed(r *http.Request, rev uint64) {
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		st.revision = rev
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.totalRequests.Add(1)
	s.activeConns.Add(1)
	defer s.activeConns.Add(-1)
	st := &reqState{origin: r.Header.Get("Origin")}
	rw := &respWriter{ResponseWriter: w, s: s, start: time.Now(), state: st, head: r.Method == http.MethodHead}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("admin: panic", "method", r.Method, "path", r.URL.Path, "panic", p)
			if !rw.wroteHeader {
				s.writeError(rw, r, errUnexpected)
			}
		}
	}()
	// Kong tolerates a trailing slash (/upstreams/x/targets/).
	if p := r.URL.Path; len(p) > 1 && p[len(p)-1] == '/' {
		r.URL.Path = p[:len(p)-1]
		if rp := r.URL.RawPath; len(rp) > 1 && rp[len(rp)-1] == '/' {
			r.URL.RawPath = rp[:len(rp)-1]
		}
	}
	if err := s.guard(r); err != nil {
		s.writeError(rw, r, err)
	} else if queryArgCount(r) > maxArgs {
		s.writeError(rw, r, errTooManyArguments)
	} else {
		s.router.ServeHTTP(rw, r)
	}
	s.log.Debug("admin request", "method", r.Method, "path", r.URL.Path, "status", rw.status, "duration", time.Since(rw.start))
}

// dispatch picks the handler by method; HEAD runs GET without a body,
// OPTIONS lists the methods, anything else is 405.
func (s *Server) dispatch(ep *endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if h, ok := ep.methods[method]; ok {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodOptions {
			s.cors.preflight(w, r, allowedMethods(ep))
			return
		}
		s.writeError(w, r, errMethodNotAllowed)
	})
}

func allowedMethods(ep *endpoint) string {
	set := map[string]bool{http.MethodOptions: true}
	for m := range ep.methods {
		set[m] = true
		if m == http.MethodGet {
			set[http.MethodHead] = true
		}
	}
	out := sortedKeys(set)
	var b bytes.Buffer
	for i, m := range out {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m)
	}
	return b.String()
}

// writeJSON renders v with Kong's content type. Slashes are not escaped
// (Kong disables cjson's forward-slash escaping) and neither is HTML.
func (s *Server) writeJSON(w http.ResponseWriter, _ *http.Request, status int, v any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	v = s.present(v) // present.go: rows as Kong renders them
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s.log.Error("admin: encode response", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"message":"An unexpected error occurred"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// respWriter adds Kong's response headers just before the status line goes
// out (the latency is only known then) and drops bodies of HEAD requests.
type respWriter struct {
	http.ResponseWriter
	s           *Server
	start       time.Time
	state       *reqState
	head        bool
	wroteHeader bool
	status      int
}

func (w *respWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader, w.status = true, code
	h := w.Header()
	h.Set("Server", "kong/"+w.s.opts.Version)
	w.s.cors.setHeaders(h, w.state.origin)
	h.Set("X-Kong-Admin-Latency", itoa(time.Since(w.start).Milliseconds()))
	rev := w.state.revision
	if rev == 0 {
		rev = w.s.store.Revision()
	}
	h.Set("X-Switchboard-Revision", itoa(int64(rev)))
	if w.head {
		h.Del("Content-Length")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.head {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets mounted handlers stream.
func (w *respWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var _ io.Writer = (*respWriter)(nil)
