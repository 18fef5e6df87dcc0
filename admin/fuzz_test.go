package admin

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAdmin_Bodies feeds arbitrary form, JSON and multipart bodies to the
// write endpoints: whatever comes in, the answer is a Kong-shaped status,
// never a 500 or a panic.
func FuzzAdmin_Bodies(f *testing.F) {
	seeds := []string{
		"host=x.test", "paths[]=/a&paths[2]=/b", "a[=1&[]=2&x.y[z]=3", "service.name=&service=",
		`{"healthchecks":{"active":{"healthy":{"http_statuses":[1e400]}}}}`, `{"paths":[null],"hosts":[{}]}`,
		`{"protocols":"http","headers":{"a":"b"}}`, `{"sources":[{"ip":1}],"url":5}`,
		"headers.region=north&headers[region][]=x&tags=&tags[1]=a",
		"tags" + strings.Repeat(".a", 40) + "=1", `{"tags":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
		"name=a%FFb&host=x.test", `{"paths":["~/a{0,40}[a-z]{0,40}"],"headers":{"x":["a\r\n"]}}`,
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
			for _, ctype := range []string{"application/json", "application/x-www-form-urlencoded", "multipart"} {
				rd, ct := strings.NewReader(body), ctype
				if ctype == "multipart" {
					rd, ct = multipartOf(body)
				}
				req := httptest.NewRequest(http.MethodPost, p, rd)
				req.Header.Set("Content-Type", ct)
				rec := httptest.NewRecorder()
				ts.h.ServeHTTP(rec, req)
				if rec.Code >= 500 {
					t.Fatalf("POST %s %s %q: %d %s", p, ctype, body, rec.Code, rec.Body)
				}
			}
		}
	})
}

// multipartOf sends a form body's key=value pairs as multipart fields.
func multipartOf(body string) (*strings.Reader, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range strings.Split(body, "&") {
		k, v, _ := strings.Cut(kv, "=")
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	return strings.NewReader(buf.String()), mw.FormDataContentType()
}

// FuzzAdmin_FormDecode runs the form decoder and the input gate on any
// query string: never a panic, and nothing deeper than maxDepth survives.
func FuzzAdmin_FormDecode(f *testing.F) {
	for _, s := range []string{"a.b.c=1", "l[]=x&l[]=y", "m[k]=v", "s[2].ip=b&s[1].ip=a", "a[1][2][3]=x", "a[99999999]=x",
		"x" + strings.Repeat("[]", 30) + "=1", "a.=1&.a=2&[=3&]=4", "paths[1]=/a&paths=/b&paths.x=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		vals, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		in, err := decodeFormArgs(vals)
		if err != nil {
			return
		}
		if depth(in) > maxDepth+1 {
			t.Fatalf("%q decoded %d levels deep", q, depth(in))
		}
		_ = checkInput("routes", in, false)
		_ = checkInput("upstreams", in, false)
	})
}

// FuzzAdmin_JSONDecode runs the JSON decoder and the input gate.
func FuzzAdmin_JSONDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[[[[1]]]]}`, `{"paths":["~/(a|b){1,50}"]}`, "{\"name\":\"\xff\"}", `{"a":1} {}`, `[1]`,
		`{"healthchecks":{"active":{"timeout":1e-9,"healthy":{"interval":"x"}}}}`, `{"headers":{"x":"~*["}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeJSONObject(body)
		if err != nil {
			return
		}
		for _, e := range []string{"services", "routes", "upstreams", "targets"} {
			_ = checkInput(e, in, false)
			_ = checkInput(e, in, true)
		}
	})
}

// FuzzAdmin_Multipart runs the multipart reader on any body and boundary.
func FuzzAdmin_Multipart(f *testing.F) {
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"host\"\r\n\r\nx.test\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f\"\r\n\r\n\x00\r\n--b"), "b")
	f.Add([]byte("garbage"), "")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		vals, err := parseMultipart(body, boundary)
		if err != nil {
			return
		}
		n := 0
		for _, v := range vals {
			n += len(v)
		}
		if n > maxArgs {
			t.Fatalf("%d parts accepted", n)
		}
	})
}

// FuzzAdmin_ServiceURL posts any url shorthand: never a 5xx, and an
// accepted service reads back with a host and a port.
func FuzzAdmin_ServiceURL(f *testing.F) {
	for _, s := range []string{"http://x.test", "https://x.test:8443/p", "invalid url", "", " ", "//h", "x.test:80", "http://[::1]:1/",
		"http://u:p@h.test/a?q#f", "tcp://h.test:0", "http://h.test:99999", "http://%00/", "grpc://h:1/x;y"} {
		f.Add(s)
	}
	ts := newTestServer(f)
	f.Fuzz(func(t *testing.T, u string) {
		ts := ts.with(t)
		r := ts.do(http.MethodPost, "/services", obj("url", u), encJSON)
		if r.status >= 500 {
			t.Fatalf("url %q: %d %s", u, r.status, r.raw)
		}
		if r.status == http.StatusCreated {
			if r.str("host") == "" || r.obj()["port"] == nil {
				t.Fatalf("url %q accepted without host/port: %s", u, r.raw)
			}
			ts.do(http.MethodDelete, "/services/"+r.str("id"), nil, encJSON)
		}
	})
}

// FuzzAdmin_Target posts any target string: never a 5xx, and an accepted
// target is stored as host:port.
func FuzzAdmin_Target(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "h.test:80", "::1", "[::1]:8000", "001.002.003.004", "h.test:", ":80", "[::1", "h.test:99999",
		"a..b", "x.test:0", "[fe80::1%eth0]:1"} {
		f.Add(s, int64(100))
	}
	ts := newTestServer(f)
	ts.do(http.MethodPost, "/upstreams", obj("name", "u.test"), encJSON)
	f.Fuzz(func(t *testing.T, target string, weight int64) {
		ts := ts.with(t)
		r := ts.do(http.MethodPost, "/upstreams/u.test/targets", obj("target", target, "weight", weight), encJSON)
		if r.status >= 500 {
			t.Fatalf("target %q: %d %s", target, r.status, r.raw)
		}
		if r.status == http.StatusCreated {
			got := r.str("target")
			if i := strings.LastIndexByte(got, ':'); i <= 0 || i == len(got)-1 {
				t.Fatalf("target %q stored as %q", target, got)
			}
			ts.do(http.MethodDelete, "/upstreams/u.test/targets/"+r.str("id"), nil, encJSON)
		}
	})
}

// depth is the nesting depth of a decoded value (iteratively).
func depth(v any) int {
	type item struct {
		v any
		d int
	}
	deepest := 0
	stack := []item{{v, 1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		deepest = max(deepest, it.d)
		switch t := it.v.(type) {
		case map[string]any:
			for _, e := range t {
				stack = append(stack, item{e, it.d + 1})
			}
		case []any:
			for _, e := range t {
				stack = append(stack, item{e, it.d + 1})
			}
		}
	}
	return deepest
}

// with is the server seen from one fuzz iteration (F's methods may not
// be called inside the fuzz function).
func (ts *testServer) with(t *testing.T) *testServer {
	c := *ts
	c.t = t
	return &c
}
