package resolve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"
)

// hostsTable maps a normalised name to its addresses in file order: IPv4
// and IPv6 kept apart so that an A answer never mixes in AAAA ones.
type hostsTable map[string]*hostsEntry

type hostsEntry struct {
	v4, v6 []string
}

func (a *hostsEntry) equal(b *hostsEntry) bool {
	return slices.Equal(a.v4, b.v4) && slices.Equal(a.v6, b.v6)
}

func (t hostsTable) equal(o hostsTable) bool {
	return maps.EqualFunc(t, o, (*hostsEntry).equal)
}

// parseHosts reads the hosts(5) format: an address, then names, "#" starts a
// comment. Lines with an unparsable address are skipped, as glibc does.
func parseHosts(data []byte) hostsTable {
	t := hostsTable{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(fields[0])
		if err != nil || addr.Zone() != "" {
			continue
		}
		ip := addr.Unmap().String()
		for _, name := range fields[1:] {
			name = normalize(name)
			if name == "" {
				continue
			}
			e := t[name]
			if e == nil {
				e = &hostsEntry{}
				t[name] = e
			}
			if addr.Unmap().Is4() {
				if !slices.Contains(e.v4, ip) {
					e.v4 = append(e.v4, ip)
				}
			} else if !slices.Contains(e.v6, ip) {
				e.v6 = append(e.v6, ip)
			}
		}
	}
	return t
}

// hostsFile re-reads a hosts file when its modification time or size moves.
type hostsFile struct {
	path  string
	mtime time.Time
	size  int64
	seen  bool
	table hostsTable
}

// refresh stats the file and re-reads it if it changed. It reports whether
// the parsed table differs from the previous one. A missing file is an
// empty table (a fresh container may have none), not an error.
func (h *hostsFile) refresh() (bool, error) {
	fi, err := os.Stat(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		if h.seen && len(h.table) == 0 {
			return false, nil
		}
		changed := len(h.table) > 0
		h.table, h.seen, h.mtime, h.size = hostsTable{}, true, time.Time{}, 0
		return changed, nil
	}
	if err != nil {
		return false, fmt.Errorf("hosts file: %w", err)
	}
	if h.seen && fi.ModTime().Equal(h.mtime) && fi.Size() == h.size {
		return false, nil
	}
	data, err := os.ReadFile(h.path)
	if err != nil {
		return false, fmt.Errorf("hosts file: %w", err)
	}
	t := parseHosts(data)
	changed := !h.seen || !t.equal(h.table)
	h.table, h.seen, h.mtime, h.size = t, true, fi.ModTime(), fi.Size()
	return changed, nil
}
