package admin

import (
	"net/http"

	"github.com/switchboard-gw/switchboard/store"
)

// consumerOptions: GET /consumers?custom_id=<v> is Kong's hand-written
// filter (kong/api/routes/consumers.lua): one page of at most one
// consumer, no paging.
var consumerOptions = entityOptions{listQuery: listConsumersByCustomID}

func listConsumersByCustomID(s *Server, w http.ResponseWriter, r *http.Request) bool {
	vals, ok := r.URL.Query()["custom_id"]
	if !ok {
		return false
	}
	if len(vals) == 0 || vals[0] == "" {
		s.writeError(w, r, errStatus(http.StatusBadRequest, "custom_id must be an unempty string"))
		return true
	}
	row, err := s.store.Snapshot().GetUnique("consumers", "custom_id", vals[0])
	if err != nil {
		s.writeError(w, r, err)
		return true
	}
	var rows []store.Row
	if row != nil {
		rows = append(rows, row)
	}
	s.writeJSON(w, r, http.StatusOK, newPage(rows, "", ""))
	return true
}
