package admin

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-gw/switchboard/schema"
)

// maxTagFilter is Kong's limit on tags in one ?tags= filter.
const maxTagFilter = 5

// tagFilter is a parsed ?tags= query: a,b (all of them) or a/b (any).
type tagFilter struct {
	raw  string
	tags []string
	any  bool
}

// parseTagFilter reads ?tags= for a top-level list; nil when absent.
// Errors are Kong's code 11 "invalid options" bodies.
func parseTagFilter(r *http.Request) (*tagFilter, error) {
	vals, ok := r.URL.Query()["tags"]
	if !ok {
		return nil, nil
	}
	raw := vals[0]
	if raw == "" {
		return nil, errInvalidOption("tags", "cannot be null")
	}
	f := &tagFilter{raw: raw}
	hasAnd, hasOr := strings.Contains(raw, ","), strings.Contains(raw, "/")
	switch {
	case hasAnd && hasOr:
		return nil, errInvalidOption("tags", "invalid filter syntax")
	case hasOr:
		f.tags, f.any = strings.Split(raw, "/"), true
	default:
		f.tags = strings.Split(raw, ",")
	}
	for _, t := range f.tags {
		if !utf8.ValidString(t) || !schema.ValidTagChars(t) {
			return nil, errInvalidOption("tags", "invalid filter syntax")
		}
	}
	if len(f.tags) > maxTagFilter {
		return nil, errInvalidOption("tags", "cannot query more than 5 tags")
	}
	return f, nil
}

// match reports whether an entity's tags satisfy the filter.
func (f *tagFilter) match(tags []string) bool {
	if f == nil {
		return true
	}
	has := func(t string) bool {
		for _, e := range tags {
			if e == t {
				return true
			}
		}
		return false
	}
	for _, t := range f.tags {
		if has(t) == f.any {
			return f.any
		}
	}
	return !f.any
}

func (f *tagFilter) rawValue() string {
	if f == nil {
		return ""
	}
	return f.raw
}
