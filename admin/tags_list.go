package admin

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/switchboard-gw/switchboard/store"
)

// tagRow is one row of Kong's /tags listing: which entity carries a tag.
type tagRow struct {
	EntityName string `json:"entity_name"`
	EntityID   string `json:"entity_id"`
	Tag        string `json:"tag"`
}

// tagCursor is where a /tags page starts: the entity table, the row id and
// the tag's position in that row's tags, all exclusive. Walking tables in
// the store's order and rows in id order keeps pages stable under
// concurrent writes, like the entity lists.
type tagCursor struct {
	Table string
	ID    string
	Tag   int
}

func (s *Server) registerTagRoutes() {
	s.handleFunc("/tags", http.MethodGet, func(w http.ResponseWriter, r *http.Request) { s.handleTags(w, r, "", false) })
	s.handleFunc("/tags/{tag}", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		tag := pathVar(r, "tag")
		if !utf8.ValidString(tag) {
			s.writeError(w, r, errStatus(http.StatusBadRequest, "invalid utf-8 in tag"))
			return
		}
		s.handleTags(w, r, tag, true)
	})
}

// handleTags lists {entity_name, entity_id, tag} across every tagged entity
// the Admin API serves; ?tags= is ignored there, as in Kong.
func (s *Server) handleTags(w http.ResponseWriter, r *http.Request, only string, filter bool) {
	pq, err := parsePageQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var cur tagCursor
	if pq.hasOffset {
		if cur, err = decodeTagOffset(pq.offset); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	snap := s.store.Snapshot()
	var out []tagRow
	var last tagCursor
	more := false
	started := cur.Table == ""
	for _, k := range s.store.Kinds() {
		e := s.entities[k.Table]
		if e == nil || !k.Tagged || more {
			continue
		}
		after := ""
		if !started {
			if k.Table != cur.Table {
				continue
			}
			started, after = true, cur.ID
		}
		// emit adds row's tags from position from on; false once the page is full.
		emit := func(row store.Row, from int) bool {
			if e.hidden != nil && e.hidden(row, e.now()) {
				return true
			}
			id := e.id(row)
			tags := rowTags(row)
			for i := from; i < len(tags); i++ {
				if filter && tags[i] != only {
					continue
				}
				if len(out) == pq.size {
					more = true
					return false
				}
				out = append(out, tagRow{EntityName: k.Table, EntityID: id, Tag: tags[i]})
				last = tagCursor{Table: k.Table, ID: id, Tag: i}
			}
			return true
		}
		if after != "" {
			// The page ended inside this row: finish its tags first.
			if row, err := snap.Get(k.Table, after); err == nil && row != nil && !emit(row, cur.Tag+1) {
				continue
			}
		}
		err := snap.Walk(k.Table, after, func(row store.Row) bool { return emit(row, 0) })
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	offset, next := "", ""
	if more {
		offset = encodeTagOffset(last)
		base := "/tags"
		if filter {
			base += "/" + escapeURI(only)
		}
		next = nextLink(base, offset, "", pq, false)
	}
	s.writeJSON(w, r, http.StatusOK, newPage(out, offset, next))
}

func encodeTagOffset(c tagCursor) string {
	b, _ := json.Marshal([]any{c.Table, c.ID, c.Tag})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeTagOffset(offset string) (tagCursor, error) {
	raw, err := base64.StdEncoding.DecodeString(offset)
	if err != nil {
		return tagCursor{}, errInvalidOffset(offset, "bad base64 encoding")
	}
	var key []json.RawMessage
	var c tagCursor
	if json.Unmarshal(raw, &key) != nil || len(key) != 3 ||
		json.Unmarshal(key[0], &c.Table) != nil || json.Unmarshal(key[1], &c.ID) != nil ||
		json.Unmarshal(key[2], &c.Tag) != nil || c.Table == "" {
		return tagCursor{}, errInvalidOffset(offset, "bad json encoding")
	}
	return c, nil
}
