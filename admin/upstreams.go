package admin

import (
	"net/http"

	"github.com/switchboard-gw/switchboard/store"
)

// upstreamOptions add Kong's hand-written /upstreams/{u}/health.
var upstreamOptions = entityOptions{
	extras: func(s *Server) {
		s.handleFunc("/upstreams/{upstreams}/health", http.MethodGet, s.handleUpstreamHealth)
	},
}

// parentUpstream finds the upstream of a nested /upstreams/{upstreams}/...
// path, writing 404 (or the lookup error) when there is none.
func (s *Server) parentUpstream(w http.ResponseWriter, r *http.Request, snap *store.Snapshot) *store.Upstream {
	row := s.entities["upstreams"].find(s, w, r, snap, pathVar(r, "upstreams"))
	if row == nil {
		return nil
	}
	return row.(*store.Upstream)
}
