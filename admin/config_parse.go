package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"sigs.k8s.io/yaml"
)

// maxConfigBody caps a POST /config body: a file of 50,000 routes is about
// 10 MiB of YAML, far above the 1 MiB of an entity body.
const maxConfigBody = 64 << 20

const codeInvalidDeclarative = 14

var errNoDeclarative = errStatus(http.StatusBadRequest, "expected a declarative configuration")

func errDeclarativeParse(why string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: kongError{
		Code: codeInvalidDeclarative, Name: "invalid declarative configuration",
		Message: "failed parsing declarative configuration: " + why,
	}}
}

// readDeclarative returns the bytes of a POST /config: the body itself
// (JSON, or YAML under a yaml content type), or the `config` field of a
// form or multipart body (form is then set). decodeDeclarative parses them.
func readDeclarative(w http.ResponseWriter, r *http.Request) (raw []byte, form bool, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxConfigBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseMultipartForm(maxConfigBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return nil, false, bodyErr(err)
		}
		v := r.PostFormValue("config")
		if v == "" {
			return nil, false, errNoDeclarative
		}
		return []byte(v), true, nil
	}
	raw, err = io.ReadAll(r.Body)
	if err != nil {
		return nil, false, bodyErr(err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, false, errNoDeclarative
	}
	return raw, false, nil
}

// decodeDeclarative is the document of readDeclarative's bytes: a body
// that is a lone `config` string (JSON) holds the document as YAML or JSON.
func decodeDeclarative(raw []byte, form bool) (map[string]any, error) {
	doc, err := parseDeclarative(raw)
	if err != nil || form {
		return doc, err
	}
	if s, ok := doc["config"].(string); ok && len(doc) == 1 {
		return parseDeclarative([]byte(s))
	}
	return doc, nil
}

func bodyErr(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errStatus(http.StatusRequestEntityTooLarge, "Payload too large")
	}
	return errStatus(http.StatusBadRequest, "cannot read the request body")
}

// parseDeclarative decodes YAML (a superset of JSON) into the generic maps
// the schemas validate, numbers as json.Number as decodeBody gives them.
func parseDeclarative(raw []byte) (map[string]any, error) {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, errDeclarativeParse(strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errDeclarativeParse(err.Error())
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errDeclarativeParse("expected an object")
	}
	return doc, nil
}
