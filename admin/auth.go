package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Token is one Admin API credential (--admin-token, --admin-tokens-file).
// Clients send it as Kong's RBAC header Kong-Admin-Token or as
// Authorization: Bearer.
type Token struct {
	Secret string
	// ReadOnly tokens may GET (and HEAD) but not write.
	ReadOnly bool
}

// tokenSet checks credentials in constant time: every secret is hashed to
// the same length first, and every configured token is compared, so
// neither a token's length nor which token matched shows in the timing.
type tokenSet struct {
	hashes   [][sha256.Size]byte
	readOnly []bool
}

func newTokenSet(tokens []Token) tokenSet {
	var ts tokenSet
	for _, t := range tokens {
		if t.Secret == "" {
			continue
		}
		ts.hashes = append(ts.hashes, sha256.Sum256([]byte(t.Secret)))
		ts.readOnly = append(ts.readOnly, t.ReadOnly)
	}
	return ts
}

func (ts tokenSet) enabled() bool { return len(ts.hashes) > 0 }

// match returns whether secret is a configured token and whether the best
// token it matches is read-only.
func (ts tokenSet) match(secret string) (ok, readOnly bool) {
	h := sha256.Sum256([]byte(secret))
	readOnly = true
	for i, want := range ts.hashes {
		if subtle.ConstantTimeCompare(h[:], want[:]) == 1 {
			ok = true
			readOnly = readOnly && ts.readOnly[i]
		}
	}
	return ok, ok && readOnly
}

// requestToken is the credential a request carries, "" when none.
func requestToken(r *http.Request) string {
	if t := r.Header.Get("Kong-Admin-Token"); t != "" {
		return t
	}
	const bearer = "bearer "
	if a := r.Header.Get("Authorization"); len(a) > len(bearer) && strings.EqualFold(a[:len(bearer)], bearer) {
		return strings.TrimSpace(a[len(bearer):])
	}
	return ""
}

// Kong Enterprise's RBAC answers, so that Kong clients show the usual
// messages.
var errNoCredentials = errStatus(http.StatusUnauthorized, "Invalid credentials. Token or User credentials required")

func errReadOnly(method string) *apiError {
	action := "update"
	switch method {
	case http.MethodPost:
		action = "create"
	case http.MethodDelete:
		action = "delete"
	}
	return errStatus(http.StatusForbidden, "you do not have permissions to "+action+" this resource")
}

// guard runs before any handler: browser safety first (cors_host.go,
// cors.go), then credentials.
func (s *Server) guard(r *http.Request) *apiError {
	if !s.hosts.allowed(r.Host) {
		return errHostNotAllowed(r.Host)
	}
	if origin := r.Header.Get("Origin"); s.cors.foreign(origin) && !safeMethod(r.Method) {
		return errForeignOrigin(origin)
	}
	return s.authorize(r)
}

// authorize refuses a request without a valid token (401) and a write with
// a read-only one (403) when tokens are configured. Preflights pass: a
// browser never sends credentials on them, and they change nothing.
func (s *Server) authorize(r *http.Request) *apiError {
	if !s.tokens.enabled() || r.Method == http.MethodOptions {
		return nil
	}
	ok, readOnly := s.tokens.match(requestToken(r))
	switch {
	case !ok:
		return errNoCredentials
	case readOnly && !safeMethod(r.Method):
		return errReadOnly(r.Method)
	}
	return nil
}
