package scenario

import (
	"fmt"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
)

// DeckSyncRow is decK's write pattern at the issue's size: what `deck
// gateway sync` sends for a file of Services services with one route each
// to an empty node — PUT /services/{id}, then PUT /routes/{id}, from
// Clients parallel clients (decK's default parallelism is 10).
type DeckSyncRow struct {
	Services, Clients int
	Elapsed           time.Duration
}

// deckSyncServices and deckSyncClients are the figure: a sync of
// 1,000 services with routes "well under 5 s".
const (
	deckSyncServices = 1000
	deckSyncClients  = 10
)

// DeckSync runs the decK-shaped sync once (quick: a tenth of it).
func DeckSync(env *Env) (DeckSyncRow, error) {
	n := deckSyncServices
	if env.Sizes.Quick {
		n /= 10
	}
	row := DeckSyncRow{Services: n, Clients: deckSyncClients}
	be, err := harness.StartBackend("decksync", 1)
	if err != nil {
		return row, err
	}
	defer be.Close()
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "decksync", Envoy: true})
	if err != nil {
		return row, err
	}
	defer st.Stop()
	var svcs, routes []harness.Op
	for i := range n {
		sid := fmt.Sprintf("dec0de00-0000-4000-8000-%012d", i)
		svcs = append(svcs, harness.Op{Kind: "service", Method: "PUT", Path: "/services/" + sid,
			Body: obj{"id": sid, "name": fmt.Sprintf("deck-%04d", i), "url": be.URL()}, Want: 200})
		rid := fmt.Sprintf("dec0de00-0000-4000-9000-%012d", i)
		routes = append(routes, harness.Op{Kind: "route", Method: "PUT", Path: "/routes/" + rid,
			Body: obj{"id": rid, "name": fmt.Sprintf("deck-%04d", i), "paths": []string{fmt.Sprintf("/deck/%04d", i)},
				"service": obj{"id": sid}}, Want: 200})
	}
	r, err := st.Admin.Levels(deckSyncClients, svcs, routes)
	if err != nil {
		return row, err
	}
	row.Elapsed = r.Elapsed
	env.logf("  declarative: decK-shaped sync of %d services + %d routes, %d clients: %s", n, n, deckSyncClients, r.Elapsed.Round(time.Millisecond))
	return row, nil
}
