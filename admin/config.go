package admin

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/switchboard-gw/switchboard/store"
)

func (s *Server) registerConfigRoutes() {
	s.handleFunc("/config", http.MethodPost, s.handleConfigPost)
	s.handleFunc("/config", http.MethodGet, s.handleConfigGet)
}

// handleConfigPost is POST /config: the whole declarative file validated
// first, then applied as ONE store mutation (one raft entry), so that every
// Envoy sees the old configuration or the new one. Unlike Kong it works on
// every node, database or not. Entities the file leaves unchanged are not
// written at all: re-applying a file is a no-op, with no new revision.
func (s *Server) handleConfigPost(w http.ResponseWriter, r *http.Request) {
	// Without a deadline to move (a test's recorder) the server's stays.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(ConfigWriteTimeout))
	raw, form, err := readDeclarative(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	snap := s.store.Snapshot()
	sum := sha256.Sum256(raw)
	checkHash := r.URL.Query().Get("check_hash") == "1"
	if checkHash && s.lastFile.holds(sum, snap.Revision()) {
		committed(r, snap.Revision())
		w.WriteHeader(http.StatusNotModified)
		return
	}
	doc, err := decodeDeclarative(raw, form)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := s.planConfig(snap, doc)
	if len(p.fields) > 0 {
		body := map[string]any{
			"code": codeInvalidDeclarative, "name": "invalid declarative configuration",
			"message": "declarative config is invalid: " + prettyValue(p.fields), "fields": p.fields,
		}
		if r.URL.Query().Get("flatten_errors") == "1" || r.URL.Query().Get("flatten_errors") == "true" {
			body["flattened_errors"] = p.flat
		}
		s.writeJSON(w, r, http.StatusBadRequest, body)
		return
	}
	// dry_run=1 (switchboard's own) answers what the file would change,
	// for `switchboard config diff|validate`.
	if r.URL.Query().Get("dry_run") == "1" {
		s.writeJSON(w, r, http.StatusOK, map[string]any{"changes": append([]configChange{}, p.changes...)})
		return
	}
	if len(p.batch) == 0 {
		s.lastFile.set(sum, snap.Revision())
		if checkHash {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		committed(r, snap.Revision())
	} else {
		rev, err := s.store.Apply(&store.Mutation{Op: store.OpBatch, Batch: p.batch})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		committed(r, rev)
		// Only when no other write came between the plan and this batch:
		// the state at rev is then exactly the file's, so the same bytes
		// plan to nothing there. Otherwise the next post plans again.
		if rev == snap.Revision()+1 {
			s.lastFile.set(sum, rev)
		}
	}
	// Each row is encoded once, straight into the answer: the body of a
	// 50,000-route file is tens of MB, and a map round trip per row doubled
	// the cost of the whole apply.
	out := map[string]map[string]json.RawMessage{}
	for table, list := range p.byTable {
		e := s.entities[table]
		rows := make(map[string]json.RawMessage, len(list))
		for _, d := range list {
			v, err := s.renderedJSON(e, snap, d.row)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			rows[d.id] = v
		}
		out[table] = rows
	}
	s.writeJSON(w, r, http.StatusCreated, out)
}

// renderedJSON is a row encoded as the entity endpoints answer it.
func (s *Server) renderedJSON(e *entity, snap *store.Snapshot, row store.Row) (json.RawMessage, error) {
	v := any(row)
	if e.view != nil {
		var err error
		if v, err = e.view(snap, row); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s.present(v)); err != nil {
		return nil, fmt.Errorf("admin: encode entity: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// rendered is a row as the entity endpoints answer it.
func (s *Server) rendered(e *entity, snap *store.Snapshot, row store.Row) (map[string]any, error) {
	v := any(row)
	if e.view != nil {
		var err error
		if v, err = e.view(snap, row); err != nil {
			return nil, err
		}
	}
	return entityToMap(s.present(v))
}

// handleConfigGet is GET /config: {"config": "<YAML>"}, a document that
// POST /config accepts back unchanged. Entities are listed flat with their
// ids and references by id; timestamps and nulls are left out.
func (s *Server) handleConfigGet(w http.ResponseWriter, r *http.Request) {
	doc, err := s.exportConfig(s.store.Snapshot())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("admin: encode config: %w", err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"config": string(b)})
}

func (s *Server) exportConfig(snap *store.Snapshot) (map[string]any, error) {
	doc := map[string]any{"_format_version": "3.0", "_transform": false}
	for _, k := range s.store.Kinds() {
		e := s.entities[k.Table]
		if e == nil {
			continue
		}
		var list []any
		var werr error
		err := snap.Walk(k.Table, "", func(row store.Row) bool {
			if e.hidden != nil && e.hidden(row, e.now()) {
				return true
			}
			m, err := s.rendered(e, snap, row)
			if err != nil {
				werr = err
				return false
			}
			delete(m, "created_at")
			delete(m, "updated_at")
			// A view field naming child entities (a certificate's snis)
			// is left out: the children are exported as their own
			// entries, and in a file that key holds child records.
			for key := range m {
				if child, _ := s.nestedChild(e, key); child != nil {
					delete(m, key)
				}
			}
			for key, v := range m {
				if v == nil {
					delete(m, key)
				}
			}
			list = append(list, m)
			return true
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			return nil, err
		}
		if len(list) > 0 {
			doc[k.Table] = list
		}
	}
	return doc, nil
}

// ApplyDeclarative applies a declarative document (YAML or JSON) as POST
// /config does, for `serve --declarative-config`. It returns how many
// entities it created, updated or deleted: 0 when the store already holds
// exactly that file, and then nothing is written.
func (s *Server) ApplyDeclarative(raw []byte) (int, error) {
	doc, err := parseDeclarative(raw)
	if err != nil {
		return 0, err
	}
	p := s.planConfig(s.store.Snapshot(), doc)
	if len(p.fields) > 0 {
		return 0, fmt.Errorf("declarative config is invalid: %s", prettyValue(p.fields))
	}
	if len(p.batch) == 0 {
		return 0, nil
	}
	if _, err := s.store.Apply(&store.Mutation{Op: store.OpBatch, Batch: p.batch}); err != nil {
		return 0, err
	}
	return len(p.changes), nil
}
