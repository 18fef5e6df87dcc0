package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-gw/switchboard/schema"
)

// Input limits. Kong itself caps only arguments (1000) and, through nginx,
// the body; switchboard also bounds what one request may cost in stack and
// heap, and what one stored entity may weigh: every entity is replicated
// through the raft log, kept in memory on every node, translated on every
// change and sent to every Envoy. The numbers are generous for real
// configurations (decK sends one entity per request) and far below what
// hurts: a 7 MB body with a million tags used to cost 450 MiB of heap.
const (
	// maxArgs is Kong's limit on form and query arguments.
	maxArgs = 1000
	// maxBody bounds a write request's body (413 beyond).
	maxBody = 1 << 20
	// maxEntityBytes bounds the decoded entity: strings, keys and about 8
	// bytes per other value (413 beyond).
	maxEntityBytes = 256 << 10
	// maxDepth bounds nesting of objects and arrays; the deepest Kong field
	// (healthchecks.active.healthy.http_statuses[1]) is 5 levels down. Form
	// keys are checked before anything is built, JSON is bounded by
	// encoding/json at 10000 and then refused here, so no decoder or
	// validator ever recurses deeper than this.
	maxDepth = 16
	// maxElements bounds each array (tags, paths, hosts, statuses...) and
	// each map (headers).
	maxElements = 1000
	// maxString is the length cap of string fields not listed in
	// stringCaps.
	maxString = 4096
)

// stringCaps are tighter caps by field name (the innermost named key, so
// "hosts" covers every element of hosts). DNS names are at most 253 bytes;
// the extra room is for ":port" and wildcards.
var stringCaps = map[string]int{
	"name":     255,
	"host":     260,
	"hosts":    260,
	"snis":     260,
	"target":   270,
	"tags":     255,
	"id":       64,
	"protocol": 32,
	"methods":  32,
}

// limitError is one violation found while walking the input.
type limitError struct {
	path   []pathElem
	msg    string
	status int // 400 or 413
}

// pathElem is a field name, or a 1-based array index when index > 0 (a
// field may well be named "0" or "2").
type pathElem struct {
	name  string
	index int
}

func names(ns ...string) []pathElem {
	out := make([]pathElem, len(ns))
	for i, n := range ns {
		out[i] = pathElem{name: n}
	}
	return out
}

// checkInput is the single gate every decoded write body passes before the
// schema sees it: size, depth, element counts, string lengths and UTF-8,
// then Envoy's own rules for the entity's fields. badUTF8 says the raw JSON
// body held invalid UTF-8, which encoding/json has turned into U+FFFD.
func checkInput(entity string, input map[string]any, badUTF8 bool) error {
	errs := walkLimits(input, badUTF8)
	if len(errs) == 0 {
		errs = envoyRules(entity, input)
	}
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs {
		if e.status == http.StatusRequestEntityTooLarge {
			return errStatus(e.status, e.msg)
		}
	}
	fe := fieldErrors{}
	for _, e := range errs {
		setFieldError(fe, e.path, e.msg)
	}
	return schemaViolation(fe)
}

// walkLimits visits the input with an explicit stack (never recursion) and
// reports at most a handful of violations, so that the error body stays
// small too.
func walkLimits(input map[string]any, badUTF8 bool) []limitError {
	type item struct {
		path []pathElem
		v    any
	}
	const maxReported = 10
	var errs []limitError
	report := func(path []pathElem, msg string) {
		if len(errs) < maxReported {
			errs = append(errs, limitError{path: path, msg: msg, status: http.StatusBadRequest})
		}
	}
	size := 0
	stack := []item{{v: input}}
	for len(stack) > 0 && len(errs) < maxReported {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(it.path) > maxDepth {
			report(it.path[:maxDepth], fmt.Sprintf("nesting too deep: at most %d levels", maxDepth))
			continue
		}
		size += 8
		switch v := it.v.(type) {
		case string:
			size += len(v)
			if msg := stringProblem(it.path, v, badUTF8); msg != "" {
				report(it.path, msg)
			}
		case map[string]any:
			if len(v) > maxElements {
				report(it.path, fmt.Sprintf("length must be at most %d", maxElements))
				continue
			}
			for k, e := range v {
				size += len(k)
				if !utf8.ValidString(k) || (badUTF8 && strings.ContainsRune(k, utf8.RuneError)) {
					report(append(clonePath(it.path), pathElem{name: k}), "invalid key: expected valid UTF-8")
					continue
				}
				stack = append(stack, item{append(clonePath(it.path), pathElem{name: k}), e})
			}
		case []any:
			if len(v) > maxElements {
				report(it.path, fmt.Sprintf("length must be at most %d", maxElements))
				continue
			}
			for i, e := range v {
				stack = append(stack, item{append(clonePath(it.path), pathElem{index: i + 1}), e})
			}
		case json.Number:
			size += len(v)
		}
		if size > maxEntityBytes {
			return []limitError{{status: http.StatusRequestEntityTooLarge,
				msg: fmt.Sprintf("Request Entity Too Large: an entity may hold at most %d bytes", maxEntityBytes)}}
		}
	}
	return errs
}

