package schema

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Check is one of Kong's entity_checks, kept as data: the same value is
// interpreted by Build and rendered by /schemas, so the two cannot drift
// (kong/db/schema/entity_checks.lua). Exactly one member is set.
type Check struct {
	Conditional *Conditional
	// Distinct names two fields that must not hold the same non-null value.
	Distinct []string
	// AtLeastOneOf names fields of which one must be non-empty. Field
	// names of every check may be dotted paths into records
	// ("config.minute").
	AtLeastOneOf []string
	// MutuallyRequired names fields that are all set or all null.
	MutuallyRequired []string
	// Custom is a custom_entity_check over FieldSources: a message for
	// "@entity" ("" when valid). It runs only when its sources are valid.
	Custom *CustomCheck
}

// CustomCheck is Kong's custom_entity_check.
type CustomCheck struct {
	FieldSources []string
	Fn           func(m map[string]any) string
}

// Conditional is Kong's "conditional" check: when IfField matches IfMatch,
// ThenField must match ThenMatch, else ThenField gets ThenErr (or the
// rule's own message) and the entity "failed conditional validation".
type Conditional struct {
	IfField   string
	IfMatch   Match
	ThenField string
	ThenMatch Match
	ThenErr   string
}

// Match is the subset of Kong's field validators that entity checks use.
// Zero members are not checked.
type Match struct {
	Eq       any    // the value must equal it (Kong's eq; nil: not checked)
	Match    string // a regular expression the string must match
	OneOf    []any
	NotOneOf []any
	Required bool
	EqNull   bool
	LenEq    *int
	Elements *Match // every element of a list must match
}

// matchRes caches compiled Match expressions. Admin requests validate
// concurrently, so the cache is a sync.Map: a plain map here was a
// concurrent map write (a crash) under parallel creates.
var matchRes sync.Map // expr → *regexp.Regexp

func compileMatch(expr string) *regexp.Regexp {
	if re, ok := matchRes.Load(expr); ok {
		return re.(*regexp.Regexp)
	}
	re, _ := matchRes.LoadOrStore(expr, regexp.MustCompile(expr))
	return re.(*regexp.Regexp)
}

// ok reports whether v satisfies m; msg is the message of the first rule
// that fails.
func (m *Match) ok(v any) (bool, string) {
	if m.Required && v == nil {
		return false, msgRequired
	}
	if m.EqNull && v != nil {
		return false, msgNotNull
	}
	if m.Eq != nil && !containsAny([]any{m.Eq}, v) {
		return false, fmt.Sprintf("value must be %v", m.Eq)
	}
	if m.Match != "" {
		s, isStr := v.(string)
		if !isStr || !compileMatch(m.Match).MatchString(s) {
			return false, fmt.Sprintf("invalid value: %v", v)
		}
	}
	if m.OneOf != nil && !containsAny(m.OneOf, v) {
		return false, oneOfMessage(m.OneOf)
	}
	if m.NotOneOf != nil && (v == nil || containsAny(m.NotOneOf, v)) {
		return false, "expected none of: " + oneOfMessage(m.NotOneOf)[len("expected one of: "):]
	}
	if m.LenEq != nil {
		list, _ := v.([]any)
		if len(list) != *m.LenEq {
			return false, fmt.Sprintf("length must be %d", *m.LenEq)
		}
	}
	if m.Elements != nil {
		list, isList := v.([]any)
		if !isList {
			return false, typeErrors[KArray]
		}
		for _, e := range list {
			if ok, msg := m.Elements.ok(e); !ok {
				return false, msg
			}
		}
	}
	return true, ""
}

