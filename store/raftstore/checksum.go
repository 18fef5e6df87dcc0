package raftstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
)

// Every log entry and snapshot this code writes carries a CRC-32C of its
// content, checked when it is read back, so that a damaged disk is noticed
// instead of silently dropping or altering an acknowledged write (raft-boltdb
// checksums only bolt's meta pages; a flipped byte in an entry's JSON used to
// decode as a different mutation or as none at all).
//
// Entry layout: entrySealed, the 4-byte big-endian CRC-32C of the payload,
// then the payload (kind byte + JSON). Entries written before checksums
// began with the kind byte itself ('M', 'J', 'R'); they still replay,
// unchecked, so logs written by earlier releases keep working.
const entrySealed byte = 'C'

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errDamaged marks data whose checksum does not match its content.
var errDamaged = errors.New("checksum mismatch")

// sealEntry wraps a payload (kind + body) with its checksum.
func sealEntry(payload []byte) []byte {
	out := make([]byte, 5, 5+len(payload))
	out[0] = entrySealed
	binary.BigEndian.PutUint32(out[1:5], crc32.Checksum(payload, castagnoli))
	return append(out, payload...)
}

// openEntry returns an entry's kind and body, verifying the checksum of a
// sealed entry; a legacy entry is returned as it is.
func openEntry(data []byte) (kind byte, body []byte, err error) {
	if len(data) == 0 {
		return 0, nil, errors.New("empty entry")
	}
	if data[0] != entrySealed {
		return data[0], data[1:], nil
	}
	if len(data) < 6 {
		return 0, nil, fmt.Errorf("%w: entry of %d bytes", errDamaged, len(data))
	}
	payload := data[5:]
	if want, got := binary.BigEndian.Uint32(data[1:5]), crc32.Checksum(payload, castagnoli); want != got {
		return 0, nil, fmt.Errorf("%w: stored %08x, computed %08x", errDamaged, want, got)
	}
	return payload[0], payload[1:], nil
}

// Snapshot layout: the JSON state, then a trailer line
// "\n#crc32c <8 hex digits>\n". Snapshots without the trailer (earlier
// releases) load unchecked. raft's file snapshot store adds its own CRC-64
// of the whole file on top, verified when the snapshot is opened.
const snapshotTrailer = "\n#crc32c "

func sealSnapshot(state []byte) []byte {
	return fmt.Appendf(append([]byte{}, state...), "%s%08x\n", snapshotTrailer, crc32.Checksum(state, castagnoli))
}

// openSnapshot verifies and strips the trailer.
func openSnapshot(data []byte) ([]byte, error) {
	i := bytes.LastIndex(data, []byte(snapshotTrailer))
	if i < 0 {
		return data, nil
	}
	state := data[:i]
	hex := bytes.TrimSpace(data[i+len(snapshotTrailer):])
	want, err := strconv.ParseUint(string(hex), 16, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: unreadable trailer %q", errDamaged, hex)
	}
	if got := crc32.Checksum(state, castagnoli); uint32(want) != got {
		return nil, fmt.Errorf("%w: stored %08x, computed %08x", errDamaged, want, got)
	}
	return state, nil
}
