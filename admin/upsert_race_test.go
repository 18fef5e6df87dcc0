package admin

import (
	"net/http"
	"sync"
	"testing"
)

// PUT /{entity}/{name} for a name nobody has created yet, from many
// clients at once: the check and the write are one store transaction, so
// every caller gets 200 (one creates, the others update) and never 409.
func TestAdmin_PutByNameConcurrently(t *testing.T) {
	ts := newTestServer(t)
	cases := []struct {
		path string
		body map[string]any
	}{
		{"/services/raced", obj("host", "raced.test")},
		{"/upstreams/raced.test", obj()},
		{"/routes/raced", obj("paths", list("/raced"))},
	}
	const clients = 50
	for _, c := range cases {
		var wg sync.WaitGroup
		ids := make([]string, clients)
		statuses := make([]int, clients)
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := ts.do(http.MethodPut, c.path, c.body, encJSON)
				statuses[i], ids[i] = r.status, r.str("id")
			}()
		}
		wg.Wait()
		for i, st := range statuses {
			if st != http.StatusOK && st != http.StatusCreated {
				t.Fatalf("%s: client %d got %d", c.path, i, st)
			}
			if ids[i] != ids[0] {
				t.Errorf("%s: client %d saw id %s, client 0 %s", c.path, i, ids[i], ids[0])
			}
		}
		got := ts.do(http.MethodGet, c.path, nil, encJSON).mustStatus(t, http.StatusOK)
		if got.str("id") != ids[0] {
			t.Errorf("%s: stored id %s, answered %s", c.path, got.str("id"), ids[0])
		}
	}
}
