package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// routesDoc is a declarative file of n routes, ten per service.
func routesDoc(n int) string {
	var services []any
	for s := 0; s*10 < n; s++ {
		var routes []any
		for r := 0; r < 10 && s*10+r < n; r++ {
			routes = append(routes, map[string]any{"name": fmt.Sprintf("r%d-%d", s, r), "paths": []string{fmt.Sprintf("/s%d/r%d", s, r)}})
		}
		services = append(services, map[string]any{"name": fmt.Sprintf("s%d", s), "host": fmt.Sprintf("s%d.test", s), "routes": routes})
	}
	b, _ := json.Marshal(map[string]any{"_format_version": "3.0", "services": services})
	return string(b)
}

// BenchmarkConfigApply measures POST /config of a whole file until the
// (in-memory) store holds it, and the re-apply of the same file (a no-op).
//
//	go test ./admin -run '^$' -bench ConfigApply -benchtime 3x
func BenchmarkConfigApply(b *testing.B) {
	for _, n := range []int{5000, 50000} {
		doc := routesDoc(n)
		b.Run(fmt.Sprintf("routes=%d/apply", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ts := newTestServer(b)
				b.StartTimer()
				if r := ts.postConfig("", "application/json", doc); r.status != http.StatusCreated {
					b.Fatalf("status %d: %.300s", r.status, r.raw)
				}
			}
		})
		b.Run(fmt.Sprintf("routes=%d/reapply", n), func(b *testing.B) {
			ts := newTestServer(b)
			ts.postConfig("", "application/json", doc)
			rev := ts.store.Revision()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ts.postConfig("?check_hash=1", "application/json", doc)
			}
			if ts.store.Revision() != rev {
				b.Fatal("re-apply wrote")
			}
		})
	}
}
