package raftstore

import (
	"bytes"
	"io"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/switchboard-gw/switchboard/store"
)

// FuzzFSM_Apply feeds arbitrary log entries (sealed or legacy, any kind) to
// the state machine: it must never panic, and an entry it refuses must leave
// the store's revision where it was.
func FuzzFSM_Apply(f *testing.F) {
	for _, s := range []string{
		`M{"op":"upsert_upstream","create":true,"upstream":{"id":"00000000-0000-4000-8000-000000000001","name":"u.test"}}`,
		`R{"services":[{"entity":null}]}`, `R{"upstreams":[{"entity":{"id":"x"}}],"targets":[{"entity":{"upstream":{"id":"y"}}}]}`,
		`J{"id":"n1"}`, `Mnull`, `X`, "",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, seal bool) {
		st, _ := store.New()
		fm := newFSM(st)
		if seal && len(data) > 0 {
			data = sealEntry(data)
		}
		res := fm.Apply(&raft.Log{Index: 7, Type: raft.LogCommand, Data: data})
		if err, ok := res.(error); ok && err != nil && st.Revision() != 0 {
			t.Fatalf("refused entry %q changed the store to revision %d", data, st.Revision())
		}
	})
}

// FuzzFSM_Restore feeds arbitrary snapshot bytes to Restore: never a panic.
func FuzzFSM_Restore(f *testing.F) {
	f.Add([]byte(`{"store":{"services":[{"entity":null}]},"members":[{"id":"n1"}]}`))
	f.Add(sealSnapshot([]byte(`{"store":null,"members":null}`)))
	f.Add([]byte("{}\n#crc32c zz\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, _ := store.New()
		_ = newFSM(st).Restore(io.NopCloser(bytes.NewReader(data)))
	})
}
