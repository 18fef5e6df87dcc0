package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// scaleServices is what every Manager page must cope with: it pages, it
// never loads a whole collection.
const scaleServices = 10000

// TestManager_TenThousandServices: with 10,000 services every page renders,
// the list asks for one page (size=30) and pages on with Kong's offset,
// the exact-name filter finds one service with one GET, and the overview
// counts them without listing them.
func TestManager_TenThousandServices(t *testing.T) {
	t.Parallel()
	chromiumBin(t)
	managerAddr := freePort(t)
	s := startStack(t, stackOptions{extraArgs: []string{"--manager-listen", managerAddr}})
	createServices(t, s, scaleServices)

	br := startBrowser(t, "http://"+managerAddr)
	br.open("/services")
	br.run("the first page", chromedp.WaitVisible(`table[data-kind="services"] tbody tr`, chromedp.ByQuery))
	t.Logf("first load of /services with %d services: %s ms to the load event, %s ms until the table showed",
		scaleServices, br.eval(`Math.round(performance.getEntriesByType('navigation')[0].loadEventEnd)`), br.eval(`Math.round(performance.now())`))
	rows := func() string {
		return br.eval(`document.querySelectorAll('table[data-kind="services"] tbody tr').length`)
	}
	if got := rows(); got != "30" {
		t.Errorf("first page shows %s rows, want 30", got)
	}
	calls := br.eval(`performance.getEntriesByType('resource').map(r => r.name).filter(n => n.includes('/api/services')).join(' ')`)
	for _, c := range strings.Fields(calls) {
		if !strings.Contains(c, "size=30") {
			t.Errorf("the list fetched %s: every list call must ask for one page", c)
		}
	}
	first := br.eval(`document.querySelector('table[data-kind="services"] tbody tr').dataset.id`)
	br.click("#next-page")
	eventually(t, uiBound, "page 2", func() (bool, string) {
		id := br.eval(`document.querySelector('table[data-kind="services"] tbody tr')?.dataset.id`)
		return id != "" && id != first && rows() == "30", id
	})

	br.set("f-filter", "svc-09999")
	br.eval(`document.getElementById('f-filter').form.requestSubmit()`) // Enter in the box
	eventually(t, uiBound, "the filtered row", func() (bool, string) {
		return rows() == "1" && br.eval(`document.querySelector('table[data-kind="services"] tbody tr').dataset.name`) == "svc-09999", rows()
	})

	br.open("/overview")
	if got := br.text(`[data-count="services"] .stat-n`); got != "10,000" {
		t.Errorf("overview counts %q services, want 10,000", got)
	}
	for _, p := range []struct{ path, wait string }{
		{"/routes", `table[data-kind="routes"]`},
		{"/consumers", `table[data-kind="consumers"]`},
		{"/plugins", `table[data-kind="plugins"]`},
		{"/upstreams", `table[data-kind="upstreams"]`},
		{"/data-planes", `tr[data-node]`},
		{"/health", `.stats`},
		{"/services/create", `#form-submit`},
	} {
		br.open(p.path)
		br.run("render "+p.path, chromedp.WaitVisible(p.wait, chromedp.ByQuery))
	}
	br.checkClean()
}

// createServices makes n services over the Admin API, 16 at a time,
// bounded in time.
func createServices(t *testing.T, s *stack, n int) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(4 * time.Minute)
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || time.Now().After(deadline) || failed.Load() > 0 {
					return
				}
				resp, err := s.admin.PostForm(s.adminURL("/services"), url.Values{
					"name": {fmt.Sprintf("svc-%05d", i)}, "host": {fmt.Sprintf("backend-%d.internal", i)}, "tags": {"scale"},
				})
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("service %d: %v", i, err))
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("creating %d services: %v", n, firstErr.Load())
	}
	if got := next.Load(); got < int64(n) {
		t.Fatalf("created %d of %d services before the bound", got, n)
	}
	t.Logf("created %d services in %s", n, time.Since(start).Round(time.Millisecond))
}
