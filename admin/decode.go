package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-gw/switchboard/schema"
)

// decodeBody reads a POST/PUT/PATCH body into a generic map following
// Kong's rules (docs/kong-contract.md §2): JSON is decoded with exact numbers and no
// type inference; urlencoded and multipart forms are decoded with dotted and
// bracketed keys and then typed by the entity schema. No body and no content
// type is an empty input; a body of any other type is 415. Whatever the
// encoding, the result then passes checkInput (limits.go), the one gate for
// sizes, depth, UTF-8 and Envoy's rules.
func decodeBody(r *http.Request, es *schema.Entity) (map[string]any, error) {
	input, badUTF8, err := decodeRaw(r, es)
	if err != nil {
		return nil, err
	}
	if err := checkInput(es.Name(), input, badUTF8); err != nil {
		return nil, err
	}
	return input, nil
}

// decodeRaw decodes the body by its content type; badUTF8 reports a JSON
// body holding invalid UTF-8 (form values keep their raw bytes, so
// checkInput sees those itself).
func decodeRaw(r *http.Request, es *schema.Entity) (input map[string]any, badUTF8 bool, err error) {
	ctypes := r.Header.Values("Content-Type")
	if len(ctypes) > 1 {
		return nil, false, errStatus(http.StatusBadRequest, "Bad Request")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, false, errStatus(http.StatusBadRequest, "Bad Request")
	}
	if len(body) > maxBody {
		return nil, false, errStatus(http.StatusRequestEntityTooLarge, fmt.Sprintf("Request Entity Too Large: the body may hold at most %d bytes", maxBody))
	}
	if len(ctypes) == 0 || strings.TrimSpace(ctypes[0]) == "" {
		if len(body) > 0 {
			return nil, false, errUnsupportedMedia
		}
		return map[string]any{}, false, nil
	}
	mediaType, params, err := mime.ParseMediaType(ctypes[0])
	if err != nil {
		return nil, false, errUnsupportedMedia
	}
	switch mediaType {
	case "application/json":
		m, err := decodeJSONObject(body)
		return m, err == nil && !utf8.Valid(body), err
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false, errStatus(http.StatusBadRequest, "Bad Request")
		}
		m, err := formToInput(vals, es)
		return m, false, err
	case "multipart/form-data":
		vals, err := parseMultipart(body, params["boundary"])
		if errors.Is(err, errTooManyArguments) {
			return nil, false, err
		}
		if err != nil {
			return nil, false, errStatus(http.StatusBadRequest, "Bad Request")
		}
		m, err := formToInput(vals, es)
		return m, false, err
	default:
		return nil, false, errUnsupportedMedia
	}
}

// decodeJSONObject decodes one JSON object, keeping numbers exact
// (regex_priority = 2^53 must come back unchanged).
func decodeJSONObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errCannotParseJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errCannotParseJSON
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errCannotParseJSON
	}
	return m, nil
}

func formToInput(vals url.Values, es *schema.Entity) (map[string]any, error) {
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	if n > maxArgs {
		return nil, errTooManyArguments
	}
	args, err := decodeFormArgs(vals)
	if err != nil {
		return nil, err
	}
	return inferInput(args, es), nil
}

// parseMultipart collects the parts of a multipart body as form values;
// file parts contribute their content, as Kong's decoder does. Parts are
// read one by one (not with ReadForm, whose own part limit would answer
// before Kong's "Too many arguments").
func parseMultipart(body []byte, boundary string) (url.Values, error) {
	if boundary == "" {
		return nil, errors.New("multipart: no boundary")
	}
	mr := multipartReader(body, boundary)
	vals := url.Values{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return vals, nil
		}
		if err != nil {
			return nil, err
		}
		if n >= maxArgs {
			return nil, errTooManyArguments
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return nil, err
		}
		if name := part.FormName(); name != "" {
			vals.Add(name, string(b))
		}
	}
}

// queryArgCount counts query arguments for the "Too many arguments" rule.
func queryArgCount(r *http.Request) int {
	n := 0
	for _, v := range r.URL.Query() {
		n += len(v)
	}
	return n
}
