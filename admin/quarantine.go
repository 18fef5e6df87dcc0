package admin

import (
	"net/http"
	"strings"
	"unicode"
)

// QuarantineHeader carries, on GET of an entity, why switchboard left it
// out of the Envoy configuration: an Envoy rejected the version that
// changed it (docs/decisions.md, NACK isolation). It is a header, not a
// field, so the body stays Kong's and decK sees no diff; writing the entity
// again releases it.
const QuarantineHeader = "X-Switchboard-Quarantined"

// maxQuarantineReason bounds the header; Envoy's messages can be long.
const maxQuarantineReason = 1024

func (s *Server) markQuarantined(w http.ResponseWriter, id string) {
	if s.opts.Quarantined == nil {
		return
	}
	reason, ok := s.opts.Quarantined(id)
	if !ok {
		return
	}
	w.Header().Set(QuarantineHeader, headerSafe(reason, maxQuarantineReason))
}

// headerSafe turns Envoy's free-form message into one header value: control
// characters (CR, LF, NUL would split or break the response) become spaces
// and the text is cut at max bytes on a rune boundary.
func headerSafe(v string, max int) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v)
	if len(v) <= max {
		return v
	}
	cut := max
	for cut > 0 && !utf8Start(v[cut]) {
		cut--
	}
	return v[:cut]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
