package raftstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/raft"
)

// DamagedError is why a node refuses to start: part of its log or of its
// newest snapshot cannot be read back as written. Starting anyway would
// either panic inside raft or replay a different history than the one
// acknowledged to clients, so the node stops and says what to do instead.
type DamagedError struct {
	File   string // the file or directory at fault
	Index  uint64 // the log index, 0 when not about one entry
	Reason string
}

func (e *DamagedError) Error() string {
	where := e.File
	if e.Index != 0 {
		where = fmt.Sprintf("%s, log entry %d", e.File, e.Index)
	}
	return fmt.Sprintf("raftstore: %s is damaged (%s); refusing to start rather than lose or alter acknowledged writes. "+
		"To recover: in a cluster, move the data directory's raft/ aside and restart this node with --join so a healthy peer sends it the log; "+
		"on a single node, start with a fresh --data-dir and load your last `switchboard snapshot save` file with `switchboard snapshot restore`",
		where, e.Reason)
}

// verifyStorage reads back, before raft starts, everything raft would read
// at start: every log entry (sealed ones have their checksum checked) and the
// newest snapshot (raft's CRC-64 and ours). A panic inside bolt on a damaged
// page is turned into an error too.
func verifyStorage(dbPath, snapDir string, logs raft.LogStore, snaps *raft.FileSnapshotStore) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &DamagedError{File: dbPath, Reason: fmt.Sprintf("reading it panicked: %v", p)}
		}
	}()
	snapIndex, err := verifySnapshots(snapDir, snaps)
	if err != nil {
		return err
	}
	first, err := logs.FirstIndex()
	if err != nil {
		return &DamagedError{File: dbPath, Reason: err.Error()}
	}
	last, err := logs.LastIndex()
	if err != nil {
		return &DamagedError{File: dbPath, Reason: err.Error()}
	}
	if last == 0 {
		return nil
	}
	if first > snapIndex+1 {
		return &DamagedError{File: dbPath, Index: snapIndex + 1,
			Reason: fmt.Sprintf("entries %d to %d are missing and no snapshot covers them", snapIndex+1, first-1)}
	}
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil {
			return &DamagedError{File: dbPath, Index: i, Reason: err.Error()}
		}
		if l.Index != i {
			return &DamagedError{File: dbPath, Index: i, Reason: fmt.Sprintf("the entry stored there claims index %d", l.Index)}
		}
		if l.Type == raft.LogCommand && len(l.Data) > 0 {
			if _, _, err := openEntry(l.Data); err != nil {
				return &DamagedError{File: dbPath, Index: i, Reason: err.Error()}
			}
		}
	}
	return nil
}

// verifySnapshots checks every snapshot directory's metadata (raft would
// silently skip an unreadable one and fall back to an older snapshot) and
// the newest snapshot's content. It returns the newest snapshot's index.
func verifySnapshots(dir string, snaps *raft.FileSnapshotStore) (uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return 0, &DamagedError{File: dir, Reason: err.Error()}
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		meta := filepath.Join(dir, e.Name(), "meta.json")
		b, err := os.ReadFile(meta)
		var m raft.SnapshotMeta
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			return 0, &DamagedError{File: meta, Reason: err.Error()}
		}
	}
	list, err := snaps.List()
	if err != nil || len(list) == 0 {
		return 0, nil
	}
	newest := list[0]
	state := filepath.Join(dir, newest.ID, "state.bin")
	_, rc, err := snaps.Open(newest.ID)
	if err != nil {
		return 0, &DamagedError{File: state, Reason: err.Error()}
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err == nil {
		_, err = openSnapshot(data)
	}
	if err != nil {
		return 0, &DamagedError{File: state, Reason: err.Error()}
	}
	return newest.Index, nil
}

// Bolt keeps two meta pages and, when the newer one fails its checksum,
// silently opens the older one: the last committed transaction — an
// acknowledged write — is gone without a word. verifyBoltMeta reads both
// (layout of go.etcd.io/bbolt v1.3: a 16-byte page header, then magic,
// version, page size, flags, root bucket (16 bytes), freelist, high-water
// page id, txid, then the FNV-64a of the 56 bytes before it, all
// native-endian) and refuses a file in which either is damaged. Caveat: a
// power cut in the middle of bolt's 4 KiB meta write also leaves one meta
// page torn, although that transaction was never acknowledged; the
// refusal is then a false alarm, with the same remedy.
func verifyBoltMeta(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("raftstore: open %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	const header, metaLen = 16, 64
	first := make([]byte, header+metaLen)
	if n, _ := f.ReadAt(first, 0); n < len(first) {
		return nil // a file bolt never finished creating: bolt itself reports it
	}
	pageSize := int64(binary.NativeEndian.Uint32(first[header+8:]))
	if pageSize < 512 || pageSize > 1<<20 {
		pageSize = int64(os.Getpagesize())
	}
	for i, off := range []int64{0, pageSize} {
		buf := make([]byte, header+metaLen)
		if n, _ := f.ReadAt(buf, off); n < len(buf) {
			return &DamagedError{File: path, Reason: fmt.Sprintf("bolt meta page %d is cut short", i)}
		}
		meta := buf[header:]
		h := fnv.New64a()
		_, _ = h.Write(meta[:56])
		magic := binary.NativeEndian.Uint32(meta[0:])
		version := binary.NativeEndian.Uint32(meta[4:])
		if magic != 0xED0CDAED || version != 2 || h.Sum64() != binary.NativeEndian.Uint64(meta[56:]) {
			return &DamagedError{File: path, Reason: fmt.Sprintf(
				"bolt meta page %d fails its checksum; bolt would fall back to the previous transaction and drop the last acknowledged write", i)}
		}
	}
	return nil
}
