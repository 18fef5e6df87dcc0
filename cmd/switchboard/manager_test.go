package main

import (
	"strings"
	"testing"
)

func TestManagerExposureWarning(t *testing.T) {
	for _, tc := range []struct {
		listen string
		tokens bool
		warn   bool
	}{
		{"127.0.0.1:8002", false, false},
		{"", false, false},
		{"0.0.0.0:8002", true, false},
		{"0.0.0.0:8002", false, true},
		{"10.0.0.1:8002", false, true},
	} {
		w := managerExposureWarning(&serveConfig{ManagerListen: tc.listen}, tc.tokens)
		if got := len(w) == 1 && strings.Contains(w[0], "Manager") && strings.Contains(w[0], tc.listen); got != tc.warn {
			t.Errorf("listen %q tokens %v: warnings %v, want warning %v", tc.listen, tc.tokens, w, tc.warn)
		}
	}
}
