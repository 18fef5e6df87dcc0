package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browserBound bounds the whole browser scenario; uiBound one UI step
// (a page render, a form round trip). Neither is an assertion on speed.
const (
	browserBound = 5 * time.Minute
	uiBound      = 30 * time.Second
)

// chromiumBin finds Debian's Chromium: CHROMIUM_BIN (make test sets it),
// else chromium on PATH. Without one the browser tests skip, unless
// CHROMIUM_BIN names a binary that is not there.
func chromiumBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		if !isExecutable(p) {
			t.Fatalf("CHROMIUM_BIN=%s is not an executable (make chromium installs it)", p)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("skipping: no chromium (make chromium installs Debian's)")
	return ""
}

// browser is one headless Chromium tab and what its pages logged.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // the Manager's URL

	mu       sync.Mutex
	problems []string // JS exceptions and console errors (CSP violations among them)
}

func startBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumBin(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
		chromedp.NoSandbox, // root in CI containers
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers' /dev/shm is small
		chromedp.Flag("hide-scrollbars", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelBound := context.WithTimeout(ctx, browserBound)
	t.Cleanup(func() { cancelBound(); cancelTab(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.problem("exception: " + e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				b.problem("console.error: " + strings.Join(parts, " "))
			}
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) problem(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, s)
}

// run runs actions within uiBound, failing the test with what.
func (b *browser) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, uiBound)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(".layout", chromedp.ByQuery))
}

