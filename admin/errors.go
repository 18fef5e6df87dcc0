package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// Kong's database error codes (kong/db/errors.lua). Only those we emit.
const (
	codeSchemaViolation       = 2
	codePrimaryKeyViolation   = 3
	codeForeignKeyViolation   = 4
	codeUniqueViolation       = 5
	codeInvalidOffset         = 7
	codeInvalidSize           = 9
	codeInvalidUnique         = 10
	codeInvalidOptions        = 11
	codeForeignKeysUnresolved = 13
	codeReferencedByOthers    = 19
)

// kongError is the JSON body of a Kong DB error. Field order matches Kong's
// responses; Fields and Options are left out when empty.
type kongError struct {
	Code    int    `json:"code"`
	Name    string `json:"name"`
	Message string `json:"message"`
	Fields  any    `json:"fields,omitempty"`
	Options any    `json:"options,omitempty"`
}

// apiError is an error that already knows its HTTP status and body. Handlers
// build them for request-level problems; writeError renders them as is.
type apiError struct {
	status int
	body   any
}

func (e *apiError) Error() string {
	b, _ := json.Marshal(e.body)
	return fmt.Sprintf("http %d: %s", e.status, b)
}

type messageBody struct {
	Message string `json:"message"`
}

func errStatus(status int, msg string) *apiError {
	return &apiError{status: status, body: messageBody{Message: msg}}
}

var (
	errNotFound          = errStatus(http.StatusNotFound, "Not found")
	errMethodNotAllowed  = errStatus(http.StatusMethodNotAllowed, "Method not allowed")
	errCannotParseJSON   = errStatus(http.StatusBadRequest, "Cannot parse JSON body")
	errTooManyArguments  = errStatus(http.StatusBadRequest, "Too many arguments")
	errUnsupportedMedia  = errStatus(http.StatusUnsupportedMediaType, "Unsupported Media Type")
	errUnexpected        = errStatus(http.StatusInternalServerError, "An unexpected error occurred")
	errInvalidSizeNumber = &apiError{status: http.StatusBadRequest, body: kongError{Code: codeInvalidSize, Name: "invalid size", Message: "size must be a number"}}
	errInvalidSizeRange  = &apiError{status: http.StatusBadRequest, body: kongError{Code: codeInvalidSize, Name: "invalid size", Message: "size must be an integer between 1 and 1000"}}
)

func errInvalidOffset(offset, why string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: kongError{
		Code: codeInvalidOffset, Name: "invalid offset",
		Message: fmt.Sprintf("'%s' is not a valid offset: %s", offset, why),
	}}
}

func errInvalidOption(option, why string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: kongError{
		Code: codeInvalidOptions, Name: "invalid options",
		Message: fmt.Sprintf("invalid option (%s: %s)", option, why),
		Options: map[string]string{option: why},
	}}
}

// errInvalidUnique is Kong's answer to an endpoint key that fails its
// field's validator, e.g. PUT /upstreams/1.2.3.4.
func errInvalidUnique(field, why string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: kongError{
		Code: codeInvalidUnique, Name: "invalid unique " + field, Message: why,
	}}
}

// schemaViolation builds Kong's code 2 error. The message lists entity errors
// first, then fields in sorted order; a table-valued field error expands one
// level ("protocols.1: ...", "service.id: ..."), deeper tables are printed the
// way Kong prints them, with Penlight's pretty writer.
// fieldErrors and indexErrors are Kong's error tables, defined with the
// schema engine that fills them.
type (
	fieldErrors = schema.FieldErrors
	indexErrors = schema.IndexErrors
)

