package testenv

import (
	"bufio"
	"strconv"
	"strings"
)

// Metrics reads switchboard's Prometheus /metrics into name{labels} →
// value (histogram buckets included, comments skipped).
func (a *Admin) Metrics() (map[string]float64, error) {
	r, err := a.Must("GET", "/metrics", nil, 200)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(r.Body)))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, nil
}
