package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// encoding is how a test sends a request body; Kong's specs run most cases
// three times, once per encoding.
type encoding string

const (
	encJSON      encoding = "json"
	encForm      encoding = "form"
	encMultipart encoding = "multipart"
)

var allEncodings = []encoding{encJSON, encForm, encMultipart}

// testNow is the fixed clock of test servers.
var testNow = time.Unix(1700000000, 123_000_000)

type testServer struct {
	t     testing.TB
	store *store.Store
	srv   *Server
	h     http.Handler
}

func newTestServer(t testing.TB, opts ...func(*Options)) *testServer {
	t.Helper()
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		NodeID:   "4d3a8a3f-5c0b-4e0a-9b6e-6a3cf2b7b001",
		Hostname: "test-host",
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      func() time.Time { return testNow },
	}
	for _, fn := range opts {
		fn(&o)
	}
	srv := New(st, o)
	return &testServer{t: t, store: st, srv: srv, h: srv.Handler()}
}

// resp is a recorded response with its body decoded (numbers exact).
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   any
}

func (r *resp) obj() map[string]any {
	m, _ := r.body.(map[string]any)
	return m
}

func (r *resp) str(key string) string {
	s, _ := r.obj()[key].(string)
	return s
}

// do sends a request. body is a map (encoded per enc), a string (sent as is
// with enc's content type) or nil.
func (ts *testServer) do(method, path string, body any, enc encoding) *resp {
	ts.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
		ctype = contentType(enc, "")
	case map[string]any:
		var buf bytes.Buffer
		switch enc {
		case encJSON:
			_ = json.NewEncoder(&buf).Encode(b)
			ctype = "application/json"
		case encForm:
			buf.WriteString(formValues(b, false).Encode())
			ctype = "application/x-www-form-urlencoded"
		case encMultipart:
			mw := multipart.NewWriter(&buf)
			vals := formValues(b, true)
			keys := make([]string, 0, len(vals))
			for k := range vals {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, v := range vals[k] {
					_ = mw.WriteField(k, v)
				}
			}
			_ = mw.Close()
			ctype = mw.FormDataContentType()
		}
		rd = &buf
	default:
		ts.t.Fatalf("bad body type %T", body)
	}
	req := httptest.NewRequest(method, path, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	out := &resp{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	if len(out.raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(out.raw))
		dec.UseNumber()
		_ = dec.Decode(&out.body)
	}
	return out
}

func contentType(enc encoding, boundary string) string {
	switch enc {
	case encForm:
		return "application/x-www-form-urlencoded"
	case encMultipart:
		return "multipart/form-data; boundary=" + boundary
	default:
		return "application/json"
	}
}

// formValues flattens a JSON-like body into form keys: nested objects as
// dotted keys, arrays as key[]= (urlencoded) or key[n]= (multipart, which
// needs explicit indices), null as an empty value.
func formValues(body map[string]any, indexed bool) url.Values {
	vals := url.Values{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				walk(prefix+"."+k, e)
			}
		case []any:
			for i, e := range t {
				if indexed {
					walk(fmt.Sprintf("%s[%d]", prefix, i+1), e)
				} else {
					walk(prefix+"[]", e)
				}
			}
		case []string:
			for i, e := range t {
				if indexed {
					walk(fmt.Sprintf("%s[%d]", prefix, i+1), e)
				} else {
					walk(prefix+"[]", e)
				}
			}
		case nil:
			vals.Add(prefix, "")
		default:
			vals.Add(prefix, fmt.Sprint(t))
		}
	}
	for k, v := range body {
		walk(k, v)
	}
	return vals
}

// mustStatus fails unless the response has the status.
func (r *resp) mustStatus(t *testing.T, want int) *resp {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.raw)
	}
	return r
}

// jsonEqual compares a decoded body with the expected JSON text.
func jsonEqual(t *testing.T, got any, want string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(want))
	dec.UseNumber()
	var w any
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("bad expected JSON %s: %v", want, err)
	}
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

// subset checks that every key of want has the same value in got.
func subset(t *testing.T, got map[string]any, want string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(want))
	dec.UseNumber()
	var w map[string]any
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("bad expected JSON %s: %v", want, err)
	}
	for k, v := range w {
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("field %q (-want +got):\n%s", k, diff)
		}
	}
}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func list(v ...any) []any { return append([]any{}, v...) }

// Names the tests used before the schema engine moved to package schema.

func isUUID(s string) bool { return schema.IsUUID(s) }

var entitySchemas = map[string]*schema.Entity{
	"services":  schema.Services,
	"routes":    schema.Routes,
	"upstreams": schema.Upstreams,
	"targets":   schema.Targets,
}
