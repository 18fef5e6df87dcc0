package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime/multipart"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboard-gw/switchboard/schema"
)

func multipartReader(body []byte, boundary string) *multipart.Reader {
	return multipart.NewReader(bytes.NewReader(body), boundary)
}

// keyToken is one step of a form key: a name ("healthchecks", "region"), an
// explicit 1-based index ("paths[2]") or an append ("paths[]").
type keyToken struct {
	name   string
	index  int // > 0 for an explicit index
	append bool
}

// formList collects indexed and appended form values; it becomes a JSON
// array ordered by index once the whole form is read.
type formList struct {
	items map[int]any
	next  int
}

func (l *formList) put(index int, v any) {
	if index <= 0 {
		l.next++
		index = l.next
	}
	l.next = max(l.next, index)
	l.items[index] = v
}

// parseFormKey splits "healthchecks.active.http_path", "paths[]",
// "paths[1]", "headers[region]" and "service.id" into tokens.
func parseFormKey(k string) []keyToken {
	var toks []keyToken
	for len(k) > 0 {
		switch k[0] {
		case '.':
			k = k[1:]
		case '[':
			end := strings.IndexByte(k, ']')
			if end < 0 {
				toks = append(toks, keyToken{name: k})
				return toks
			}
			inner := k[1:end]
			k = k[end+1:]
			if inner == "" {
				toks = append(toks, keyToken{append: true})
			} else if n, err := strconv.Atoi(inner); err == nil && n > 0 {
				toks = append(toks, keyToken{index: n})
			} else {
				toks = append(toks, keyToken{name: inner})
			}
		default:
			end := strings.IndexAny(k, ".[")
			if end < 0 {
				end = len(k)
			}
			toks = append(toks, keyToken{name: k[:end]})
			k = k[end:]
		}
	}
	return toks
}

// decodeFormArgs builds the nested input of a form the way Kong's argument
// decoder does: dotted keys make objects, [] and [n] make arrays, [key]
// makes map keys, and a repeated key makes an array of its values. A key
// nesting deeper than maxDepth is refused before anything is built, so that
// nothing downstream recurses on an attacker-chosen depth.
func decodeFormArgs(vals url.Values) (map[string]any, error) {
	root := map[string]any{}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		toks := parseFormKey(k)
		if len(toks) == 0 || toks[0].name == "" {
			continue
		}
		if len(toks) > maxDepth {
			fe := fieldErrors{}
			setFieldError(fe, names(toks[0].name), fmt.Sprintf("nesting too deep: at most %d levels", maxDepth))
			return nil, schemaViolation(fe)
		}
		for _, v := range vals[k] {
			insertFormValue(root, toks, v)
		}
	}
	return finishForm(root).(map[string]any), nil
}

func insertFormValue(node any, toks []keyToken, v string) {
	for i, tok := range toks {
		last := i == len(toks)-1
		switch n := node.(type) {
		case map[string]any:
			key := tok.name
			if key == "" {
				key = strconv.Itoa(tok.index)
			}
			if last {
				switch cur := n[key].(type) {
				case nil:
					n[key] = v
				case string:
					l := &formList{items: map[int]any{}}
					l.put(0, cur)
					l.put(0, v)
					n[key] = l
				case *formList:
					cur.put(0, v)
				default:
					n[key] = v
				}
				return
			}
			n[key] = childFor(n[key], toks[i+1])
			node = n[key]
		case *formList:
			idx := tok.index
			if tok.name != "" {
				// A name inside a list ("paths.x"): treat as append.
				idx = 0
			}
			if last {
				n.put(idx, v)
				return
			}
			if idx <= 0 {
				n.next++
				idx = n.next
			}
			n.items[idx] = childFor(n.items[idx], toks[i+1])
			n.next = max(n.next, idx)
			node = n.items[idx]
		default:
			return
		}
	}
}

// childFor keeps an existing container of the right shape or makes one.
func childFor(cur any, next keyToken) any {
	wantList := next.append || next.index > 0
	switch c := cur.(type) {
	case map[string]any:
		if !wantList {
			return c
		}
	case *formList:
		if wantList {
			return c
		}
		m := map[string]any{}
		for i, v := range c.items {
			m[strconv.Itoa(i)] = v
		}
		return m
	}
	if wantList {
		l := &formList{items: map[int]any{}}
		if s, ok := cur.(string); ok {
			l.put(0, s)
		}
		return l
	}
	return map[string]any{}
}

func finishForm(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = finishForm(e)
		}
		return t
	case *formList:
		idx := make([]int, 0, len(t.items))
		for i := range t.items {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		out := make([]any, 0, len(idx))
		for _, i := range idx {
			out = append(out, finishForm(t.items[i]))
		}
		return out
	default:
		return v
	}
}

// inferInput types form values by the schema, as Kong's arguments.infer
// does: numbers for integer/number fields, true/false for booleans, empty
// string as null, and a single value wrapped for array/set fields.
func inferInput(in map[string]any, es *schema.Entity) map[string]any {
	es = es.Typed(in) // a plugin's config is typed by the plugin's schema
	for k, v := range in {
		if f := es.Field(k); f != nil {
			in[k] = inferValue(v, f)
		}
	}
	return in
}

func inferValue(v any, f *schema.Field) any {
	if f == nil {
		return v
	}
	if s, ok := v.(string); ok && s == "" {
		return nil
	}
	switch f.Kind() {
	case schema.KInteger, schema.KNumber:
		if s, ok := v.(string); ok {
			if n, ok := luaToNumber(s); ok {
				return n
			}
		}
	case schema.KBoolean:
		switch v {
		case "true":
			return true
		case "false":
			return false
		}
	case schema.KArray, schema.KSet:
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		for i, e := range list {
			list[i] = inferValue(e, f.Elements())
		}
		return list
	case schema.KForeign:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				if e == "" {
					m[k] = nil
				}
			}
		}
	case schema.KMap:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				m[k] = inferValue(e, f.Values())
			}
		}
	case schema.KRecord:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				m[k] = inferValue(e, f.Sub(k))
			}
		}
	}
	return v
}

// luaToNumber accepts what Lua's tonumber does for decimal input.
func luaToNumber(s string) (json.Number, bool) {
	t := strings.TrimSpace(s)
	if _, err := strconv.ParseInt(t, 10, 64); err == nil {
		return json.Number(t), true
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(t, "xXpP_") {
		return "", false
	}
	return json.Number(t), true
}
