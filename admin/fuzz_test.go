package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzAdmin_Bodies feeds arbitrary form and JSON bodies to the write
// endpoints: whatever comes in, the answer is a Kong-shaped status, never a
// 500 or a panic.
func FuzzAdmin_Bodies(f *testing.F) {
	seeds := []string{
		"host=x.test", "paths[]=/a&paths[2]=/b", "a[=1&[]=2&x.y[z]=3", "service.name=&service=",
		`{"healthchecks":{"active":{"healthy":{"http_statuses":[1e400]}}}}`, `{"paths":[null],"hosts":[{}]}`,
		`{"protocols":"http","headers":{"a":"b"}}`, `{"sources":[{"ip":1}],"url":5}`,
		"headers.region=north&headers[region][]=x&tags=&tags[1]=a",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	ts := newTestServer(f)
	ts.do(http.MethodPost, "/upstreams", obj("name", "u"), encJSON)
	ts.do(http.MethodPost, "/services", obj("name", "s", "host", "x.test"), encJSON)
	paths := []string{"/services", "/routes", "/upstreams", "/upstreams/u/targets", "/services/s/routes", "/schemas/routes/validate"}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range paths {
			for _, ctype := range []string{"application/json", "application/x-www-form-urlencoded"} {
				req := httptest.NewRequest(http.MethodPost, p, strings.NewReader(body))
				req.Header.Set("Content-Type", ctype)
				rec := httptest.NewRecorder()
				ts.h.ServeHTTP(rec, req)
				if rec.Code >= 500 {
					t.Fatalf("POST %s %s %q: %d %s", p, ctype, body, rec.Code, rec.Body)
				}
			}
		}
	})
}
