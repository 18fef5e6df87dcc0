package raftstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/switchboard-gw/switchboard/store"
)

// openSingle opens a single node on dir, ready for writes.
func openSingle(t *testing.T, dir string, wrap func(*raftboltdb.BoltStore) storage) (*Node, *store.Store, error) {
	t.Helper()
	st, _ := store.New()
	n, err := Open(Config{DataDir: dir, NodeID: "n1", ApplyTimeout: 2 * time.Second, Logger: testLogger(), wrapStorage: wrap}, st)
	if err != nil {
		return nil, nil, err
	}
	st.SetProposer(n)
	if err := n.WaitReady(ctx(t, 10*time.Second)); err != nil {
		_ = n.Close()
		t.Fatal(err)
	}
	return n, st, nil
}

// damageFile replaces every occurrence of old with new (same length) in
// file: bolt may keep stale copies of a page.
func damageFile(t *testing.T, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) || len(old) != len(new) {
		t.Fatalf("%q not found in %s", old, file)
	}
	b = bytes.ReplaceAll(b, []byte(old), []byte(new))
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func upstreamNames(t *testing.T, st *store.Store) []string {
	t.Helper()
	ups, err := st.Snapshot().Upstreams()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range ups {
		names = append(names, u.Name)
	}
	return names
}

// TestNode_DamagedEntry shows the defect and its fix: one committed entry
// damaged while the node was stopped. Written the old way (no checksum),
// the restarted node silently drops that acknowledged write; sealed, the
// node refuses to start and names the file, the index and the remedy.
func TestNode_DamagedEntry(t *testing.T) {
	for _, legacy := range []bool{true, false} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			writeLegacyEntries = legacy
			defer func() { writeLegacyEntries = false }()
			dir := t.TempDir()
			n, st, err := openSingle(t, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 3; i++ {
				if _, err := st.Apply(upstream(i)); err != nil {
					t.Fatal(err)
				}
			}
			_ = n.Close()
			writeLegacyEntries = false
			// A flipped byte turns the entry's JSON invalid.
			damageFile(t, filepath.Join(dir, "raft", "raft.db"), `"up-2.test"`, `#up-2.test"`)

			n, st, err = openSingle(t, dir, nil)
			if legacy {
				if err != nil {
					t.Fatalf("legacy log refused: %v", err)
				}
				defer n.Close()
				if got := upstreamNames(t, st); len(got) != 2 {
					t.Fatalf("legacy: expected the old silent drop (2 upstreams), got %v", got)
				}
				return
			}
			var de *DamagedError
			if !errors.As(err, &de) {
				t.Fatalf("open of a damaged log: got %v, want a DamagedError", err)
			}
			msg := err.Error()
			for _, want := range []string{filepath.Join(dir, "raft", "raft.db"), "log entry", "checksum mismatch", "snapshot restore", "--join"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if de.Index == 0 {
				t.Errorf("no index in %+v", de)
			}
		})
	}
}

