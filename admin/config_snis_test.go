package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"sigs.k8s.io/yaml"
)

// certificates[].snis[] nests SNIs as records (Kong's file format) or as
// bare names (as POST /certificates takes them); the export lists them as
// their own entries only, so applying it back neither fails nor
// duplicates them.
func TestConfig_CertificateSNIs(t *testing.T) {
	pair := newTestPair(t, "shop.example.test", certOpts{})
	for _, form := range []string{`[{"name": "a.example.test"}, {"name": "b.example.test"}]`, `["a.example.test", "b.example.test"]`} {
		t.Run(form, func(t *testing.T) {
			ts := newTestServer(t)
			cert, _ := json.Marshal(pair.cert)
			key, _ := json.Marshal(pair.key)
			file := fmt.Sprintf(`{"_format_version": "3.0", "certificates": [{"cert": %s, "key": %s, "snis": %s}]}`, cert, key, form)
			ts.postConfig("", "application/json", file).mustStatus(t, http.StatusCreated)
			if n := count(t, ts, "/snis"); n != 2 {
				t.Fatalf("%d SNIs, want 2", n)
			}
			rev := ts.store.Revision()
			export := ts.do(http.MethodGet, "/config", nil, encJSON).mustStatus(t, http.StatusOK).obj()["config"].(string)
			var doc struct {
				Certificates []map[string]any `json:"certificates"`
				SNIs         []map[string]any `json:"snis"`
			}
			if err := yaml.Unmarshal([]byte(export), &doc); err != nil || len(doc.Certificates) != 1 || len(doc.SNIs) != 2 {
				t.Fatalf("export (%v):\n%s", err, export)
			}
			if _, ok := doc.Certificates[0]["snis"]; ok {
				t.Errorf("export lists SNI names inside the certificate too:\n%s", export)
			}
			ts.postConfig("", "application/yaml", export).mustStatus(t, http.StatusCreated)
			ts.postConfig("", "application/json", file).mustStatus(t, http.StatusCreated)
			if n := count(t, ts, "/snis"); n != 2 || ts.store.Revision() != rev {
				t.Errorf("after re-applying the export and the file: %d SNIs, revision %d -> %d", n, rev, ts.store.Revision())
			}
		})
	}
}
