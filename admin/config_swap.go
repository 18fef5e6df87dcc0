package admin

import (
	"encoding/json"

	"github.com/switchboard-gw/switchboard/store"
)

// parkUnique is the write that moves a stored row off its unique key u for
// the rest of a POST /config batch: its string fields of u get a value no
// entity can hold (a NUL byte and the row's id). A file that swaps two
// names (a takes b's and b takes a's) writes every kept row in turn, and
// without this the first upsert meets the other row's old name; the batch
// is one transaction, so nothing outside it ever sees the placeholder, and
// the row's own upsert later in the batch gives it its final key. It
// reports false for a key with a field that is not a string (a target's
// upstream): such a swap still fails as a unique violation.
func parkUnique(e *entity, old store.Row, u store.UniqueKey) (store.Mutation, bool) {
	raw, err := json.Marshal(old)
	if err != nil {
		return store.Mutation{}, false
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return store.Mutation{}, false
	}
	for _, f := range u.Fields {
		if _, ok := m[f].(string); !ok {
			return store.Mutation{}, false
		}
		m[f] = "\x00parked:" + e.id(old)
	}
	raw, _ = json.Marshal(m)
	row := e.kind.New()
	if err := json.Unmarshal(raw, row); err != nil {
		return store.Mutation{}, false
	}
	return e.upsert(row, false), true
}
