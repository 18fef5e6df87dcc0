package schema

import "testing"

// Kong Manager sends tls_sans with every service; an empty one is no check
// and is accepted, one naming SANs is refused (nothing would verify them).
func TestServices_TLSSANsTolerated(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sans    any
		refused bool
	}{
		{"null", nil, false},
		{"empty object", map[string]any{}, false},
		{"empty lists", map[string]any{"dnsnames": []any{}, "uris": nil}, false},
		{"names", map[string]any{"dnsnames": []any{"api.test"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs := Services.Build(map[string]any{"host": "h", "tls_sans": tc.sans}, nil)
			if got := errs["tls_sans"] != nil; got != tc.refused {
				t.Fatalf("tls_sans %v: errors %v, refused = %v, want %v", tc.sans, errs, got, tc.refused)
			}
			if _, kept := out["tls_sans"]; kept {
				t.Fatalf("tls_sans stored: %v", out)
			}
			if !tc.refused && len(errs) != 0 {
				t.Fatalf("errors %v", errs)
			}
		})
	}
}
