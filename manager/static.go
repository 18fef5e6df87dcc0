package manager

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assets embed.FS

// staticFile is one embedded asset with what its response needs.
type staticFile struct {
	body        []byte
	contentType string
	etag        string
}

// staticFiles serves the embedded assets. Every other path is a page of
// the single-page app (Kong Manager's URLs: /services/create, ...) and
// gets index.html, whose script routes on location.pathname.
type staticFiles struct {
	files map[string]*staticFile // "/assets/js/app.mjs" → file
	index *staticFile
}

func newStaticFiles() *staticFiles {
	s := &staticFiles{files: map[string]*staticFile{}}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &staticFile{body: body, contentType: contentType(p), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		s.files["/"+p] = f
		return nil
	})
	if err != nil {
		panic("manager: embedded assets: " + err.Error()) // a build defect, not a runtime condition
	}
	s.index = s.files["/assets/index.html"]
	if s.index == nil {
		panic("manager: assets/index.html is not embedded")
	}
	return s
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".mjs", ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case "":
		return "text/plain; charset=utf-8" // the LICENSE files
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (s *staticFiles) serve(w http.ResponseWriter, r *http.Request) {
	f, ok := s.files[r.URL.Path]
	switch {
	case ok:
	case strings.HasPrefix(r.URL.Path, "/assets/"):
		writeMessage(w, http.StatusNotFound, "Not found")
		return
	default:
		f = s.index
	}
	h := w.Header()
	// Revalidate every time: the ETag makes that a 304, and an upgraded
	// binary's UI is never mixed with a cached older module.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("Content-Type", f.contentType)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(f.body)
}

// Size is the total size in bytes of the embedded UI (for the notes and a
// test bounding it).
func Size() int {
	n := 0
	_ = fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := assets.ReadFile(p); err == nil {
				n += len(b)
			}
		}
		return nil
	})
	return n
}
