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
	path   []string // field names and 1-based indexes
	msg    string
	status int // 400 or 413
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
		path []string
		v    any
	}
	const maxReported = 10
	var errs []limitError
	report := func(path []string, msg string) {
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
					report(append(clonePath(it.path), k), "invalid key: expected valid UTF-8")
					continue
				}
				stack = append(stack, item{append(clonePath(it.path), k), e})
			}
		case []any:
			if len(v) > maxElements {
				report(it.path, fmt.Sprintf("length must be at most %d", maxElements))
				continue
			}
			for i, e := range v {
				stack = append(stack, item{append(clonePath(it.path), strconv.Itoa(i+1)), e})
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

func stringProblem(path []string, s string, badUTF8 bool) string {
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
func fieldName(path []string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if _, err := strconv.Atoi(path[i]); err != nil {
			return path[i]
		}
	}
	return ""
}

func clonePath(p []string) []string {
	return append(make([]string, 0, len(p)+1), p...)
}

// setFieldError places msg at path in Kong's error table: names make nested
// records, numeric elements array indexes.
func setFieldError(fe fieldErrors, path []string, msg string) {
	if len(path) == 0 {
		fe.AddEntity(msg)
		return
	}
	var cur any = fe
	for i, p := range path {
		last := i == len(path)-1
		next := path[min(i+1, len(path)-1)]
		_, nextIsIndex := strconv.Atoi(next)
		var child any
		if !last {
			if nextIsIndex == nil {
				child = indexErrors{}
			} else {
				child = fieldErrors{}
			}
		}
		switch c := cur.(type) {
		case fieldErrors:
			if last {
				if _, taken := c[p]; !taken {
					c[p] = msg
				}
				return
			}
			if existing, ok := c[p].(fieldErrors); ok && nextIsIndex != nil {
				cur = existing
				continue
			}
			if existing, ok := c[p].(indexErrors); ok && nextIsIndex == nil {
				cur = existing
				continue
			}
			if _, taken := c[p]; taken {
				return
			}
			c[p] = child
			cur = child
		case indexErrors:
			n, err := strconv.Atoi(p)
			if err != nil {
				return
			}
			if last {
				if _, taken := c[n]; !taken {
					c[n] = msg
				}
				return
			}
			if existing, ok := c[n].(fieldErrors); ok && nextIsIndex != nil {
				cur = existing
				continue
			}
			if existing, ok := c[n].(indexErrors); ok && nextIsIndex == nil {
				cur = existing
				continue
			}
			if _, taken := c[n]; taken {
				return
			}
			c[n] = child
			cur = child
		}
	}
}

// envoyRules applies schema's Envoy validators to the fields of one entity
// input. Values of the wrong type are left to the schema, which reports
// them in Kong's words.
func envoyRules(entity string, in map[string]any) []limitError {
	var errs []limitError
	bad := func(msg string, path ...string) {
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
				bad(msg, "paths", strconv.Itoa(i+1))
			}
		}
		if h, ok := in["headers"].(map[string]any); ok {
			for name, vals := range h {
				if msg := schema.RouteHeaderValuesProblem(stringList(vals)); msg != "" {
					bad(msg, "headers", name)
				}
			}
		}
	case "upstreams":
		hc, _ := in["healthchecks"].(map[string]any)
		active, _ := hc["active"].(map[string]any)
		if n, ok := number(active["timeout"]); ok {
			if msg := schema.HealthCheckIntervalProblem(n); msg != "" {
				bad(msg, "healthchecks", "active", "timeout")
			}
		}
		for _, state := range []string{"healthy", "unhealthy"} {
			sub, _ := active[state].(map[string]any)
			if n, ok := number(sub["interval"]); ok {
				if msg := schema.HealthCheckIntervalProblem(n); msg != "" {
					bad(msg, "healthchecks", "active", state, "interval")
				}
			}
		}
		if h, ok := active["headers"].(map[string]any); ok {
			for name, vals := range h {
				for _, v := range stringList(vals) {
					if msg := schema.HeaderValueProblem(v); msg != "" {
						bad(msg, "healthchecks", "active", "headers", name)
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
