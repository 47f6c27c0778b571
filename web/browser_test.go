package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// Browser tests drive Debian's chromium, headless, through chromedp
// against real nodes on loopback. axe-core (from the npm registry, path
// in AXE_CORE_JS; .ci/run installs it) checks every page visited for
// accessibility; serious or critical violations fail the test.
// Screenshots of the main pages at 360 and 1280 px in the three
// languages go to artifacts/screenshots (not committed), to look at.

// browser starts a headless chromium for the test, in the language given
// (its Accept-Language), and returns its context.
func browser(t *testing.T, acceptLanguage string) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: .ci/run installs it with apt")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", strings.Split(acceptLanguage, ",")[0]),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	var mu sync.Mutex
	var problems []string
	must(t, "enable the network domain", chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": acceptLanguage}})
		return err
	})))
	// A dialog (an alert would mean injected script ran) fails the test.
	must(t, "listen", chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			mu.Lock()
			problems = append(problems, "a dialog opened: "+d.Message)
			mu.Unlock()
		}
	}))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Error(p)
		}
	})
	return ctx
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// do runs steps in the browser, failing the test on an error; each call
// has a minute.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v (%s)", what, err, failedPage(ctx, what))
	}
}

// failedPage tells where the browser stood when a step failed, and keeps
// a screenshot of it beside the others, named after the step.
func failedPage(ctx context.Context, what string) string {
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	state, err := chromedp.Run(c, chromedp.Evaluate[string](`location.pathname + location.search + " " + document.readyState + " " + [...document.querySelectorAll(".error")].map(e => e.innerText).join(" | ")`))
	if err != nil {
		return "page unreadable: " + err.Error()
	}
	name := "failed-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(what))
	if img, err := chromedp.Run(c, chromedp.FullScreenshot(100)); err == nil {
		writeScreenshot(name, img)
	}
	return "page " + state
}

// get runs an action that reads something, again while it fails for a
// few seconds (see retry).
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	return retry(t, ctx, what, a)
}

// js runs a script for its effect.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[*runtime.RemoteObject](expr)(ctx, tg)
		return err
	})
}

