package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
)

// DeclarativeRow is scenario 8 at one size: a kong.yaml of Routes routes
// (ten per service) applied by POST /config to an empty node.
type DeclarativeRow struct {
	Routes, Services int
	FileBytes        int
	// Apply is POST /config sent → 201 (validated, one raft entry on disk).
	Apply time.Duration
	// Served is POST /config sent → every service's routes answered
	// through Envoy (its clusters and the route table both arrived).
	Served time.Duration
	// Reapply is the same file again with check_hash=1 (a 304, no write).
	Reapply time.Duration
}

// declarativeServeBound bounds the wait for Envoy to serve one file.
const declarativeServeBound = 10 * time.Minute

// DeclarativeResult is scenario 8: POST /config at each size, and decK's
// entity-by-entity sync (decksync.go).
type DeclarativeResult struct {
	Files []DeclarativeRow
	Deck  DeckSyncRow
}

// Declarative runs scenario 8.
func Declarative(env *Env) (*DeclarativeResult, error) {
	res := &DeclarativeResult{}
	files, err := declarativeFiles(env)
	res.Files = files
	if err != nil {
		return res, err
	}
	res.Deck, err = DeckSync(env)
	return res, err
}

// declarativeFiles applies a file of each size, one fresh stack per size.
func declarativeFiles(env *Env) ([]DeclarativeRow, error) {
	be, err := harness.StartBackend("declarative", 1)
	if err != nil {
		return nil, err
	}
	defer be.Close()
	var rows []DeclarativeRow
	for _, n := range env.Sizes.Declarative {
		row, err := declarativeRun(env, be.URL(), n)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
		env.logf("  declarative: %6d routes (%4.1f MiB): POST /config %s, served through Envoy %s, re-apply %s",
			n, float64(row.FileBytes)/(1<<20), row.Apply.Round(time.Millisecond), row.Served.Round(time.Millisecond), row.Reapply.Round(time.Millisecond))
	}
	return rows, nil
}

// declarativeFile is n routes /d<s>/<r>, ten per service, all on url.
func declarativeFile(n int, url string) []byte {
	var services []any
	for s := 0; s*10 < n; s++ {
		var routes []any
		for r := 0; r < 10 && s*10+r < n; r++ {
			routes = append(routes, obj{"name": fmt.Sprintf("d%d-%d", s, r), "paths": []string{fmt.Sprintf("/d%d/%d", s, r)}})
		}
		services = append(services, obj{"name": fmt.Sprintf("d%d", s), "url": url, "routes": routes})
	}
	b, _ := json.Marshal(obj{"_format_version": "3.0", "services": services})
	return b
}

func declarativeRun(env *Env, url string, n int) (DeclarativeRow, error) {
	row := DeclarativeRow{Routes: n, Services: (n + 9) / 10}
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: fmt.Sprintf("declarative-%d", n), Envoy: true})
	if err != nil {
		return row, err
	}
	defer st.Stop()
	file := declarativeFile(n, url)
	row.FileBytes = len(file)
	// POST /config of a large file is one request that can take long; the
	// stack's own client bounds requests more tightly.
	c := &http.Client{Timeout: declarativeServeBound}
	start := time.Now()
	if code, body, err := postConfig(c, st.Admin.URL("/config"), file); err != nil || code != http.StatusCreated {
		return row, fmt.Errorf("POST /config (%d routes): %d %v %.300s", n, code, err, body)
	}
	row.Apply = time.Since(start)
	// The last service's last route is polled until it answers; then a
	// sweep checks every service's (a service's routes need its cluster,
	// which travels apart from the route table), and any it missed are
	// polled until they answer: Served is then the end of that wait.
	pending := make([]string, 0, row.Services)
	for s := range row.Services {
		pending = append(pending, st.ProxyURL(fmt.Sprintf("/d%d/%d", s, min(9, n-1-s*10))))
	}
	ctx, cancel := context.WithTimeout(context.Background(), declarativeServeBound)
	defer cancel()
	last := pending[len(pending)-1]
	if err := harness.Poll(ctx, time.Millisecond, func() (bool, error) { return status(st.Proxy, last) == http.StatusOK, nil }); err != nil {
		return row, fmt.Errorf("%d routes: the last one not served through Envoy: %w", n, err)
	}
	row.Served = time.Since(start)
	missed := pending[:0]
	for _, u := range pending {
		if status(st.Proxy, u) != http.StatusOK {
			missed = append(missed, u)
		}
	}
	if len(missed) > 0 {
		err = harness.Poll(ctx, time.Millisecond, func() (bool, error) {
			left := missed[:0]
			for _, u := range missed {
				if status(st.Proxy, u) != http.StatusOK {
					left = append(left, u)
				}
			}
			missed = left
			return len(missed) == 0, nil
		})
		if err != nil {
			return row, fmt.Errorf("%d routes: %d services not served through Envoy: %w", n, len(missed), err)
		}
		row.Served = time.Since(start)
	}
	start = time.Now()
	if code, body, err := postConfig(c, st.Admin.URL("/config?check_hash=1"), file); err != nil || code != http.StatusNotModified {
		return row, fmt.Errorf("re-apply (%d routes): %d %v %.300s", n, code, err, body)
	}
	row.Reapply = time.Since(start)
	return row, nil
}

func postConfig(c *http.Client, url string, file []byte) (int, []byte, error) {
	res, err := c.Post(url, "application/json", bytes.NewReader(file))
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, body, nil
}