// run applies the checks in order to a validated entity; a check involving
// a field that already failed is skipped, as Kong skips it.
func runChecks(checks []Check, m map[string]any, errs FieldErrors) {
	for _, c := range checks {
		switch {
		case c.Conditional != nil:
			cc := c.Conditional
			if errs.fieldHasError(cc.IfField, cc.ThenField) {
				continue
			}
			ifv := valueAt(m, cc.IfField)
			if ok, _ := cc.IfMatch.ok(ifv); !ok || ifv == nil {
				continue
			}
			if ok, msg := cc.ThenMatch.ok(valueAt(m, cc.ThenField)); !ok {
				if cc.ThenErr != "" {
					msg = cc.ThenErr
				}
				errs.setAt(cc.ThenField, msg)
				errs.AddEntity(fmt.Sprintf(msgConditionF, cc.IfField))
			}
		case c.Distinct != nil:
			a, b := c.Distinct[0], c.Distinct[1]
			if errs.fieldHasError(a, b) || valueAt(m, a) == nil || valueAt(m, a) != valueAt(m, b) {
				continue
			}
			errs.AddEntity("values of these fields must be distinct: " + quoteList(c.Distinct...))
		case c.AtLeastOneOf != nil:
			if errs.fieldHasError(c.AtLeastOneOf...) {
				continue
			}
			found := false
			for _, name := range c.AtLeastOneOf {
				found = found || !isEmpty(valueAt(m, name))
			}
			if !found {
				errs.AddEntity("at least one of these fields must be non-empty: " + quoteList(c.AtLeastOneOf...))
			}
		case c.MutuallyRequired != nil:
			if errs.fieldHasError(c.MutuallyRequired...) {
				continue
			}
			set := 0
			for _, name := range c.MutuallyRequired {
				if valueAt(m, name) != nil {
					set++
				}
			}
			if set != 0 && set != len(c.MutuallyRequired) {
				errs.AddEntity("all or none of these fields must be set: " + quoteList(c.MutuallyRequired...))
			}
		case c.Custom != nil:
			if errs.fieldHasError(c.Custom.FieldSources...) {
				continue
			}
			if msg := c.Custom.Fn(m); msg != "" {
				errs.AddEntity(msg)
			}
		}
	}
}

// json renders the check as Kong's /schemas does.
func (c Check) json() map[string]any {
	if c.Distinct != nil {
		return map[string]any{"distinct": anyOf(c.Distinct...)}
	}
	if c.AtLeastOneOf != nil {
		return map[string]any{"at_least_one_of": anyOf(c.AtLeastOneOf...)}
	}
	if c.MutuallyRequired != nil {
		return map[string]any{"mutually_required": anyOf(c.MutuallyRequired...)}
	}
	if c.Custom != nil {
		return map[string]any{"custom_entity_check": map[string]any{"field_sources": anyOf(c.Custom.FieldSources...)}}
	}
	cc := c.Conditional
	out := map[string]any{
		"if_field": cc.IfField, "if_match": cc.IfMatch.json(),
		"then_field": cc.ThenField, "then_match": cc.ThenMatch.json(),
	}
	// then_err is not rendered: /schemas kept its shape from before the
	// checks became data (docs/decisions.md).
	return map[string]any{"conditional": out}
}

func (m *Match) json() map[string]any {
	out := map[string]any{}
	if m.Eq != nil {
		out["eq"] = m.Eq
	}
	if m.Match != "" {
		out["match"] = m.Match
	}
	if m.OneOf != nil {
		out["one_of"] = m.OneOf
	}
	if m.NotOneOf != nil {
		out["not_one_of"] = m.NotOneOf
	}
	if m.Required {
		out["required"] = true
	}
	if m.EqNull {
		out["eq"] = nil
	}
	if m.LenEq != nil {
		out["len_eq"] = *m.LenEq
	}
	if m.Elements != nil {
		el := m.Elements.json()
		el["type"] = "string"
		out["elements"] = el
	}
	return out
}

// ifThen builds a Conditional check.
func ifThen(ifField string, ifMatch Match, thenField string, thenMatch Match) Check {
	return Check{Conditional: &Conditional{IfField: ifField, IfMatch: ifMatch, ThenField: thenField, ThenMatch: thenMatch}}
}

func distinct(a, b string) Check { return Check{Distinct: []string{a, b}} }

// valueAt reads a field by its dotted path ("config.redis.host").
func valueAt(m map[string]any, path string) any {
	return getPath(m, strings.Split(path, "."))
}