func schemaViolation(errs schema.FieldErrors) *apiError {
	var buf []string
	if list, ok := errs[schema.EntityKey].([]string); ok {
		buf = append(buf, list...)
	}
	for _, name := range sortedKeys(errs) {
		if name == schema.EntityKey {
			continue
		}
		switch v := errs[name].(type) {
		case schema.FieldErrors:
			for _, sub := range sortedKeys(v) {
				buf = append(buf, fmt.Sprintf("%s.%s: %s", name, sub, prettyValue(v[sub])))
			}
		case schema.IndexErrors:
			for _, i := range v.Indexes() {
				buf = append(buf, fmt.Sprintf("%s.%d: %s", name, i, prettyValue(v[i])))
			}
		default:
			buf = append(buf, fmt.Sprintf("%s: %s", name, prettyValue(v)))
		}
	}
	msg := fmt.Sprintf("%d schema violations (%s)", len(buf), strings.Join(buf, "; "))
	if len(buf) == 1 {
		msg = fmt.Sprintf("schema violation (%s)", buf[0])
	}
	return &apiError{status: http.StatusBadRequest, body: kongError{
		Code: codeSchemaViolation, Name: "schema violation", Message: msg, Fields: errs,
	}}
}

func sortedKeys[V any](m map[string]V) []string { return schema.SortedKeys(m) }

// prettyValue renders an error value for a message: strings as they are,
// tables the way Penlight's pretty.write does (two-space indent, sorted
// keys, identifiers bare).
func prettyValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	writePretty(&b, v, "  ", "")
	return b.String()
}

// writePretty emulates pl.pretty.write(v, indent). With indent "" it
// produces Kong's compact key form, e.g. {name="x",upstream={id="y"}}.
func writePretty(b *strings.Builder, v any, indent, prefix string) {
	nl, inner := "", prefix+indent
	if indent != "" {
		nl = "\n"
	}
	sep := " = "
	if indent == "" {
		sep = "="
	}
	type item struct{ key, val any }
	var items []item
	switch t := v.(type) {
	case string:
		b.WriteString(strconv.Quote(t))
		return
	case []string:
		for _, s := range t {
			items = append(items, item{nil, s})
		}
	case schema.IndexErrors:
		// A sequence (1..n) prints without keys, a sparse table with them.
		idx := t.Indexes()
		seq := len(idx) == 0 || idx[len(idx)-1] == len(idx)
		for _, i := range idx {
			if seq {
				items = append(items, item{nil, t[i]})
			} else {
				items = append(items, item{i, t[i]})
			}
		}
	case schema.FieldErrors:
		for _, k := range sortedKeys(t) {
			items = append(items, item{k, t[k]})
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			items = append(items, item{k, t[k]})
		}
	default:
		fmt.Fprint(b, t)
		return
	}
	b.WriteString("{" + nl)
	for i, it := range items {
		b.WriteString(inner)
		switch k := it.key.(type) {
		case string:
			if isLuaIdentifier(k) {
				b.WriteString(k + sep)
			} else {
				b.WriteString("[" + strconv.Quote(k) + "]" + sep)
			}
		case int:
			b.WriteString("[" + strconv.Itoa(k) + "]" + sep)
		}
		writePretty(b, it.val, indent, inner)
		if i < len(items)-1 {
			b.WriteString(",")
		}
		b.WriteString(nl)
	}
	b.WriteString(prefix + "}")
}

// luaNull renders as Lua's pretty-printed null.
type luaNull struct{}

func (luaNull) String() string { return "null" }

func isLuaIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// prettyKey renders a unique or primary key the way Kong's messages quote it:
// '{name="my.upstream"}'.
func prettyKey(fields []store.Field) string {
	m := map[string]any{}
	for _, f := range fields {
		switch v := f.Value.(type) {
		case store.ForeignKey:
			m[f.Name] = map[string]any{"id": v.ID}
		case nil:
			m[f.Name] = luaNull{} // a null in a composite key (a global plugin's scope)
		default:
			m[f.Name] = fmt.Sprint(v)
		}
	}
	var b strings.Builder
	writePretty(&b, m, "", "")
	return b.String()
}