// set types value into the form field with id, the way a user's input
// event reaches the page.
func (b *browser) set(id, value string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => {
		const el = document.getElementById(%q);
		el.value = %q;
		el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', {bubbles: true}));
		return true;
	})()`, id, value)
	var ok bool
	b.run("set #"+id, chromedp.WaitVisible("#"+id, chromedp.ByID), chromedp.Evaluate(js, &ok))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.run("click "+sel, chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Click(sel, chromedp.ByQuery))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	var s string
	b.run("read "+sel, chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

// eval returns a JS expression's string value ("" for null/undefined).
func (b *browser) eval(expr string) string {
	b.t.Helper()
	var s string
	b.run("eval "+expr, chromedp.Evaluate(`String(`+expr+` ?? '')`, &s))
	return s
}

func (b *browser) path() string { return b.eval("location.pathname") }

// waitPath waits until the page moved to a path with prefix and no
// further segment matching except an id, returning the path.
func (b *browser) waitPath(what string, ok func(string) bool) string {
	b.t.Helper()
	var p string
	eventually(b.t, uiBound, what, func() (bool, string) {
		p = b.path()
		return ok(p), p
	})
	return p
}

// screenshot saves the viewport as docs/<name>.png when
// MANAGER_SCREENSHOTS names a directory (make screenshots).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("MANAGER_SCREENSHOTS")
	if dir == "" {
		return
	}
	var buf []byte
	b.run("screenshot "+name, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		buf, err = page.CaptureScreenshot().WithFormat(page.CaptureScreenshotFormatPng).Do(ctx)
		return err
	}))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
}

func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("browser: %s", p)
	}
}

// TestManager_Browser drives switchboard Manager in Debian's Chromium as a
// user would: an upstream with two targets, a service and a route created
// through the UI answer through Envoy; a validation error lands under the
// field Kong's error names; a backend killed turns unhealthy in the UI and
// is marked healthy by hand there.
func TestManager_Browser(t *testing.T) {
	t.Parallel()
	chromiumBin(t) // skip before starting anything when there is none
	a, bk := startCtlBackend(t, "a"), startCtlBackend(t, "b")
	managerAddr := freePort(t)
	s := startStack(t, stackOptions{extraArgs: []string{"--manager-listen", managerAddr}})
	// A second Envoy of the user's own, so that the health matrix has two
	// columns (both bind the proxy port; Envoy listeners use SO_REUSEPORT).
	edge, _, err := s.env.StartExternalEnvoy("edge-2", false)
	if err != nil {
		t.Fatalf("second Envoy: %v", err)
	}
	t.Cleanup(func() { edge.Stop(5 * time.Second) })
	br := startBrowser(t, "http://"+managerAddr)

	// The first page, cold: the UI's own load time, logged for the notes.
	br.open("/overview")
	br.run("overview renders", chromedp.WaitVisible(`[data-count="services"]`, chromedp.ByQuery))
	t.Logf("first load: %s ms to the load event (the UI: %s bytes transferred)",
		br.eval(`Math.round(performance.getEntriesByType('navigation')[0].loadEventEnd)`),
		br.eval(`performance.getEntriesByType('resource').reduce((n, r) => n + r.transferSize, performance.getEntriesByType('navigation')[0].transferSize)`))

	// Upstream, through the raw JSON editor: passive checks, so that a
	// dead target is ejected by the traffic it fails.
	br.open("/upstreams/create")
	br.click(`.tabs.small .tab:nth-child(2)`)
	br.run("upstream JSON", chromedp.WaitVisible(`.json-editor`, chromedp.ByQuery), chromedp.Evaluate(`(() => {
		const el = document.querySelector('.json-editor');
		el.value = JSON.stringify({name: 'mgr-up', healthchecks: {passive: {unhealthy: {http_failures: 3, tcp_failures: 2, timeouts: 2}}}});
		el.dispatchEvent(new Event('input', {bubbles: true}));
		return true;
	})()`, new(bool)))
	br.click("#form-submit")
	upPath := br.waitPath("the new upstream's page", func(p string) bool { return strings.HasPrefix(p, "/upstreams/") && !strings.HasSuffix(p, "/create") })

	// Two targets from the Targets tab's schema-driven form.
	for _, tb := range []*ctlBackend{a, bk} {
		br.open(upPath + "/targets")
		br.click("#new-target")
		br.set("f-target", tb.target())
		br.click("#form-submit")
		br.run("target row "+tb.target(), chromedp.WaitVisible(fmt.Sprintf(`tr[data-target=%q]`, tb.target()), chromedp.ByQuery))
	}
	// Edit a's weight in place (PATCH of the changed field only).
	br.click(fmt.Sprintf(`tr[data-target=%q] button[data-action="edit"]`, a.target()))
	br.set("f-weight", "50")
	br.click("#form-submit")
	eventually(t, uiBound, "a's new weight in the Targets tab", func() (bool, string) {
		w := br.eval(fmt.Sprintf(`document.querySelector('tr[data-target=%q] td:nth-child(2)')?.textContent`, a.target()))
		return w == "50", "weight " + w
	})
	br.screenshot("manager-targets")

	// A validation error lands under the field Kong's error names.
	br.open("/services/create")
	br.set("f-name", "mgr-svc")
	br.set("f-host", "mgr-up")
	br.set("f-path", "no-slash")
	br.click("#form-submit")
	if msg := br.text(`.field-error[data-field="path"]`); !strings.Contains(msg, "should start with") {
		t.Errorf("error under path = %q, want Kong's starts_with message", msg)
	}
	br.screenshot("manager-validation")
	br.set("f-path", "")
	br.click("#form-submit")
	svcPath := br.waitPath("the new service's page", func(p string) bool { return strings.HasPrefix(p, "/services/") && !strings.HasSuffix(p, "/create") })

	// A route from the service's Routes tab.
	br.open(svcPath + "/routes")
	br.click(`a[href^="/routes/create?service="]`)
	br.set("f-name", "mgr-route")
	br.set("f-paths", "/mgr")
	br.click("#form-submit")
	br.waitPath("the new route's page", func(p string) bool { return strings.HasPrefix(p, "/routes/") && !strings.HasSuffix(p, "/create") })
	// The write's progress to the Envoys, from acked_revision.
	br.run("propagation toast", chromedp.WaitVisible(`#propagation.toast-ok`, chromedp.ByQuery))
	if got := br.text("#propagation"); !strings.Contains(got, "reached 2 of 2 Envoys") {
		t.Errorf("propagation toast = %q, want the write on both Envoys", got)
	}

	s.converge("the route made in the UI answering through Envoy", func() (bool, string) {
		counts := s.spread("/mgr", 10)
		return counts["a"] > 0 && counts["b"] > 0, fmtCounts(counts)
	})

	// Kill b: the traffic it fails ejects it, and the UI's matrix shows
	// Envoy's verdict.
	bk.kill()
	br.open(upPath + "/health")
	cells := fmt.Sprintf(`[...document.querySelectorAll('tr[data-address=%q] td[data-envoy] [data-health]')].map(e => e.dataset.health).join(' ')`, bk.addr())
	eventually(t, convergeBound, "b UNHEALTHY in the UI's health matrix", func() (bool, string) {
		s.get("/mgr", "")
		h := br.eval(cells)
		return strings.Contains(h, "UNHEALTHY"), "Envoy cells: " + h
	})
	if n := br.eval(`document.querySelectorAll('table.matrix thead th').length`); n != "5" {
		t.Errorf("matrix has %s header cells, want 3 + one per Envoy (2)", n)
	}
	br.screenshot("manager-upstream-health")
	br.open("/health")
	br.run("live health page", chromedp.WaitVisible(`table.matrix`, chromedp.ByQuery))
	br.screenshot("manager-live-health")

	// Mark it healthy by hand on the Targets tab.
	br.open(upPath + "/targets")
	br.click(fmt.Sprintf(`tr[data-target=%q] button[data-action="healthy"]`, bk.target()))
	badge := fmt.Sprintf(`document.querySelector('tr[data-target=%q] [data-health]')?.dataset.health`, bk.target())
	eventually(t, convergeBound, "b HEALTHY in the Targets tab after Mark healthy", func() (bool, string) {
		h := br.eval(badge)
		return h == "HEALTHY", "badge: " + h
	})

	// Every other page renders, for the screenshots.
	for _, p := range []struct{ path, wait, name string }{
		{"/overview", `[data-count="services"] .stat-n`, "manager-overview"},
		{"/services", `tr[data-name="mgr-svc"]`, "manager-services"},
		{"/routes", `tr[data-name="mgr-route"]`, "manager-routes"},
		{"/upstreams", `tr[data-name="mgr-up"]`, "manager-upstreams"},
		{svcPath, `.kv`, "manager-service"},
		{"/data-planes", `tr[data-node]`, "manager-data-planes"},
		{"/upstreams/create", `#form-submit`, "manager-upstream-form"},
	} {
		br.open(p.path)
		br.run("render "+p.path, chromedp.WaitVisible(p.wait, chromedp.ByQuery))
		br.screenshot(p.name)
	}
	br.open("/overview")
	if got := br.text(`[data-count="services"] .stat-n`); got != "1" {
		t.Errorf("overview counts %q services, want 1", got)
	}
	br.checkClean()
}

