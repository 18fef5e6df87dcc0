package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/raft"

	"github.com/switchboard-gw/switchboard/store"
)

// ErrDiskFull marks a write refused because the disk holding the log is
// full. It wraps store.ErrUnavailable, so the Admin API answers 503 with a
// message that says so; the write was not committed and can be retried
// once space is freed, with no restart (raft steps down on a failed append
// and, on a single node, elects itself again).
var ErrDiskFull = fmt.Errorf("%w: the disk holding the raft log is full; free space and retry", store.ErrUnavailable)

// isDiskFull recognises ENOSPC and EDQUOT however they are wrapped (bolt
// does not always wrap with %w, hence the text fallback).
func isDiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "no space left on device") || strings.Contains(msg, "disk quota exceeded")
}

// patientStable is the stable store (current term, vote) as raft gets it.
// raft panics when it cannot save its term, which a full disk would turn
// into a crash of the whole process; instead, a full disk makes the save
// wait, retrying, until space is back. Raft's loop waits with it, writes
// answer 503 meanwhile (they time out), and everything resumes by itself.
type patientStable struct {
	raft.StableStore
	log   *slog.Logger
	retry time.Duration
}

func (s *patientStable) Set(key, val []byte) error {
	return s.patiently(func() error { return s.StableStore.Set(key, val) })
}

func (s *patientStable) SetUint64(key []byte, val uint64) error {
	return s.patiently(func() error { return s.StableStore.SetUint64(key, val) })
}

func (s *patientStable) patiently(op func() error) error {
	warned := false
	for {
		err := op()
		if !isDiskFull(err) {
			if warned {
				s.log.Warn("disk has space again; raft state saved")
			}
			return err
		}
		if !warned {
			s.log.Error("disk full: raft cannot save its term; writes wait until space is freed", "err", err)
			warned = true
		}
		time.Sleep(s.retry)
	}
}

// diskFullLogs reports a full disk on append as ErrDiskFull.
type diskFullLogs struct{ raft.LogStore }

func (l diskFullLogs) StoreLog(log *raft.Log) error {
	return diskFullErr(l.LogStore.StoreLog(log))
}

func (l diskFullLogs) StoreLogs(logs []*raft.Log) error {
	return diskFullErr(l.LogStore.StoreLogs(logs))
}

func diskFullErr(err error) error {
	if isDiskFull(err) {
		return fmt.Errorf("%w (%v)", ErrDiskFull, err)
	}
	return err
}