// writeError is the only place that maps errors to HTTP responses: request
// errors carry their own shape, store errors follow Kong's status table, and
// anything else is a 500 whose cause is logged, never shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		api  *apiError
		uniq *store.UniqueError
		pk   *store.PrimaryKeyError
		fk   *store.ForeignKeyError
		ref  *store.ReferencedError
	)
	switch {
	case errors.As(err, &api):
	case errors.As(err, &uniq):
		fields := map[string]any{}
		for _, f := range uniq.Fields {
			if v, ok := f.Value.(store.ForeignKey); ok {
				fields[f.Name] = map[string]string{"id": v.ID}
			} else {
				fields[f.Name] = f.Value
			}
		}
		api = &apiError{status: http.StatusConflict, body: kongError{
			Code: codeUniqueViolation, Name: "unique constraint violation",
			Message: fmt.Sprintf("UNIQUE violation detected on '%s'", prettyKey(uniq.Fields)),
			Fields:  fields,
		}}
	case errors.As(err, &pk):
		// Kong's generic helper answers 400 but its fallback handler 409; the
		// contract recommends 409 so that decK sees a conflict.
		api = &apiError{status: http.StatusConflict, body: kongError{
			Code: codePrimaryKeyViolation, Name: "primary key violation",
			Message: fmt.Sprintf("primary key violation on key '%s'", prettyKey([]store.Field{{Name: "id", Value: pk.ID}})),
			Fields:  map[string]string{"id": pk.ID},
		}}
	case errors.As(err, &fk):
		api = errForeignKey(fk.Field, fk.Entity, fk.ID)
	case errors.As(err, &ref) && ref.Entity == "ca_certificates":
		// Kong's CA DAO checks its referrers itself (code 19).
		api = &apiError{status: http.StatusBadRequest, body: kongError{
			Code: codeReferencedByOthers, Name: "referenced by others",
			Message: fmt.Sprintf("ca certificate %s is still referenced by %s (id = %s)", ref.ID, ref.ReferencedBy, ref.ReferrerID),
		}}
	case errors.As(err, &ref):
		api = &apiError{status: http.StatusBadRequest, body: kongError{
			Code: codeForeignKeyViolation, Name: "foreign key violation",
			Message: fmt.Sprintf("an existing '%s' entity references this '%s' entity", ref.ReferencedBy, ref.Entity),
			Fields:  map[string]string{"@referenced_by": ref.ReferencedBy},
		}}
	case errors.Is(err, store.ErrNotFound):
		api = errNotFound
	case errors.Is(err, store.ErrUnavailable):
		api = errStatus(http.StatusServiceUnavailable, err.Error())
	default:
		s.log.Error("admin: unexpected error", "method", r.Method, "path", r.URL.Path, "err", err)
		api = errUnexpected
	}
	s.writeJSON(w, r, api.status, api.body)
}

// errForeignKey is Kong's code 4 for a reference to a missing entity.
func errForeignKey(field, entity, id string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: kongError{
		Code: codeForeignKeyViolation, Name: "foreign key violation",
		Message: fmt.Sprintf("the foreign key '%s' does not reference an existing '%s' entity.",
			prettyKey([]store.Field{{Name: "id", Value: id}}), entity),
		Fields: map[string]any{field: map[string]string{"id": id}},
	}}
}

// errForeignUnresolved is Kong's code 13: a foreign reference by endpoint key
// (service: {name: "x"}) that matches nothing.
func errForeignUnresolved(field, key, value, entity string) *apiError {
	why := fmt.Sprintf("the foreign key cannot be resolved with '%s' for an existing '%s' entity",
		prettyKey([]store.Field{{Name: key, Value: value}}), entity)
	return &apiError{status: http.StatusBadRequest, body: kongError{
		Code: codeForeignKeysUnresolved, Name: "foreign keys unresolved",
		Message: fmt.Sprintf("foreign key unresolved (%s.%s: %s)", field, key, why),
		Fields:  map[string]any{field: map[string]string{key: why}},
	}}
}
