package admin

import "net/http"

// placeholderLists are the collections decK reads on every dump, diff and
// sync (docs/kong-contract.md §5): it aborts on a 404 from certificates and
// snis, and reads ca_certificates and key-auths. Until the store has a kind
// for one of them, its collection answers Kong's empty list envelope, so
// that decK works on the entities that exist. A served entity (registered
// from the store registry) takes the path and its placeholder disappears.
var placeholderLists = []string{"/plugins", "/consumers", "/certificates", "/snis", "/ca_certificates", "/key-auths"}

func (s *Server) registerPlaceholderLists() {
	for _, path := range placeholderLists {
		if _, ok := s.endpoints[path]; ok {
			continue
		}
		s.handleFunc(path, http.MethodGet, s.handleEmptyList)
	}
}

func (s *Server) handleEmptyList(w http.ResponseWriter, r *http.Request) {
	if _, err := parsePageQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := parseTagFilter(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, newPage([]any{}, "", ""))
}