// waitText waits until sel's text is want (after a click that loads a
// new page, the old page's element may still be there at first).
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && strings.TrimSpace(got) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s reads %q, want %q", sel, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// retry runs a read again while it fails for a few seconds: right after a
// navigation, the browser may replace the document under a query ("No
// node with given id").
func retry[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := chromedp.Run(c, a)
		cancel()
		if err == nil {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(retry(t, ctx, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return retry(t, ctx, "read "+sel+" "+name, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

// axeSource is axe-core's script.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".cache", "maillage-npm", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core not found (%v): .ci/run installs it from npm", err)
		}
		t.Skipf("axe-core not found: npm install --prefix ~/.cache/maillage-npm axe-core@4.11.0 (%v)", err)
	}
	return string(b)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core on the current page: no serious or
// critical violation.
func checkAccessibility(t *testing.T, ctx context.Context, axe, where string) {
	t.Helper()
	get(t, ctx, "load axe", chromedp.Evaluate[*runtime.RemoteObject](axe))
	raw := get(t, ctx, "run axe on "+where, chromedp.Evaluate[string](`axe.run(document).then(r => JSON.stringify({violations: r.violations, passes: r.passes.length}))`, chromedp.EvalAwaitPromise))
	var res struct {
		Violations []axeViolation
		Passes     int
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatalf("axe result on %s: %v", where, err)
	}
	if res.Passes < 10 {
		t.Errorf("%s: axe passed only %d rules: it did not check the page", where, res.Passes)
	}
	for _, v := range res.Violations {
		if v.Impact != "serious" && v.Impact != "critical" {
			t.Logf("%s: accessibility %s (%s): %s", where, v.ID, v.Impact, v.Help)
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			var targets []string
			for _, n := range v.Nodes {
				targets = append(targets, fmt.Sprint(n.Target...))
			}
			t.Errorf("%s: accessibility %s (%s): %s at %s", where, v.ID, v.Impact, v.Help, strings.Join(targets, "; "))
		}
	}
}

// pageWeight returns the bytes the page took on the wire, itself and
// everything it loaded from the node (not the map tiles).
func pageWeight(t *testing.T, ctx context.Context, nodeURL string) int {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		let total = performance.getEntriesByType("navigation").reduce((s, e) => s + e.transferSize, 0);
		for (const e of performance.getEntriesByType("resource")) {
			if (e.name.startsWith(%q)) total += e.transferSize;
		}
		return total;
	})()`, nodeURL)
	return int(get(t, ctx, "measure the page", chromedp.Evaluate[float64](js)))
}

// screenshot saves the current page, whole, under artifacts/screenshots.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	img := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := writeScreenshot(name, img); err != nil {
		t.Fatal(err)
	}
}

// writeScreenshot keeps a PNG in artifacts/screenshots, beside the
// repository's packages.
func writeScreenshot(name string, img []byte) error {
	dir := filepath.Join("..", "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644)
}

// unreachableTiles is a tile server that refuses connections: the map
// must still show its markers.
const unreachableTiles = "http://127.0.0.1:9/{z}/{x}/{y}.png"

// monday is a Monday morning in Brussels, when the sample services open.
var monday = time.Date(2026, 12, 21, 9, 30, 0, 0, time.UTC)

// sampleNode starts a node with a few services in French and Dutch.
func sampleNode(t *testing.T) *nodetest.Node {
	t.Helper()
	n := nodetest.Start(t, 1, nodetest.Options{Clock: &monday, Configure: func(c *node.Config) { c.TileURL = unreachableTiles }})[0]
	tok := n.AdminToken()
	if r := n.Do("PUT", "/api/v1/organization", tok, `{"name": "Maison de quartier Saint-Gilles", "description": "Accueil, aide alimentaire et cours de langue.", "translations": {"nl": {"name": "Buurthuis Sint-Gillis", "description": "Onthaal, voedselhulp en taallessen."}}}`); r.Status != 200 {
		t.Fatalf("organization: %d %s", r.Status, r.Body)
	}
	loc := n.Do("POST", "/api/v1/locations", tok, `{"name": "Accueil", "latitude": 50.8291, "longitude": 4.3449, "wheelchair_accessible": true, "accessibility": [{"description": "Entrée de plain-pied, toilettes adaptées."}],
	  "addresses": [{"address_1": "Rue de la Victoire 96", "city": "Saint-Gilles", "postal_code": "1060", "country": "BE"}]}`)
	if loc.Status != 201 {
		t.Fatalf("location: %d %s", loc.Status, loc.Body)
	}
	var l struct{ ID string }
	loc.JSON(t, &l)
	services := []string{
		`{"name": "Épicerie sociale", "description": "Produits de base à petit prix pour les familles du quartier.", "status": "active",
		  "translations": {"nl": {"name": "Sociale kruidenier – voedselhulp", "description": "Basisproducten aan lage prijs voor de gezinnen uit de buurt."}},
		  "categories": ["equipement-et-alimentation--alimentation"], "audiences": ["familles"], "fee": "gratuit",
		  "languages": [{"code": "fr"}, {"code": "nl"}, {"code": "ar"}], "phones": [{"number": "+32 2 555 12 34"}],
		  "schedules": [{"freq": "WEEKLY", "byday": "MO,TU,TH", "opens_at": "09:00", "closes_at": "12:00"},
		                {"freq": "WEEKLY", "byday": "MO,TH", "opens_at": "13:30", "closes_at": "16:00"}],
		  "service_at_locations": [{"location_id": "` + l.ID + `"}],
		  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`,
		`{"name": "Cours de français", "description": "Cours du soir, tous niveaux.", "status": "active",
		  "translations": {"nl": {"name": "Franse les"}}, "categories": ["lecture-ecriture-calcul--maitriser-le-francais"],
		  "schedules": [{"freq": "WEEKLY", "byday": "WE", "opens_at": "18:00", "closes_at": "20:00"}],
		  "service_at_locations": [{"location_id": "` + l.ID + `"}]}`,
		`{"name": "<script>alert('x')</script> Permanence", "description": "<img src=x onerror=alert(1)>", "status": "active",
		  "service_at_locations": [{"location_id": "` + l.ID + `"}]}`,
	}
	for _, body := range services {
		if r := n.Do("POST", "/api/v1/services", tok, body); r.Status != 201 {
			t.Fatalf("service: %d %s", r.Status, r.Body)
		}
	}
	return n
}

// A resident reading Dutch finds a service from the home page and opens
// it: the pages are in Dutch, the map shows the results without its
// tiles, today's hours stand out, and every page passes axe-core.
func TestBrowserResidentSearchesInDutch(t *testing.T) {
	n := sampleNode(t)
	axe := axeSource(t)
	ctx := browser(t, "nl-BE,nl;q=0.9")

	do(t, ctx, "open the home page", chromedp.Navigate(n.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#find")))
	if lang, heading := attr(t, ctx, "html", "lang"), text(t, ctx, "#find"); lang != "nl" || heading != "Hulp vinden bij u in de buurt" {
		t.Fatalf("home page lang=%q heading=%q, want Dutch", lang, heading)
	}
	checkAccessibility(t, ctx, axe, "home (nl)")

	do(t, ctx, "search for voedselhulp",
		chromedp.SendKeys(chromedp.CSS("#q"), "voedselhulp"),
		chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS("#results")),
	)
	if total := text(t, ctx, "#results"); total != "1 dienst gevonden" {
		t.Errorf("results heading = %q", total)
	}
	if u := get(t, ctx, "read the address", chromedp.Location()); !strings.Contains(u, "/search?q=voedselhulp") {
		t.Errorf("the search is not in the URL: %s", u)
	}
	do(t, ctx, "wait for the map's markers", chromedp.WaitVisible(chromedp.CSS(".leaflet-marker-icon")))
	if markers := attr(t, ctx, "#map", "data-markers"); markers != "1" {
		t.Errorf("map markers = %q, want 1", markers)
	}
	checkAccessibility(t, ctx, axe, "results (nl)")

	do(t, ctx, "open the service", chromedp.Click(chromedp.CSS(".result h3 a")), chromedp.WaitVisible(chromedp.CSS("article.service")))
	if name := text(t, ctx, "h1"); name != "Sociale kruidenier – voedselhulp" {
		t.Errorf("service name = %q", name)
	}
	if today := text(t, ctx, "tr.today"); !strings.Contains(today, "maandag") || !strings.Contains(today, "van 09:00 tot 12:00, van 13:30 tot 16:00") {
		t.Errorf("today's row = %q, want Monday's two slots", today)
	}
	if tel := attr(t, ctx, `a[href^="tel:"]`, "href"); tel != "tel:+32%202%20555%2012%2034" && tel != "tel:+32 2 555 12 34" {
		t.Errorf("phone link = %q", tel)
	}
	checkAccessibility(t, ctx, axe, "service (nl)")

	// A service name with a script tag is shown as text; no script runs
	// (a dialog would fail the test).
	do(t, ctx, "search the hostile name", chromedp.Navigate(n.URL+"/search?q=permanence"), chromedp.WaitVisible(chromedp.CSS("#results")))
	if name := text(t, ctx, ".result h3 a"); name != "<script>alert('x')</script> Permanence" {
		t.Errorf("the hostile name shows as %q", name)
	}
	do(t, ctx, "open it", chromedp.Click(chromedp.CSS(".result h3 a")), chromedp.WaitVisible(chromedp.CSS("article.service")))
	if d := text(t, ctx, "#what + p"); d != "<img src=x onerror=alert(1)>" {
		t.Errorf("the hostile description shows as %q", d)
	}
}

// The main pages in the three languages at phone and desktop widths:
// screenshots to look at, no horizontal scrolling at 360 px, accessible,
// and under 200 kB on the wire.
func TestBrowserMainPages(t *testing.T) {
	n := sampleNode(t)
	axe := axeSource(t)
	fr := browser(t, "fr")
	do(t, fr, "find a service page", chromedp.Navigate(n.URL+"/search?q=epicerie"), chromedp.WaitVisible(chromedp.CSS(".result h3 a")))
	serviceURL := attr(t, fr, ".result h3 a", "href")
	pages := []struct{ name, path string }{{"home", "/"}, {"search", "/search?category=equipement-et-alimentation"}, {"service", serviceURL},
		{"association", "/actor"}, {"about", "/about"}, {"network", "/network"}, {"login", "/login"}}
	for _, lang := range []string{"fr", "nl", "en"} {
		ctx := browser(t, lang)
		for _, width := range []int64{360, 1280} {
			for _, pg := range pages {
				where := fmt.Sprintf("%s-%s-%d", pg.name, lang, width)
				do(t, ctx, where, chromedp.EmulateViewport(width, 800), chromedp.Navigate(n.URL+pg.path), chromedp.WaitReady(chromedp.CSS("footer")))
				if pg.name == "search" {
					do(t, ctx, where+" map", chromedp.WaitVisible(chromedp.CSS(".leaflet-marker-icon")))
				}
				if l := attr(t, ctx, "html", "lang"); l != lang {
					t.Errorf("%s: html lang = %q", where, l)
				}
				if sw := get(t, ctx, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > float64(width) {
					t.Errorf("%s: the page is %.0f px wide: it scrolls sideways", where, sw)
				}
				if w := pageWeight(t, ctx, n.URL); w > 200_000 || w == 0 {
					t.Errorf("%s: %d bytes on the wire, want under 200 kB", where, w)
				} else if pg.name == "search" && width == 360 {
					t.Logf("%s: %d bytes on the wire", where, w)
				}
				if width == 360 {
					checkAccessibility(t, ctx, axe, where)
				}
				screenshot(t, ctx, where)
			}
		}
	}
}

// login signs a worker in through the login page.
func login(t *testing.T, ctx context.Context, n *nodetest.Node, email, password string) {
	t.Helper()
	do(t, ctx, "log in at "+n.Name,
		chromedp.Navigate(n.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/referrals"]`)),
	)
}