// TestManager_Token: with --admin-token the Manager asks for the token,
// keeps it in the tab and sends it as Kong-Admin-Token; without it /api
// answers 401 like the Admin API.
func TestManager_Token(t *testing.T) {
	t.Parallel()
	chromiumBin(t)
	const token = "manager-e2e-token"
	managerAddr := freePort(t)
	startStack(t, stackOptions{adminToken: token, extraArgs: []string{"--admin-token", token, "--manager-listen", managerAddr}})
	resp, err := http.Get("http://" + managerAddr + "/api/services")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /api/services without a token: %d, want 401", resp.StatusCode)
	}
	// Another site's page cannot read through the Manager's origin either.
	req, _ := http.NewRequest(http.MethodGet, "http://"+managerAddr+"/api/services", nil)
	req.Header.Set("Origin", "http://evil.test")
	req.Header.Set("Kong-Admin-Token", token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("GET /api/services from another origin: %d, Access-Control-Allow-Origin %q; want no CORS grant",
			resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	br := startBrowser(t, "http://"+managerAddr)
	br.open("/services")
	br.run("the sign-in dialog", chromedp.WaitVisible(`input[aria-label="Admin API token"]`, chromedp.ByQuery))
	br.screenshot("manager-sign-in")
	br.run("type the token", chromedp.SendKeys(`input[aria-label="Admin API token"]`, token, chromedp.ByQuery))
	br.eval(`document.querySelector('input[aria-label="Admin API token"]').form.requestSubmit()`) // Enter
	eventually(t, uiBound, "the list after signing in", func() (bool, string) {
		open := br.eval(`document.querySelector('input[aria-label="Admin API token"]') ? 'dialog open' : ''`)
		errs := br.eval(`document.querySelector('.alert-error')?.textContent`)
		table := br.eval(`document.querySelector('table[data-kind="services"]') ? 'table' : ''`)
		return open == "" && errs == "" && table != "", open + errs + table
	})
	// A write with the token, from the page, goes through.
	br.open("/services/create")
	br.set("f-name", "tok-svc")
	br.set("f-host", "example.internal")
	br.click("#form-submit")
	br.waitPath("the new service's page", func(p string) bool { return strings.HasPrefix(p, "/services/") && !strings.HasSuffix(p, "/create") })
	br.checkClean()
}

// TestManager_PluginsAndConsumers: a consumer, and a rate-limiting plugin
// on a service (given by name) with its config form from
// /schemas/plugins/rate-limiting, made through the UI, are what the Admin
// API then holds. (Envoy enforcing it is the translator's e2e.)
func TestManager_PluginsAndConsumers(t *testing.T) {
	t.Parallel()
	chromiumBin(t)
	managerAddr := freePort(t)
	s := startStack(t, stackOptions{extraArgs: []string{"--manager-listen", managerAddr}})
	svc := s.mustAPI("POST", "/services", form("name", "rl-svc", "host", "rl.internal"), 201)
	br := startBrowser(t, "http://"+managerAddr)

	br.open("/consumers/create")
	br.set("f-username", "alice")
	br.click("#form-submit")
	br.waitPath("the consumer's page", func(p string) bool { return strings.HasPrefix(p, "/consumers/") && !strings.HasSuffix(p, "/create") })
	s.mustAPI("GET", "/consumers/alice", nil, 200)

	br.open("/plugins/select")
	br.click(`[data-plugin="rate-limiting"]`)
	br.click(`details[data-field="config"] > summary`)
	br.set("f-config-minute", "3")
	br.set("f-service", "rl-svc")
	br.click("#form-submit")
	br.waitPath("the plugin's page", func(p string) bool { return strings.HasPrefix(p, "/plugins/") && !strings.Contains(p, "create") })
	br.screenshot("manager-plugin")

	plugins, _ := s.mustAPI("GET", "/services/rl-svc/plugins", nil, 200)["data"].([]any)
	if len(plugins) != 1 {
		t.Fatalf("the service has %d plugins, want the one made in the UI", len(plugins))
	}
	p := plugins[0].(map[string]any)
	conf, _ := p["config"].(map[string]any)
	ref, _ := p["service"].(map[string]any)
	if p["name"] != "rate-limiting" || fmt.Sprint(conf["minute"]) != "3" || ref["id"] != svc["id"] {
		t.Errorf("plugin = %v, want rate-limiting, config.minute 3, on rl-svc", p)
	}
	br.open("/plugins")
	br.run("the plugin row", chromedp.WaitVisible(`tr[data-name="rate-limiting"]`, chromedp.ByQuery))
	if got := br.text(`tr[data-name="rate-limiting"] td[data-col="scope"]`); !strings.Contains(got, "Service") {
		t.Errorf("Applied To = %q, want the service", got)
	}
	br.screenshot("manager-plugins")
	br.checkClean()
}
