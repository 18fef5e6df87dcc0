package admin

import (
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-gw/switchboard/schema"
)

// Every schema field of every served entity must be a JSON field of its
// store row and the reverse, records included: a field the store does not carry would be
// lost on write, one the schema does not know could never be set.
func TestAdmin_SchemaFieldsMatchStore(t *testing.T) {
	ts := newWidgetServer(t)
	if len(ts.srv.entities) < 5 {
		t.Fatalf("%d entities served", len(ts.srv.entities))
	}
	for name, e := range ts.srv.entities {
		compareFields(t, name, e.schema.Fields(), reflect.TypeOf(e.kind.New()).Elem())
	}
}

func compareFields(t *testing.T, path string, fields []*schema.Field, typ reflect.Type) {
	t.Helper()
	tags := jsonFields(typ)
	var inSchema []string
	for _, f := range fields {
		inSchema = append(inSchema, f.Name())
		sf, ok := tags[f.Name()]
		if !ok {
			t.Errorf("%s.%s: schema field missing from %s", path, f.Name(), typ)
			continue
		}
		// A record held as raw JSON (a plugin's config, checked by the
		// plugin's own schema) has no struct to compare.
		if f.Kind() == schema.KRecord && sf.Type.Kind() == reflect.Struct {
			compareFields(t, path+"."+f.Name(), f.Fields(), sf.Type)
		}
	}
	for tag := range tags {
		if !containsString(inSchema, tag) {
			t.Errorf("%s.%s: %s field missing from the schema", path, tag, typ)
		}
	}
}

// jsonFields maps JSON names to struct fields, skipping json:"-".
func jsonFields(typ reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range typ.NumField() {
		sf := typ.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		// admin:"-" marks stored state the Admin API renders otherwise (a
		// credential's expiry, shown as its ttl).
		if name == "-" || !sf.IsExported() || sf.Tag.Get("admin") == "-" {
			continue
		}
		out[name] = sf
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
