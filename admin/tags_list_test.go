package admin

import (
	"net/http"
	"sort"
	"strings"
	"testing"
)

// Kong's 14-tags_spec.lua: /tags and /tags/{tag} list tags across entity
// types, paginated, ignoring ?tags=.
func TestAdmin_TagsListing(t *testing.T) {
	ts := newTestServer(t)
	ts.do(http.MethodPost, "/services", obj("name", "s1", "host", "x.test", "tags", list("a", "b", "c")), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/services/s1/routes", obj("name", "r1", "paths", list("/r"), "tags", list("a")), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams", obj("name", "u1", "tags", list("b")), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams/u1/targets", obj("target", "10.0.0.1:80", "tags", list("a")), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/consumers", obj("username", "c1", "tags", list("a", "汉字")), encJSON).mustStatus(t, http.StatusCreated)

	// collect pages through every size, so that a page boundary falls inside
	// a row's tags at least once.
	collect := func(path string, size string) []string {
		t.Helper()
		var got []string
		next := path + "?size=" + size + "&tags=ignored"
		for i := 0; next != "" && i < 50; i++ {
			r := ts.do(http.MethodGet, next, nil, encJSON).mustStatus(t, http.StatusOK)
			for _, d := range r.obj()["data"].([]any) {
				m := d.(map[string]any)
				got = append(got, m["entity_name"].(string)+":"+m["tag"].(string))
				if !isUUID(m["entity_id"].(string)) {
					t.Errorf("entity_id %v", m["entity_id"])
				}
			}
			next, _ = r.obj()["next"].(string)
		}
		sort.Strings(got)
		return got
	}
	all := "consumers:a,consumers:汉字,routes:a,services:a,services:b,services:c,targets:a,upstreams:b"
	for _, size := range []string{"1", "2", "3", "100"} {
		if got := strings.Join(collect("/tags", size), ","); got != all {
			t.Errorf("/tags size %s: %s; want %s", size, got, all)
		}
		if got := strings.Join(collect("/tags/a", size), ","); got != "consumers:a,routes:a,services:a,targets:a" {
			t.Errorf("/tags/a size %s: %s", size, got)
		}
	}
	if got := strings.Join(collect("/tags/%E6%B1%89%E5%AD%97", "100"), ","); got != "consumers:汉字" {
		t.Errorf("/tags/汉字: %s", got)
	}
	r := ts.do(http.MethodGet, "/tags/%FF", nil, encJSON).mustStatus(t, http.StatusBadRequest)
	if !strings.Contains(r.str("message"), "invalid utf-8") {
		t.Errorf("invalid utf-8 tag: %s", r.body)
	}
	ts.do(http.MethodGet, "/tags?offset=bm9wZQ", nil, encJSON).mustStatus(t, http.StatusBadRequest)
}

// decK aborts a dump on a 404 from any list it requires: every one answers.
func TestAdmin_DeckListsAnswer(t *testing.T) {
	ts := newTestServer(t)
	for _, p := range []string{"/services", "/routes", "/plugins", "/certificates", "/snis", "/upstreams", "/consumers",
		"/ca_certificates", "/key-auths"} {
		r := ts.do(http.MethodGet, p+"?size=1000", nil, encJSON).mustStatus(t, http.StatusOK)
		jsonEqual(t, r.obj(), `{"data": [], "next": null}`)
	}
}
