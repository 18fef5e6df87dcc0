package store

import (
	"encoding/json"
	"testing"
)

// FuzzStore_Restore feeds arbitrary restore payloads (the body of
// /_switchboard/snapshot and of raft restore entries) to Restore: it must
// never panic, and a payload it accepts must dump back without error.
func FuzzStore_Restore(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"services":[{"entity":null}]}`, `{"routes":[{"entity":{"id":"r","service":{"id":"missing"}}}]}`,
		`{"upstreams":[{"entity":{"id":"u","name":"a.test"}},{"entity":{"id":"v","name":"a.test"}}]}`,
		`{"targets":[{"entity":{"id":"t","upstream":null,"target":"x"}}],"target_health":[{"entity":null}]}`,
		`{"services":[{"entity":{"id":"s","host":"x.test","port":80}}],"routes":[{"entity":{"id":"r","service":{"id":"s"},"paths":["/"]}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var d Dump
		if json.Unmarshal(payload, &d) != nil {
			return
		}
		st, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Restore(1, &d); err != nil {
			return
		}
		if _, err := st.Snapshot().Dump(); err != nil {
			t.Fatalf("accepted restore %q does not dump: %v", payload, err)
		}
	})
}
