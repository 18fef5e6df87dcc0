package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc/<pid>/stat on
// every architecture we run on.
const clockTicks = 100

// ProcStat is a process's memory and CPU time from /proc.
type ProcStat struct {
	RSS     uint64        // VmRSS, bytes
	PeakRSS uint64        // VmHWM, bytes
	CPU     time.Duration // utime + stime
}

// ReadProcStat reads /proc/<pid>/status and /proc/<pid>/stat.
func ReadProcStat(pid int) (ProcStat, error) {
	var ps ProcStat
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "VmRSS":
			ps.RSS = parseKB(v)
		case "VmHWM":
			ps.PeakRSS = parseKB(v)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps, err
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return ps, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	ps.CPU = time.Duration(ut+st) * time.Second / clockTicks
	return ps, nil
}

func parseKB(v string) uint64 {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseUint(f[0], 10, 64)
	return n * 1024
}

// MiB formats bytes as mebibytes.
func MiB(b uint64) float64 { return float64(b) / (1 << 20) }