// makePartners makes a and b partners through their APIs: a asks, b's
// admin accepts.
func makePartners(t *testing.T, a, b *nodetest.Node, ta, tb string) {
	t.Helper()
	if r := a.Do("POST", "/api/v1/partners", ta, map[string]string{"actor": "@" + b.Name + "@" + b.Addr}); r.Status != 202 {
		t.Fatalf("partner request: %d %s", r.Status, r.Body)
	}
	var rels struct{ Partners []struct{ ID, State string } }
	waitUntil(t, "B sees the request", func() bool {
		b.Do("GET", "/api/v1/partners", tb, nil).JSON(t, &rels)
		return len(rels.Partners) == 1 && rels.Partners[0].State == "pending"
	})
	if r := b.Do("POST", "/api/v1/partners/"+rels.Partners[0].ID+"/accept", tb, nil); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Two real nodes, two browsers: a worker at A refers a resident to B's
// service with her consent, a worker at B accepts it and reads her data
// on demand, A sees the new state, A withdraws the consent, and B's page
// shows the data erased.
func TestBrowserReferralBetweenTwoNodes(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{Configure: func(c *node.Config) { c.TileURL = unreachableTiles }})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	axe := axeSource(t)
	for _, n := range nodes {
		tok := ta
		if n == b {
			tok = tb
		}
		if r := n.Do("POST", "/api/v1/users", tok, `{"email": "worker@`+n.Name+`.test", "role": "worker", "password": "worker-password"}`); r.Status != 201 {
			t.Fatalf("worker: %d %s", r.Status, r.Body)
		}
	}
	makePartners(t, a, b, ta, tb)
	if r := b.Do("POST", "/api/v1/services", tb, `{"name": "Aide au logement", "status": "active", "categories": ["logement-hebergement"],
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`); r.Status != 201 {
		t.Fatalf("service: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "A replicates B's service", func() bool {
		var out struct{ Total int }
		a.Do("GET", "/api/v1/search?q=logement", "", nil).JSON(t, &out)
		return out.Total == 1
	})

	// The worker at A, in French.
	wa := browser(t, "fr")
	login(t, wa, a, "worker@"+a.Name+".test", "worker-password")
	do(t, wa, "find B's service", chromedp.Navigate(a.URL+"/search?q=logement"), chromedp.Click(chromedp.CSS(".result h3 a")),
		chromedp.WaitVisible(chromedp.CSS("article.service")), chromedp.Click(chromedp.CSS(`a.button[href^="/refer"]`)),
		chromedp.WaitVisible(chromedp.CSS("form.refer")))
	// Only what the service asks for is asked: identity and contact,
	// not the situation or health.
	fields := get(t, wa, "read the form's fields", chromedp.Evaluate[[]string](`[...document.querySelectorAll("form.refer [name]")].map(e => e.name).filter(n => !["csrf","service","notice_lang","notice_switch","method","attestation","agreed"].includes(n))`))
	if strings.Join(fields, ",") != "name,birth_date,phone,email,address,preferred_language" {
		t.Errorf("the form asks for %v", fields)
	}
	checkAccessibility(t, wa, axe, "refer form (fr)")
	// The notice in Dutch, the resident's language.
	do(t, wa, "show the notice in Dutch", chromedp.Click(chromedp.CSS(`button[name=notice_switch][value="nl"]`)), chromedp.WaitVisible(chromedp.CSS(`blockquote.notice[lang="nl"]`)))
	if notice := text(t, wa, "blockquote.notice"); !strings.Contains(notice, "Aide au logement") || !strings.Contains(notice, "versleuteld") {
		t.Errorf("the Dutch notice reads %q", notice)
	}
	// Sent without ticking the agreement: refused, nothing sent.
	do(t, wa, "fill the form", chromedp.SendKeys(chromedp.CSS("#f-name"), "Fatima Testmarker"), chromedp.SendKeys(chromedp.CSS("#f-phone"), "+32 470 00 00 00"),
		js(`document.querySelector('[name=agreed]').removeAttribute('required')`),
		chromedp.Submit(chromedp.CSS("#f-name")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if e := text(t, wa, ".error"); !strings.Contains(e, "Cochez l’accord") {
		t.Errorf("without the agreement: %q", e)
	}
	var sent struct{ Referrals []struct{ ID string } }
	a.Do("GET", "/api/v1/referrals", ta, nil).JSON(t, &sent)
	if len(sent.Referrals) != 0 {
		t.Fatalf("a referral was sent without the agreement")
	}
	do(t, wa, "agree and send", chromedp.Click(chromedp.CSS(`[name=agreed]`)), chromedp.Submit(chromedp.CSS("#f-name")),
		chromedp.WaitVisible(chromedp.CSS("#state")))
	waitUntil(t, "the referral's page", func() bool {
		return strings.Contains(get(t, wa, "address", chromedp.Location()), "/referrals/")
	})
	handle := strings.TrimPrefix(get(t, wa, "address", chromedp.Location()), a.URL+"/referrals/")
	waitUntil(t, "B's node reports it received", func() bool {
		do(t, wa, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#state")))
		return text(t, wa, "#state") == "reçue"
	})

	// The worker at B, in Dutch, accepts it and opens the data.
	wb := browser(t, "nl")
	login(t, wb, b, "worker@"+b.Name+".test", "worker-password")
	do(t, wb, "open the inbox", chromedp.Navigate(b.URL+"/referrals"), chromedp.WaitVisible(chromedp.CSS("#received")))
	if h := text(t, wb, "#received"); h != "Ontvangen (1)" {
		t.Errorf("B's inbox heading = %q", h)
	}
	checkAccessibility(t, wb, axe, "referrals (nl)")
	do(t, wb, "open the referral", chromedp.Click(chromedp.CSS(".inbox a")), chromedp.WaitVisible(chromedp.CSS("#state")))
	if got := get(t, wb, "page text", chromedp.Text(chromedp.CSS("main"))); strings.Contains(got, "Testmarker") {
		t.Error("the resident's data shows before it is asked for")
	}
	do(t, wb, "accept", chromedp.Click(chromedp.CSS(`button[data-to="accepted"]`)))
	waitText(t, wb, "#state", "aanvaard")
	do(t, wb, "open the data", chromedp.Click(chromedp.CSS("#open-resident")), chromedp.WaitVisible(chromedp.CSS("#resident-data")))
	if d := text(t, wb, "#resident-data"); !strings.Contains(d, "Fatima Testmarker") || !strings.Contains(d, "+32 470 00 00 00") {
		t.Errorf("the opened data reads %q", d)
	}
	checkAccessibility(t, wb, axe, "referral (nl)")
	var audit struct {
		Entries []struct{ Action, Referral string }
	}
	b.Do("GET", "/api/v1/audit", tb, nil).JSON(t, &audit)
	opened := 0
	for _, e := range audit.Entries {
		if e.Action == "opened" {
			opened++
		}
	}
	if opened != 1 {
		t.Errorf("B's audit log has %d openings, want 1", opened)
	}

	// A sees the acceptance, then withdraws the consent.
	waitUntil(t, "A sees the acceptance", func() bool {
		do(t, wa, "reload", chromedp.Navigate(a.URL+"/referrals/"+handle), chromedp.WaitVisible(chromedp.CSS("#state")))
		return text(t, wa, "#state") == "acceptée"
	})
	do(t, wa, "withdraw", chromedp.Click(chromedp.CSS("#withdraw")), chromedp.WaitVisible(chromedp.CSS("#withdraw-confirm")))
	checkAccessibility(t, wa, axe, "withdraw confirmation (fr)")
	do(t, wa, "confirm", chromedp.Click(chromedp.CSS("#withdraw-confirm")))
	waitText(t, wa, "#state", "annulée")
	waitUntil(t, "A learns B erased its copy", func() bool {
		do(t, wa, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#erasure")))
		return strings.Contains(text(t, wa, "#erasure"), "effacées chez le partenaire le")
	})
	do(t, wb, "B's page", chromedp.Navigate(b.URL+"/referrals"), chromedp.Click(chromedp.CSS(".inbox a")))
	waitText(t, wb, "#state", "geannuleerd")
	if st, page := text(t, wb, "#state"), get(t, wb, "page text", chromedp.Text(chromedp.CSS("main"))); st != "geannuleerd" ||
		!strings.Contains(page, "De gegevens zijn gewist.") || strings.Contains(page, "Testmarker") {
		t.Errorf("B's page after the withdrawal: state %q, text %q", st, page)
	}
	if len(get(t, wb, "open button", chromedp.Nodes(chromedp.CSS("#open-resident"), chromedp.AtLeast(0)))) != 0 {
		t.Error("B still offers to open erased data")
	}
}

// An admin creates a service with two opening slots on one day, in
// French and Dutch side by side, with a category from the picker; the
// public page shows both slots, and the form passes axe-core.
func TestBrowserAdminCreatesService(t *testing.T) {
	n := sampleNode(t)
	axe := axeSource(t)
	ctx := browser(t, "fr")
	do(t, ctx, "log in", chromedp.Navigate(n.URL+"/admin/services/new"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), n.AdminEmail), chromedp.SendKeys(chromedp.CSS("#password"), n.AdminPassword),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("form.editor")))
	checkAccessibility(t, ctx, axe, "service editor (fr)")
	screenshot(t, ctx, "service-editor-fr-1280")
	// A new place first, from the locations editor.
	do(t, ctx, "create a place", chromedp.Navigate(n.URL+"/admin/locations/new"), chromedp.WaitVisible(chromedp.CSS("form.editor")),
		chromedp.SendKeys(chromedp.CSS("#name_fr"), "Antenne Midi"), chromedp.SendKeys(chromedp.CSS("#street"), "Avenue de Stalingrad 12"),
		chromedp.SendKeys(chromedp.CSS("#postcode"), "1000"), chromedp.SendKeys(chromedp.CSS("#city"), "Bruxelles"),
		chromedp.SendKeys(chromedp.CSS("#lat"), "50,8404"), chromedp.SendKeys(chromedp.CSS("#lon"), "4.3444"),
		chromedp.Submit(chromedp.CSS("#street")), chromedp.WaitVisible(chromedp.CSS(".saved")))
	do(t, ctx, "back to the service editor", chromedp.Navigate(n.URL+"/admin/services/new"), chromedp.WaitVisible(chromedp.CSS("form.editor")))
	do(t, ctx, "fill the form",
		chromedp.SendKeys(chromedp.CSS("#name_fr"), "Permanence logement"),
		chromedp.SendKeys(chromedp.CSS("#name_nl"), "Woonspreekuur"),
		chromedp.SendKeys(chromedp.CSS("#description_fr"), "Aide pour trouver un logement."),
		// The theme picker: open the theme's group and tick it.
		js(`document.querySelector('input[name=category][value="logement-hebergement"]').closest('details').open = true`),
		chromedp.Click(chromedp.CSS(`input[name=category][value="logement-hebergement"]`)),
		js(`[...document.querySelectorAll('input[name=location]')].find(e => e.parentElement.textContent.includes("Antenne Midi")).checked = true`),
		// Two slots on Tuesday: the first two rows.
		js(`(() => {
			const days = document.querySelectorAll('select[name=slot_day]');
			const opens = document.querySelectorAll('input[name=slot_opens]');
			const closes = document.querySelectorAll('input[name=slot_closes]');
			days[0].value = "2"; opens[0].value = "09:00"; closes[0].value = "12:00";
			days[1].value = "2"; opens[1].value = "14:00"; closes[1].value = "17:30";
		})()`),
		chromedp.Submit(chromedp.CSS("#name_fr")),
		chromedp.WaitVisible(chromedp.CSS(".saved")),
	)
	do(t, ctx, "open the public page", chromedp.Click(chromedp.CSS(".saved a")), chromedp.WaitVisible(chromedp.CSS("article.service")))
	if name := text(t, ctx, "h1"); name != "Permanence logement" {
		t.Errorf("public name = %q", name)
	}
	if tags := text(t, ctx, "ul.tags"); tags != "Logement et hébergement" {
		t.Errorf("the public page's themes read %q", tags)
	}
	if place := text(t, ctx, ".place"); !strings.Contains(place, "Avenue de Stalingrad 12") || !strings.Contains(place, "1000 Bruxelles") {
		t.Errorf("the public page's place reads %q", place)
	}
	if dir := attr(t, ctx, ".place a", "href"); !strings.Contains(dir, "50.840400%2C4.344400") {
		t.Errorf("directions link = %q", dir)
	}
	rows := get(t, ctx, "read the hours", chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.hours tr")].map(r => r.innerText.replace(/\s+/g, " ").trim())`))
	if len(rows) != 7 || rows[1] != "mardi de 09:00 à 12:00, de 14:00 à 17:30" {
		t.Errorf("the hours read %q", rows)
	}
	// Published by default: the public search finds it by its Dutch name.
	waitUntil(t, "the new service searchable", func() bool {
		var found struct{ Total int }
		n.Do("GET", "/api/v1/search?q=woonspreekuur", "", nil).JSON(t, &found)
		return found.Total == 1
	})
	// A second entry of the same service, in Dutch, at the same place:
	// before saving, the editor shows the first one, with why; saving
	// anyway is the author's choice.
	do(t, ctx, "a look-alike", chromedp.Navigate(n.URL+"/admin/services/new"), chromedp.WaitVisible(chromedp.CSS("form.editor")),
		chromedp.SendKeys(chromedp.CSS("#name_nl"), "Woonspreekuur Midi"),
		js(`document.querySelector('input[name=category][value="logement-hebergement"]').checked = true`),
		js(`[...document.querySelectorAll('input[name=location]')].find(e => e.parentElement.textContent.includes("Antenne Midi")).checked = true`),
		chromedp.Submit(chromedp.CSS("#name_fr")), chromedp.WaitReady(chromedp.CSS("footer")))
	do(t, ctx, "wait", chromedp.WaitVisible(chromedp.CSS("#similar-title")))
	if warn := text(t, ctx, "section.similar"); !strings.Contains(warn, "Permanence logement") || !strings.Contains(warn, "même thème") || !strings.Contains(warn, "proche") {
		t.Errorf("the similar services read %q", warn)
	}
	checkAccessibility(t, ctx, axe, "similar services warning (fr)")
	var before struct{ Total int }
	n.Do("GET", "/api/v1/services?per_page=1", "", nil).JSON(t, &before)
	// Marked complementary, with a note: saved with it, and the editor
	// no longer offers the first service as a look-alike.
	do(t, ctx, "mark complementary and save", chromedp.Click(chromedp.CSS("#complement-0")),
		chromedp.SendKeys(chromedp.CSS("#complement-note"), "Le samedi seulement, pour les locataires sociaux."),
		chromedp.Click(chromedp.CSS("#save-anyway")), chromedp.WaitVisible(chromedp.CSS(".saved")))
	if c := text(t, ctx, "#complements-title + ul"); !strings.Contains(c, "Le samedi seulement") {
		t.Errorf("the complement reads %q", c)
	}
	do(t, ctx, "save again", chromedp.Submit(chromedp.CSS("#name_fr")), chromedp.WaitVisible(chromedp.CSS(".saved")))
	if n := len(get(t, ctx, "similar section", chromedp.Nodes(chromedp.CSS("#similar-title"), chromedp.AtLeast(0)))); n != 0 {
		t.Error("the complementary service is still offered as a look-alike")
	}
	var after struct{ Total int }
	n.Do("GET", "/api/v1/services?per_page=1", "", nil).JSON(t, &after)
	if after.Total != before.Total+1 {
		t.Errorf("saving anyway stored %d services, want one", after.Total-before.Total)
	}
	// A slot that ends before it opens is refused with the field named,
	// and nothing is saved.
	do(t, ctx, "a bad slot", chromedp.Navigate(n.URL+"/admin/services/new"), chromedp.WaitVisible(chromedp.CSS("form.editor")),
		chromedp.SendKeys(chromedp.CSS("#name_fr"), "Service mal réglé"),
		js(`(() => { document.querySelector('input[name=slot_opens]').value = "18:00"; document.querySelector('input[name=slot_closes]').value = "09:00"; })()`),
		chromedp.Submit(chromedp.CSS("#name_fr")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if e := text(t, ctx, ".error"); !strings.Contains(e, "Heure de fermeture (ligne 1)") {
		t.Errorf("the bad slot reads %q", e)
	}
	var all struct{ Total int }
	n.Do("GET", "/api/v1/services?per_page=1", "", nil).JSON(t, &all)
	if all.Total != 5 { // the samples, the new one and its look-alike; the place is not a service
		t.Errorf("%d services stored, want the 3 samples, the new one and its look-alike", all.Total)
	}
}

// Every admin page renders for an admin, accessibly, in the three
// languages at phone width; a worker is refused them and a visitor is
// sent to the login page.
func TestBrowserAdminPages(t *testing.T) {
	n := sampleNode(t)
	axe := axeSource(t)
	tok := n.AdminToken()
	if r := n.Do("POST", "/api/v1/users", tok, `{"email": "worker@`+n.Name+`.test", "role": "worker", "password": "worker-password"}`); r.Status != 201 {
		t.Fatalf("worker: %d %s", r.Status, r.Body)
	}
	if r := n.Do("POST", "/api/v1/blocklist", tok, `{"host": "spam.example"}`); r.Status != 200 && r.Status != 201 && r.Status != 204 {
		t.Fatalf("block: %d %s", r.Status, r.Body)
	}
	pages := []string{"/admin", "/admin/services", "/admin/services/new", "/admin/locations", "/admin/locations/new", "/admin/organization", "/admin/partners", "/admin/users", "/admin/blocklist", "/admin/audit", "/referrals"}
	for _, lang := range []string{"fr", "nl", "en"} {
		ctx := browser(t, lang)
		do(t, ctx, "log in", chromedp.Navigate(n.URL+"/login"), chromedp.SendKeys(chromedp.CSS("#email"), n.AdminEmail),
			chromedp.SendKeys(chromedp.CSS("#password"), n.AdminPassword), chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/admin"]`)))
		for _, path := range pages {
			where := fmt.Sprintf("%s-%s-360", strings.ReplaceAll(strings.Trim(path, "/"), "/", "-"), lang)
			do(t, ctx, where, chromedp.EmulateViewport(360, 800), chromedp.Navigate(n.URL+path), chromedp.WaitReady(chromedp.CSS("footer")))
			if h := text(t, ctx, "h1"); h == "" || h == translateTitle(lang) {
				t.Errorf("%s: heading %q", where, h)
			}
			if sw := get(t, ctx, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > 360 {
				wide := get(t, ctx, "wide elements", chromedp.Evaluate[[]string](`[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > 361).slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id)`))
				t.Errorf("%s: the page is %.0f px wide: %v", where, sw, wide)
			}
			checkAccessibility(t, ctx, axe, where)
			screenshot(t, ctx, where)
		}
	}
	// A worker and a visitor.
	worker := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range pages[:len(pages)-1] {
		resp, err := worker.Get(n.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("a visitor at %s: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	wctx := browser(t, "fr")
	do(t, wctx, "worker logs in", chromedp.Navigate(n.URL+"/login"), chromedp.SendKeys(chromedp.CSS("#email"), "worker@"+n.Name+".test"),
		chromedp.SendKeys(chromedp.CSS("#password"), "worker-password"), chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/referrals"]`)))
	if len(get(t, wctx, "admin link", chromedp.Nodes(chromedp.CSS(`a[href="/admin"]`), chromedp.AtLeast(0)))) != 0 {
		t.Error("a worker sees the admin menu")
	}
	for _, path := range pages[:len(pages)-1] {
		do(t, wctx, "worker at "+path, chromedp.Navigate(n.URL+path), chromedp.WaitReady(chromedp.CSS("footer")))
		if h := text(t, wctx, "h1"); h != "Oups" {
			t.Errorf("a worker at %s sees %q", path, h)
		}
	}
}

func translateTitle(lang string) string {
	return map[string]string{"fr": "Oups", "nl": "Oeps", "en": "Oops"}[lang]
}

// Without JavaScript, a resident still searches, reads the results and
// the service page: the map is an addition, not the way in.
func TestBrowserWithoutJavaScript(t *testing.T) {
	n := sampleNode(t)
	ctx := browser(t, "en")
	do(t, ctx, "turn scripts off", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	do(t, ctx, "search from the home page", chromedp.Navigate(n.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "food"), chromedp.SendKeys(chromedp.CSS("#q"), "\r"), chromedp.WaitVisible(chromedp.CSS("#results")))
	if got := text(t, ctx, "#results"); got != "1 service found" {
		t.Errorf("results = %q", got)
	}
	if n := len(get(t, ctx, "map markers", chromedp.Nodes(chromedp.CSS(".leaflet-marker-icon"), chromedp.AtLeast(0)))); n != 0 {
		t.Errorf("%d map markers with scripts off: the check does not work", n)
	}
	do(t, ctx, "open the service", chromedp.Click(chromedp.CSS(".result h3 a")), chromedp.WaitVisible(chromedp.CSS("table.hours")))
	if today := text(t, ctx, "tr.today"); !strings.HasPrefix(today, "Monday") {
		t.Errorf("today's row = %q", today)
	}
}