func stringProblem(path []pathElem, s string, badUTF8 bool) string {
	if !utf8.ValidString(s) || (badUTF8 && strings.ContainsRune(s, utf8.RuneError)) {
		return "expected a valid UTF-8 string"
	}
	limit := maxString
	if name := fieldName(path); name != "" {
		if c, ok := stringCaps[name]; ok {
			limit = c
		}
	}
	if len(s) > limit {
		return fmt.Sprintf("length must be at most %d", limit)
	}
	return ""
}

// fieldName is the innermost named (non-index) element of path.
func fieldName(path []pathElem) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i].index == 0 {
			return path[i].name
		}
	}
	return ""
}

func clonePath(p []pathElem) []pathElem {
	return append(make([]pathElem, 0, len(p)+1), p...)
}

// setFieldError places msg at path in Kong's error table: names make nested
// records, indexes array elements. A slot already holding an error keeps it.
func setFieldError(fe fieldErrors, path []pathElem, msg string) {
	if len(path) == 0 {
		fe.AddEntity(msg)
		return
	}
	var cur any = fe
	for i, p := range path {
		var next any = msg
		if i < len(path)-1 {
			if path[i+1].index > 0 {
				next = indexErrors{}
			} else {
				next = fieldErrors{}
			}
		}
		var existing any
		switch c := cur.(type) {
		case fieldErrors:
			if p.index > 0 {
				return
			}
			if existing = c[p.name]; existing == nil {
				c[p.name] = next
			}
		case indexErrors:
			if p.index <= 0 {
				return
			}
			if existing = c[p.index]; existing == nil {
				c[p.index] = next
			}
		}
		if existing != nil {
			next = existing
		}
		switch next.(type) {
		case fieldErrors, indexErrors:
			cur = next
		default:
			return
		}
	}
}

// envoyRules applies schema's Envoy validators to the fields of one entity
// input. Values of the wrong type are left to the schema, which reports
// them in Kong's words.
func envoyRules(entity string, in map[string]any) []limitError {
	var errs []limitError
	bad := func(msg string, path ...pathElem) {
		errs = append(errs, limitError{path: path, msg: msg, status: http.StatusBadRequest})
	}
	switch entity {
	case "routes":
		for i, p := range stringList(in["paths"]) {
			var msg string
			if re, ok := strings.CutPrefix(p, "~"); ok {
				if msg = schema.PathBytesProblem(re); msg == "" {
					if m := schema.RoutePathRegexProblem(re); m != "" {
						msg = fmt.Sprintf("invalid regex: '%s' (%s)", re, m)
					}
				}
			} else {
				msg = schema.RoutePlainPathProblem(p)
			}
			if msg != "" {
				bad(msg, pathElem{name: "paths"}, pathElem{index: i + 1})
			}
		}
		if msg := schema.RouteMethodsProblem(dedupeStrings(stringList(in["methods"]))); msg != "" {
			bad(msg, pathElem{name: "methods"})
		}
		if h, ok := in["headers"].(map[string]any); ok {
			for name, vals := range h {
				if msg := schema.RouteHeaderValuesProblem(stringList(vals)); msg != "" {
					bad(msg, names("headers", name)...)
				}
			}
		}
	case "upstreams":
		hc, _ := in["healthchecks"].(map[string]any)
		active, _ := hc["active"].(map[string]any)
		if n, ok := number(active["timeout"]); ok {
			if msg := schema.HealthCheckIntervalProblem(n); msg != "" {
				bad(msg, names("healthchecks", "active", "timeout")...)
			}
		}
		for _, state := range []string{"healthy", "unhealthy"} {
			sub, _ := active[state].(map[string]any)
			if n, ok := number(sub["interval"]); ok {
				if msg := schema.HealthCheckIntervalProblem(n); msg != "" {
					bad(msg, names("healthchecks", "active", state, "interval")...)
				}
			}
		}
		if h, ok := active["headers"].(map[string]any); ok {
			for name, vals := range h {
				for _, v := range stringList(vals) {
					if msg := schema.HeaderValueProblem(v); msg != "" {
						bad(msg, names("healthchecks", "active", "headers", name)...)
						break
					}
				}
			}
		}
	}
	return errs
}

// stringList reads a string or a list of strings; anything else is empty.
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// dedupeStrings keeps the first of each value (methods is a set).
func dedupeStrings(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// number reads a JSON or form number.
func number(v any) (float64, bool) {
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case float64:
		return t, true
	case int64:
		return float64(t), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil
	}
	return 0, false
}
