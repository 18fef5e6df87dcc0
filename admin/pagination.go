package admin

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// Kong's page sizes.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageResult is Kong's list envelope. Data is never nil so that an empty
// list renders as [] (go-kong and Kong's tests rely on it); Offset is left
// out on the last page, where Next is null.
type pageResult struct {
	Data   []any   `json:"data"`
	Offset *string `json:"offset,omitempty"`
	Next   *string `json:"next"`
}

// pageQuery is the parsed size/offset of a list request.
type pageQuery struct {
	size      int
	sizeSet   bool
	offset    string
	hasOffset bool
}

func parsePageQuery(r *http.Request) (pageQuery, error) {
	q := r.URL.Query()
	pq := pageQuery{size: defaultPageSize}
	if v, ok := q["size"]; ok {
		n, isNum := luaToNumber(v[0])
		if !isNum {
			return pq, errInvalidSizeNumber
		}
		i, isInt := schema.ToInt(n)
		if !isInt || i < 1 || i > maxPageSize {
			return pq, errInvalidSizeRange
		}
		pq.size, pq.sizeSet = int(i), true
	}
	if v, ok := q["offset"]; ok {
		pq.offset, pq.hasOffset = v[0], true
	}
	return pq, nil
}

// cursor is the id after which an opaque-offset page starts ("" for the
// first page).
func (pq pageQuery) cursor() (string, error) {
	if !pq.hasOffset {
		return "", nil
	}
	return decodeOffset(pq.offset)
}

// encodeOffset makes Kong's opaque offset: base64 of a JSON array holding
// the last primary key of the page, as Kong's Postgres strategy does.
func encodeOffset(id string) string {
	b, _ := json.Marshal([]string{id})
	return base64.StdEncoding.EncodeToString(b)
}

// decodeOffset returns the id after which the next page starts.
func decodeOffset(offset string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(offset)
	if err != nil {
		return "", errInvalidOffset(offset, "bad base64 encoding")
	}
	var key []string
	if err := json.Unmarshal(raw, &key); err != nil || len(key) != 1 {
		return "", errInvalidOffset(offset, "bad json encoding")
	}
	return key[0], nil
}

// walkFunc is a store cursor: it visits rows with id > after in id order
// until fn returns false.
type walkFunc func(after string, fn func(store.Row) bool) error

// walkPage reads one page from a cursor without materialising the table:
// up to size rows that keep accepts, plus a peek at one more to know
// whether a next page exists. next is the offset of that page, or "".
func walkPage(walk walkFunc, after string, size int, keep func(store.Row) bool, id func(store.Row) string) ([]store.Row, string, error) {
	var rows []store.Row
	more := false
	err := walk(after, func(row store.Row) bool {
		if keep != nil && !keep(row) {
			return true
		}
		if len(rows) == size {
			more = true
			return false
		}
		rows = append(rows, row)
		return true
	})
	if err != nil {
		return nil, "", err
	}
	if more {
		return rows, encodeOffset(id(rows[len(rows)-1])), nil
	}
	return rows, "", nil
}

// slicePage pages an already ordered list by integer offset, the way
// Kong's targets DAO pages targets (newest first, offset "3", "6", ...).
func slicePage[T any](rows []T, pq pageQuery) ([]T, string, error) {
	start := 0
	if pq.hasOffset {
		n, err := strconv.Atoi(strings.TrimSpace(pq.offset))
		if err != nil || n < 0 {
			return nil, "", errInvalidOffset(pq.offset, "not a number")
		}
		start = n
	}
	if start >= len(rows) {
		return nil, "", nil
	}
	end := min(start+pq.size, len(rows))
	next := ""
	if end < len(rows) {
		next = strconv.Itoa(end)
	}
	return rows[start:end], next, nil
}

// newPage builds the envelope; next is the relative path of the next page
// (nil on the last one).
func newPage[T any](rows []T, offset, next string) pageResult {
	data := make([]any, len(rows))
	for i, r := range rows {
		data[i] = r
	}
	p := pageResult{Data: data}
	if offset != "" {
		p.Offset = &offset
		p.Next = &next
	}
	return p
}

// nextLink is the relative "next" path: base?offset=..., plus tags and size
// on top-level lists when the request gave them.
func nextLink(base, offset string, tags string, pq pageQuery, topLevel bool) string {
	s := base + "?offset=" + escapeURI(offset)
	if topLevel {
		if tags != "" {
			s += "&tags=" + escapeURI(tags)
		}
		if pq.sizeSet {
			s += "&size=" + strconv.Itoa(pq.size)
		}
	}
	return s
}

// escapeURI is ngx.escape_uri: spaces become %20, not '+'.
func escapeURI(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
