package raftstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/switchboard-gw/switchboard/store"
)

// The legacy log and dumps live in store/testdata/legacy (written by the
// pre-registry store, commit 72ae66b); legacy.snapshot here is the raft
// snapshot that code persisted after applying that log (never regenerated).

type legacyEntry struct {
	index uint64
	want  string // "ok" or the store error kind
	data  []byte // the raft command: kind byte + JSON
}

func readLegacyLog(t *testing.T) []legacyEntry {
	t.Helper()
	f, err := os.Open("../testdata/legacy/log.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []legacyEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), " ", 3)
		idx, err := strconv.ParseUint(parts[0], 10, 64)
		if err != nil || len(parts) != 3 {
			t.Fatalf("bad log line %q", sc.Text())
		}
		out = append(out, legacyEntry{index: idx, want: parts[1], data: []byte(parts[2])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type memSink struct{ bytes.Buffer }

func (*memSink) ID() string    { return "legacy" }
func (*memSink) Cancel() error { return nil }
func (*memSink) Close() error  { return nil }

// withoutNewTables drops the tables added after the legacy files were
// written (consumers, plugins, credentials), which a legacy log leaves
// empty, so that the pinned bytes still compare.
func withoutNewTables(b []byte) []byte {
	legacy := []string{"services", "routes", "upstreams", "targets", "target_health"}
	for _, table := range store.Tables {
		if !slices.Contains(legacy, table) {
			b = bytes.Replace(b, []byte(`,"`+table+`":[]`), nil, 1)
		}
	}
	return b
}

// TestFSM_LegacyLogAndSnapshot replays a raft log written by the
// pre-registry store through the state machine, and restores the raft
// snapshot that code persisted: both must give the very dump it produced.
func TestFSM_LegacyLogAndSnapshot(t *testing.T) {
	want, err := os.ReadFile("../testdata/legacy/final.dump.json")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := store.New()
	f := newFSM(st)
	f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: append([]byte{entryMember}, `{"id":"n1","raft_address":"127.0.0.1:7000","admin_address":"127.0.0.1:8001"}`...)})
	for _, e := range readLegacyLog(t) {
		res := f.Apply(&raft.Log{Index: e.index, Type: raft.LogCommand, Data: e.data})
		if got := (res == nil); got != (e.want == "ok") {
			t.Fatalf("entry %d: got %v, want %s", e.index, res, e.want)
		}
		if res != nil && toWire(res.(error)).Kind != e.want {
			t.Fatalf("entry %d: got %v (%s), want %s", e.index, res, toWire(res.(error)).Kind, e.want)
		}
	}
	if got := append(withoutNewTables(dumpJSON(t, st)), '\n'); !bytes.Equal(got, want) {
		t.Fatalf("replayed log differs from the legacy dump:\n got %s\nwant %s", got, want)
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	legacy, err := os.ReadFile("testdata/legacy.snapshot")
	if err != nil {
		t.Fatal(err)
	}
	// Today's snapshots add a checksum trailer; the state inside is the
	// legacy one, byte for byte.
	state, err := openSnapshot(sink.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(withoutNewTables(state), bytes.TrimSuffix(legacy, []byte("\n"))) {
		t.Fatalf("persisted snapshot state differs from the legacy one:\n got %s\nwant %s", state, legacy)
	}
	st2, _ := store.New()
	f2 := newFSM(st2)
	if err := f2.Restore(io.NopCloser(bytes.NewReader(legacy))); err != nil {
		t.Fatal(err)
	}
	if got := append(withoutNewTables(dumpJSON(t, st2)), '\n'); !bytes.Equal(got, want) {
		t.Fatalf("restored snapshot differs from the legacy dump:\n got %s\nwant %s", got, want)
	}
	if m, ok := f2.member("n1"); !ok || m.AdminAddr != "127.0.0.1:8001" {
		t.Fatalf("member lost: %+v", m)
	}
	var check fsmState
	if err := json.Unmarshal(legacy, &check); err != nil || check.Store == nil {
		t.Fatalf("legacy snapshot: %v", err)
	}
}
