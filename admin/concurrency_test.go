package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/switchboard-gw/switchboard/store"
)

// logProposer stands in for the raft log: it serialises mutations, gives
// each the next index (a refused one uses its index up, as in raft) and
// records which request tags each committed mutation carried.
type logProposer struct {
	st *store.Store

	mu        sync.Mutex
	index     uint64
	committed map[string]int // request tag → times committed
}

var reqTagRe = regexp.MustCompile(`req-\d+-\d+`)

func (p *logProposer) Propose(m *store.Mutation) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.index = max(p.index, p.st.Revision()) + 1
	if err := p.st.ApplyAt(p.index, m); err != nil {
		return 0, err
	}
	b, _ := json.Marshal(m)
	for _, tag := range reqTagRe.FindAllString(string(b), -1) {
		p.committed[tag]++
	}
	return p.index, nil
}

// outcome is one write as its client saw it.
type outcome struct {
	desc   string
	tag    string
	status int
	body   string
}

// atomicUpsert says whether PUT-creates are one transaction yet: until then a PUT racing another PUT of the
// same new name may answer 409, which this test reports but does not fail.
const atomicUpsert = true

// TestAdmin_ConcurrentWritesKeepInvariants: 50 clients × 200 mixed writes
// on a few shared names (creates, PUT upserts, PATCHes, deletes, routes and
// targets referring to them). Afterwards: names are unique, no route or
// target dangles, every 2xx write was committed exactly once and no 4xx
// write was committed at all, and no write answered 5xx.
func TestAdmin_ConcurrentWritesKeepInvariants(t *testing.T) {
	const clients, writes = 50, 200
	ts := newTestServer(t)
	p := &logProposer{st: ts.store, committed: map[string]int{}}
	ts.store.SetProposer(p)

	names := []string{"a", "b", "c", "d"}
	var (
		mu       sync.Mutex
		outcomes []outcome
		wg       sync.WaitGroup
	)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(c)))
			var local []outcome
			for i := 0; i < writes; i++ {
				tag := fmt.Sprintf("req-%d-%d", c, i)
				n := names[rng.Intn(len(names))]
				tags := list(tag)
				var method, path string
				var body map[string]any
				switch rng.Intn(10) {
				case 0:
					method, path, body = http.MethodPost, "/services", obj("name", n, "host", "x.test", "tags", tags)
				case 1:
					method, path, body = http.MethodPut, "/services/"+n, obj("host", "y.test", "tags", tags)
				case 2:
					method, path, body = http.MethodPatch, "/services/"+n, obj("retries", rng.Intn(10), "tags", tags)
				case 3:
					method, path = http.MethodDelete, "/services/"+n
				case 4:
					method, path, body = http.MethodPost, "/routes", obj("name", "r"+n, "paths", list("/"+n), "service", obj("name", n), "tags", tags)
				case 5:
					method, path, body = http.MethodPut, "/routes/r"+n, obj("paths", list("/p"+n), "service", obj("name", names[rng.Intn(len(names))]), "tags", tags)
				case 6:
					method, path = http.MethodDelete, "/routes/r"+n
				case 7:
					method, path, body = http.MethodPut, "/upstreams/"+n+".test", obj("tags", tags)
				case 8:
					method, path, body = http.MethodPost, "/upstreams/"+n+".test/targets", obj("target", fmt.Sprintf("10.0.0.%d:80", rng.Intn(4)), "tags", tags)
				case 9:
					method, path = http.MethodDelete, "/upstreams/"+n+".test"
				}
				var r *resp
				if body == nil {
					r = ts.with(t).do(method, path, nil, encJSON)
					tag = ""
				} else {
					r = ts.with(t).do(method, path, body, encJSON)
				}
				local = append(local, outcome{desc: method + " " + path, tag: tag, status: r.status, body: string(r.raw)})
			}
			mu.Lock()
			outcomes = append(outcomes, local...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()

	put409 := 0
	for _, o := range outcomes {
		switch {
		case o.status >= 500:
			t.Errorf("%s: %d %s", o.desc, o.status, o.body)
		case o.tag == "":
		case o.status < 300 && p.committed[o.tag] != 1:
			t.Errorf("%s answered %d but was committed %d times", o.desc, o.status, p.committed[o.tag])
		case o.status >= 400 && p.committed[o.tag] != 0:
			t.Errorf("%s answered %d but was committed: %s", o.desc, o.status, o.body)
		}
		if o.status == http.StatusConflict && o.desc[:3] == "PUT" {
			put409++
		}
	}
	if put409 > 0 {
		if atomicUpsert {
			t.Errorf("%d PUT upserts answered 409", put409)
		} else {
			t.Logf("%d PUT upserts answered 409 (atomic upserts not landed yet)", put409)
		}
	}
	checkStoreInvariants(t, ts.store)
}

// checkStoreInvariants: unique names, no dangling references.
func checkStoreInvariants(t *testing.T, st *store.Store) {
	t.Helper()
	snap := st.Snapshot()
	services, err1 := snap.Services()
	upstreams, err2 := snap.Upstreams()
	routes, err3 := snap.Routes()
	targets, err4 := snap.Targets()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	unique := func(kind, name string) {
		if name == "" {
			return
		}
		if seen[kind+"/"+name] {
			t.Errorf("two %s named %q", kind, name)
		}
		seen[kind+"/"+name] = true
	}
	ids := map[string]bool{}
	for _, s := range services {
		ids[s.ID] = true
		if s.Name != nil {
			unique("services", *s.Name)
		}
	}
	for _, u := range upstreams {
		ids[u.ID] = true
		unique("upstreams", u.Name)
	}
	for _, r := range routes {
		if r.Name != nil {
			unique("routes", *r.Name)
		}
		if r.Service != nil && !ids[r.Service.ID] {
			t.Errorf("route %s refers to missing service %s", r.ID, r.Service.ID)
		}
	}
	for _, tg := range targets {
		if !ids[tg.Upstream.ID] {
			t.Errorf("target %s refers to missing upstream %s", tg.ID, tg.Upstream.ID)
		}
		unique("targets", tg.Upstream.ID+"/"+tg.Target)
	}
}
