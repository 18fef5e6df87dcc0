package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// corsPolicy is Kong's Admin API CORS (admin_gui_url), made safe for
// credentials. Kong with an empty admin_gui_url echoes any request's Origin
// together with Access-Control-Allow-Credentials: true, so every web page
// the operator visits may read and write the Admin API with the operator's
// credentials. We keep Kong's answers where they are harmless and refuse
// the rest:
//
//   - no Origin (curl, decK, go-kong): Access-Control-Allow-Origin "*" with
//     no allowed list, as Kong answers (its tutorials check for it); the
//     first allowed origin otherwise, as Kong answers its admin_gui_url.
//     "*" never goes out with Allow-Credentials: browsers reject the pair.
//   - an allowed Origin: echoed, with Allow-Credentials: true and Vary.
//   - any other Origin: no CORS headers at all, so the browser hides the
//     response, and a write is refused outright (403) before it runs —
//     form and multipart POSTs are "simple" requests that a hostile page
//     can send without a preflight.
type corsPolicy struct {
	allowed map[string]bool
	first   string
}

func newCORSPolicy(origins []string) corsPolicy {
	c := corsPolicy{allowed: map[string]bool{}}
	for _, o := range origins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			continue // cmd validates the flag; a bad entry allows nothing
		}
		if c.first == "" {
			c.first = n
		}
		c.allowed[n] = true
	}
	return c
}

// NormalizeOrigin turns an --admin-gui-url value ("http://gui.test:8002/x")
// into the origin a browser sends ("http://gui.test:8002"): scheme and
// host, lower case, path dropped, default ports dropped.
func NormalizeOrigin(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an origin (want scheme://host[:port])", raw)
	}
	host := strings.ToLower(u.Host)
	if (u.Scheme == "http" && strings.HasSuffix(host, ":80")) || (u.Scheme == "https" && strings.HasSuffix(host, ":443")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return strings.ToLower(u.Scheme) + "://" + host, nil
}

// isAllowed reports whether a browser page of origin may use the API.
func (c corsPolicy) isAllowed(origin string) bool {
	return c.allowed[strings.ToLower(origin)]
}

// foreign is an Origin that is present and not allowed ("null" included:
// sandboxed frames and file:// pages send it).
func (c corsPolicy) foreign(origin string) bool {
	return origin != "" && !c.isAllowed(origin)
}

// setHeaders adds the Access-Control-Allow-Origin/-Credentials pair for a
// request that carried origin ("" when it carried none).
func (c corsPolicy) setHeaders(h http.Header, origin string) {
	h.Add("Vary", "Origin")
	switch {
	case origin == "" && c.first == "":
		h.Set("Access-Control-Allow-Origin", "*")
	case origin == "":
		h.Set("Access-Control-Allow-Origin", c.first)
		h.Set("Access-Control-Allow-Credentials", "true")
	case c.isAllowed(origin):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// preflight answers OPTIONS on a path as Kong does: the path's methods in
// Allow and Access-Control-Allow-Methods, and the request headers the
// browser asks for (Content-Type when it names none). Kong Manager asks for
// Kong-Admin-Token and Content-Type. A foreign origin gets Allow only: no
// preflight of its succeeds.
func (c corsPolicy) preflight(w http.ResponseWriter, r *http.Request, allow string) {
	h := w.Header()
	h.Set("Allow", allow)
	if !c.foreign(r.Header.Get("Origin")) {
		h.Set("Access-Control-Allow-Methods", allow)
		headers := r.Header.Get("Access-Control-Request-Headers")
		if headers == "" {
			headers = "Content-Type"
		}
		h.Set("Access-Control-Allow-Headers", headers)
	}
	w.WriteHeader(http.StatusNoContent)
}

// safeMethod: methods a browser page may trigger without changing
// anything (the response of a foreign origin stays unreadable to it).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// errForeignOrigin is the answer to a write from a page not on the allowed
// list.
func errForeignOrigin(origin string) *apiError {
	return errStatus(http.StatusForbidden, fmt.Sprintf(
		"cross-origin write from '%s' refused: the origin is not allowed (start switchboard with --admin-gui-url %s to allow it)",
		origin, origin))
}
