package raftstore

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// membersOnly lets through only requests that carry the cluster secret,
// come from no browser and, for writes, are JSON. These paths can replace
// the whole configuration (snapshot restore), add a voter (join) or commit
// any write (apply): a web page the operator visits must not reach them
// (a cross-origin text/plain POST needs no preflight), and neither may a
// stranger on the network.
//
// An empty secret refuses everything: the paths are never open by default.
func membersOnly(secret string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Browsers send Origin on every cross-origin request and on
		// same-origin writes, and Sec-Fetch-Site on all requests; peers
		// and the CLI send neither.
		if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "" {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "internal cluster endpoint: not for browsers"})
			return
		}
		got := sha256.Sum256([]byte(r.Header.Get(SecretHeader)))
		if secret == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{
				"message": "internal cluster endpoint: the cluster secret is missing or wrong (" + SecretHeader + ")",
			})
			return
		}
		if r.Method == http.MethodPost {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"message": "internal cluster endpoint: expected application/json"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// validMember checks a join request: a bogus address in the raft
// configuration would cost the cluster its quorum.
func validMember(m Member) error {
	if len(m.ID) > 256 || strings.ContainsAny(m.ID, "\x00\r\n") {
		return errors.New("id: at most 256 characters, no control characters")
	}
	if err := validHostPort(m.RaftAddr); err != nil {
		return fmt.Errorf("raft_address: %w", err)
	}
	if m.AdminAddr != "" {
		addr := strings.TrimPrefix(strings.TrimPrefix(m.AdminAddr, "https://"), "http://")
		if err := validHostPort(addr); err != nil {
			return fmt.Errorf("admin_address: %w", err)
		}
	}
	return nil
}

func validHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("invalid port %q", port)
	}
	if host == "" {
		return errors.New("missing host")
	}
	return nil
}