// TestNode_LegacyLogReplays checks that a log written before checksums
// (every entry unsealed) still replays, and that new entries append to it.
func TestNode_LegacyLogReplays(t *testing.T) {
	dir := t.TempDir()
	writeLegacyEntries = true
	n, st, err := openSingle(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := st.Apply(upstream(i)); err != nil {
			t.Fatal(err)
		}
	}
	want := dumpJSON(t, st)
	_ = n.Close()
	writeLegacyEntries = false
	n, st, err = openSingle(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if got := dumpJSON(t, st); !bytes.Equal(got, want) {
		t.Fatalf("legacy replay differs:\n got %.300s\nwant %.300s", got, want)
	}
	if _, err := st.Apply(upstream(6)); err != nil {
		t.Fatal(err)
	}
}

// TestNode_DamagedSnapshot: raft would fall back to an older snapshot (or
// none) and replay from there; the node refuses instead.
func TestNode_DamagedSnapshot(t *testing.T) {
	dir := t.TempDir()
	n, st, err := openSingle(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := st.Apply(upstream(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	_ = n.Close()
	states, _ := filepath.Glob(filepath.Join(dir, "raft", "snapshots", "*", "state.bin"))
	if len(states) != 1 {
		t.Fatalf("snapshots: %v", states)
	}
	damageFile(t, states[0], `up-2.test`, `up-2.tesu`)
	_, _, err = openSingle(t, dir, nil)
	var de *DamagedError
	if !errors.As(err, &de) || de.File != states[0] {
		t.Fatalf("open with a damaged snapshot: %v", err)
	}
}

// TestFSM_NeverPanics applies hostile entries: none may panic, each must
// answer an error, and the store stays as it was.
func TestFSM_NeverPanics(t *testing.T) {
	st, _ := store.New()
	f := newFSM(st)
	entries := [][]byte{
		[]byte(`R{"services":[null],"routes":[null],"upstreams":[null],"targets":[null]}`),
		[]byte(`R{"services":[{}],"routes":[{"service":null}],"targets":[{"upstream":null}]}`),
		[]byte(`R{"services":[{"entity":null}],"routes":[{"entity":null}],"upstreams":[{"entity":null}],"targets":[{"entity":null}],"target_health":[{"entity":null}]}`),
		[]byte(`M{"op":"upsert_service"}`),
		[]byte(`M{"op":"upsert_route","route":null}`),
		[]byte(`Mnull`),
		[]byte(`J[]`),
		[]byte(`X`),
		{entrySealed},
		{entrySealed, 1, 2, 3, 4, 'M', '{', '}'},
		sealEntry([]byte(`R{"upstreams":[null]}`)),
		sealEntry([]byte(`M{"op":"delete_service","id":"x"}`)),
	}
	for i, e := range entries {
		res := f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: e})
		if err, _ := res.(error); err == nil && i != 5 {
			t.Errorf("entry %q: no error", e)
		}
	}
	if st.Revision() != 0 {
		ups, _ := st.Snapshot().Upstreams()
		svcs, _ := st.Snapshot().Services()
		if len(ups)+len(svcs) != 0 {
			t.Errorf("store changed: %d upstreams, %d services", len(ups), len(svcs))
		}
	}
}

// fullDisk is a bolt store whose writes fail with ENOSPC while full is set.
type fullDisk struct {
	*raftboltdb.BoltStore
	full *atomic.Bool
}

func (d fullDisk) err() error {
	if d.full.Load() {
		return &os.PathError{Op: "write", Path: "raft.db", Err: syscall.ENOSPC}
	}
	return nil
}

func (d fullDisk) StoreLog(l *raft.Log) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.BoltStore.StoreLog(l)
}

func (d fullDisk) StoreLogs(l []*raft.Log) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.BoltStore.StoreLogs(l)
}

func (d fullDisk) Set(k, v []byte) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.BoltStore.Set(k, v)
}

func (d fullDisk) SetUint64(k []byte, v uint64) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.BoltStore.SetUint64(k, v)
}

// TestNode_DiskFull: a full disk answers writes with ErrDiskFull (503 at
// the Admin API, saying so), never panics (raft panics when it cannot save
// its term; the stable store waits instead), keeps every acknowledged
// write, and recovers by itself once space is back.
func TestNode_DiskFull(t *testing.T) {
	full := new(atomic.Bool)
	n, st, err := openSingle(t, t.TempDir(), func(b *raftboltdb.BoltStore) storage { return fullDisk{b, full} })
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := st.Apply(upstream(1)); err != nil {
		t.Fatal(err)
	}
	full.Store(true)
	_, err = st.Apply(upstream(2))
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "disk") {
		t.Fatalf("write on a full disk: %v", err)
	}
	// Later writes fail too (raft is waiting for the disk), never panic.
	if _, err := st.Apply(upstream(3)); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("second write on a full disk: %v", err)
	}
	full.Store(false)
	waitFor(t, "writes to resume", 20*time.Second, func() bool {
		_, err := st.Apply(upstream(4))
		return err == nil || errors.As(err, new(*store.PrimaryKeyError))
	})
	names := upstreamNames(t, st)
	if len(names) != 2 || names[0] == "up-2.test" || names[1] == "up-2.test" {
		t.Fatalf("after recovery: %v (want up-1 and up-4)", names)
	}
}
