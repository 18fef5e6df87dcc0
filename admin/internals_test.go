package admin

import (
	"testing"
)

func TestAdmin_PrettyMessages(t *testing.T) {
	errs := fieldErrors{
		"@entity": []string{"e1", "e2"},
		"b":       "bad",
		"a":       indexErrors{2: "x", 1: "y"},
		"c":       fieldErrors{"d": fieldErrors{"e": "deep", "f g": indexErrors{1: "z"}, "h": indexErrors{2: "w"}}},
	}
	got := schemaViolation(errs).body.(kongError).Message
	want := "6 schema violations (e1; e2; a.1: y; a.2: x; b: bad; c.d: {\n  e = \"deep\",\n  [\"f g\"] = {\n    \"z\"\n  },\n  h = {\n    [2] = \"w\"\n  }\n})"
	if got != want {
		t.Errorf("message\n%s\nwant\n%s", got, want)
	}
}
