package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
)

// A resident on a phone (issue 16, points 4 to 6): a partner's service
// shows its place as a local one does, the results map shows its markers
// whatever the tiles do, and after a search the first screen shows the
// results, with ways out when there are none.

// partnerPlaceNodes starts nodes A and B, partners, where A offers a
// service at a place in Anderlecht that B has replicated; it returns B
// and the address of A's service on B.
func partnerPlaceNodes(t *testing.T) (b *nodetest.Node, pageURL string) {
	t.Helper()
	nodes := nodetest.Start(t, 2, nodetest.Options{Clock: &monday, Configure: func(c *node.Config) { c.TileURL = unreachableTiles }})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	loc := a.Do("POST", "/api/v1/locations", ta, `{"name": "Maison Midi", "translations": {"nl": {"name": "Huis Zuid", "accessibility": "Gelijkvloerse ingang langs de Brogniezstraat."}},
	  "latitude": 50.8366, "longitude": 4.3306, "wheelchair_accessible": true,
	  "accessibility": [{"description": "Entrée de plain-pied côté rue Brogniez."}],
	  "addresses": [{"address_1": "Rue Brogniez 50", "city": "Anderlecht", "postal_code": "1070", "country": "BE"}]}`)
	if loc.Status != 201 {
		t.Fatalf("location: %d %s", loc.Status, loc.Body)
	}
	var l struct{ ID string }
	loc.JSON(t, &l)
	if r := a.Do("POST", "/api/v1/services", ta, `{"name": "Repair café", "description": "On répare ensemble vélos et petits appareils.", "status": "active",
	  "translations": {"nl": {"name": "Repaircafé", "description": "Samen fietsen en kleine toestellen herstellen."}},
	  "service_at_locations": [{"location_id": "`+l.ID+`"}]}`); r.Status != 201 {
		t.Fatalf("service: %d %s", r.Status, r.Body)
	}
	makePartners(t, a, b, ta, tb)
	var found struct{ Results []struct{ URI string } }
	waitUntil(t, "B replicates A's service", func() bool {
		b.Do("GET", "/api/v1/search?q=repair", "", nil).JSON(t, &found)
		return len(found.Results) == 1
	})
	return b, "/service?uri=" + url.QueryEscape(found.Results[0].URI)
}

// getPage reads a page of n as a browser in lang would.
func getPage(t *testing.T, n *nodetest.Node, path, lang string) string {
	t.Helper()
	req, err := http.NewRequest("GET", n.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", lang)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return string(body)
}

// A partner's service page says where: the place's name, street,
// postcode and commune, access and a route link, in the reader's
// language, as the service's own node does. A replica stored before
// places travelled (positions only) still shows its route link.
func TestPartnerServiceShowsItsPlace(t *testing.T) {
	b, page := partnerPlaceNodes(t)
	for _, tt := range []struct{ lang, name, access string }{
		{"fr", "Maison Midi", "Entrée de plain-pied côté rue Brogniez."},
		{"nl", "Huis Zuid", "Gelijkvloerse ingang langs de Brogniezstraat."},
	} {
		body := getPage(t, b, page, tt.lang)
		where := body[strings.Index(body, `id="where"`):]
		for _, want := range []string{tt.name, "Rue Brogniez 50<br>1070 Anderlecht", tt.access, "https://www.openstreetmap.org/directions?route=%3B50.836600%2C4.330600"} {
			if !strings.Contains(where, want) {
				t.Errorf("%s: the partner's service page lacks %q in:\n%s", tt.lang, want, where)
			}
		}
	}

	old := &directory.PartnerService{URI: "http://127.0.0.1:1/services/7d1c2f1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", Actor: "http://127.0.0.1:1/actor", Provider: "Ancienne maison",
		Service:  &directory.Service{ID: "7d1c2f1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", Name: directory.T(directory.FR, "Permanence d’avant"), Status: directory.StatusActive},
		Points:   []directory.Point{{Lat: 50.83, Lon: 4.34}},
		Received: monday}
	if _, err := b.Node().Store.PutPartnerService(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	body := getPage(t, b, "/service?uri="+url.QueryEscape(old.URI), "fr")
	if !strings.Contains(body, "Permanence d’avant") || !strings.Contains(body, "directions?route=%3B50.830000%2C4.340000") {
		t.Errorf("a replica without places does not show its position:\n%s", body)
	}
}

// The partner's place on its service page, in a browser: French and
// Dutch, phone and desktop, accessible, no sideways scrolling.
func TestBrowserPartnerServicePlace(t *testing.T) {
	b, page := partnerPlaceNodes(t)
	axe := axeSource(t)
	for _, tc := range []struct{ lang, name, access string }{
		{"fr", "Maison Midi", "Entrée de plain-pied côté rue Brogniez."},
		{"nl", "Huis Zuid", "Gelijkvloerse ingang langs de Brogniezstraat."},
	} {
		ctx := browser(t, tc.lang)
		for _, width := range []int64{360, 1280} {
			where := fmt.Sprintf("resident-partner-place-%s-%d", tc.lang, width)
			do(t, ctx, where, chromedp.EmulateViewport(width, 800), chromedp.Navigate(b.URL+page), chromedp.WaitVisible(chromedp.CSS(".place")))
			place := text(t, ctx, ".place")
			for _, want := range []string{tc.name, "Rue Brogniez 50", "1070 Anderlecht", tc.access} {
				if !strings.Contains(place, want) {
					t.Errorf("%s: the place reads %q, lacking %q", where, place, want)
				}
			}
			if href := attr(t, ctx, ".place a", "href"); !strings.HasPrefix(href, "https://www.openstreetmap.org/directions") {
				t.Errorf("%s: route link %q", where, href)
			}
			noSideScroll(t, ctx, where, width)
			checkAccessibility(t, ctx, axe, where)
			screenshot(t, ctx, where)
		}
	}
}

// consoleErrors collects the page's uncaught exceptions and console
// errors (a failed tile load is a network error, not one of these).
func consoleErrors(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	must(t, "listen to the console", chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := fmt.Sprintf("%s at %s:%d", d.Text, d.URL, d.LineNumber+1)
			if ex := d.Exception; ex != nil {
				msg += " " + ex.Description + string(ex.Value)
			}
			errs = append(errs, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				errs = append(errs, "console.error: "+strings.Join(parts, " "))
			}
		}
	}))
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}

// The results map shows its markers when the node has no tile server
// ("none") and when the tile server cannot be reached, without a script
// error: the zoom range is the map's own.
func TestBrowserMapMarkersWithoutTiles(t *testing.T) {
	for _, tc := range []struct{ name, tiles string }{{"none", ""}, {"unreachable", unreachableTiles}} {
		t.Run(tc.name, func(t *testing.T) {
			n := nodetest.Start(t, 1, nodetest.Options{Clock: &monday, Configure: func(c *node.Config) { c.TileURL = tc.tiles }})[0]
			tok := n.AdminToken()
			for i, pt := range []directory.Point{{Lat: 50.8291, Lon: 4.3449}, {Lat: 50.8366, Lon: 4.3306}} {
				loc := n.Do("POST", "/api/v1/locations", tok, fmt.Sprintf(`{"name": "Lieu %d", "latitude": %f, "longitude": %f, "addresses": [{"address_1": "Rue %d", "city": "Bruxelles", "postal_code": "1060", "country": "BE"}]}`, i, pt.Lat, pt.Lon, i))
				var l struct{ ID string }
				loc.JSON(t, &l)
				if r := n.Do("POST", "/api/v1/services", tok, fmt.Sprintf(`{"name": "Soutien scolaire %d", "status": "active", "service_at_locations": [{"location_id": %q}]}`, i, l.ID)); r.Status != 201 {
					t.Fatalf("service: %d %s", r.Status, r.Body)
				}
			}
			ctx := browser(t, "fr")
			errs := consoleErrors(t, ctx)
			do(t, ctx, "search", chromedp.EmulateViewport(360, 800), chromedp.Navigate(n.URL+"/search?q=soutien+scolaire"),
				chromedp.WaitVisible(chromedp.CSS("#results")))
			visible := `[...document.querySelectorAll("#map .leaflet-marker-icon")].filter(m => {
				const r = m.getBoundingClientRect(), box = document.getElementById("map").getBoundingClientRect();
				return r.width > 0 && r.height > 0 && getComputedStyle(m).opacity !== "0" && r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
			}).length`
			var shown float64
			for deadline := time.Now().Add(10 * time.Second); shown < 2 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				shown = get(t, ctx, "count the visible markers", chromedp.Evaluate[float64](visible))
			}
			if shown < 2 {
				t.Fatalf("%.0f of 2 markers visible inside the map; the page raised: %s", shown, strings.Join(errs(), "; "))
			}
			if got := attr(t, ctx, "#map", "data-markers"); got != "2" {
				t.Errorf("the map drew %q markers, want 2", got)
			}
			time.Sleep(500 * time.Millisecond) // let failed tile loads and late errors arrive
			if e := errs(); len(e) > 0 {
				t.Errorf("the page raised errors: %s", strings.Join(e, "; "))
			}
			screenshot(t, ctx, "resident-map-"+tc.name+"-fr-360")
		})
	}
}

// searchCase is one language's searches for the phone test.
type searchCase struct {
	lang      string
	words     string // found once
	count     string // the count for that search
	none      string // what a search that finds nothing says
	widen     string // the suggestion to search further
	typo      string // found by no service, close to words
	spelling  string // the suggestion for typo
	needLink  string
	dropPlace string // the suggestion to drop the postcode
}

// After a search on a phone, the count and the first result are on the
// first screen (the form folded into a summary); the count says "1
// service" in the singular; a search that finds nothing says so and
// offers to search further, without the postcode, with a spelling the
// directory knows, and to tell the network what is missing; searching
// further finds the service. In French and Dutch, at 360 and 1280 px.
func TestBrowserResidentSearchOnAPhone(t *testing.T) {
	n := sampleNode(t)
	axe := axeSource(t)
	cases := []searchCase{
		{lang: "fr", words: "épicerie", count: "1 service trouvé", none: "Aucun service trouvé", widen: "Chercher plus loin, jusqu’à 5 km", typo: "episserie",
			spelling: "Chercher «\u00a0épicerie\u00a0»", needLink: "Signalez ce besoin au réseau", dropPlace: "Partout, pas seulement autour de 1000"},
		{lang: "nl", words: "voedselhulp", count: "1 dienst gevonden", none: "Geen diensten gevonden", widen: "Verder zoeken, tot 5 km", typo: "voedselhlup",
			spelling: "Zoeken naar ‘voedselhulp’", needLink: "Meld deze nood aan het netwerk", dropPlace: "Overal, niet alleen rond 1000"},
	}
	for _, tc := range cases {
		ctx := browser(t, tc.lang)
		for _, width := range []int64{360, 1280} {
			where := fmt.Sprintf("resident-%s-%d", tc.lang, width)
			searchWithResults(t, ctx, n, tc, width, where)
			checkAccessibility(t, ctx, axe, where+" results")
			screenshot(t, ctx, where+"-results")
			searchWithout(t, ctx, n, tc, width, where)
			checkAccessibility(t, ctx, axe, where+" no results")
			screenshot(t, ctx, where+"-none")
			followSuggestions(t, ctx, tc, where)
		}
	}
}

// searchWithResults submits the form from the search page and checks the
// first screen.
func searchWithResults(t *testing.T, ctx context.Context, n *nodetest.Node, tc searchCase, width int64, where string) {
	t.Helper()
	do(t, ctx, where+" search", chromedp.EmulateViewport(width, 800), chromedp.Navigate(n.URL+"/search"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), tc.words), chromedp.Submit(chromedp.CSS("#q")), chromedp.WaitVisible(chromedp.CSS("#results")))
	waitText(t, ctx, "#results", tc.count)
	noSideScroll(t, ctx, where, width)
	// The first screen (800 px) holds the count and the whole first
	// result, and the form is folded (its fields are not shown).
	bottom := get(t, ctx, where+" first result", chromedp.Evaluate[float64](`document.querySelector(".result").getBoundingClientRect().bottom`))
	if bottom <= 0 || bottom > 800 {
		t.Errorf("%s: the first result ends at %.0f px, want within the first 800 px", where, bottom)
	}
	if open := get(t, ctx, where+" form", chromedp.Evaluate[bool](`document.querySelector("details.modify").open`)); open {
		t.Errorf("%s: the form is unfolded after a search", where)
	}
	if c := text(t, ctx, ".criteria"); !strings.Contains(c, tc.words) {
		t.Errorf("%s: the criteria read %q, want the words typed", where, c)
	}
	// "Change the search" unfolds the form, filled in.
	do(t, ctx, where+" unfold the form", chromedp.Click(chromedp.CSS("details.modify summary")), chromedp.WaitVisible(chromedp.CSS("#q")))
	if v := get(t, ctx, where+" words", chromedp.Evaluate[string](`document.getElementById("q").value`)); v != tc.words {
		t.Errorf("%s: the unfolded form holds %q, want %q", where, v, tc.words)
	}
	noSideScroll(t, ctx, where+" form", width)
	screenshot(t, ctx, where+"-form")
	do(t, ctx, where+" fold the form", chromedp.Click(chromedp.CSS("details.modify summary")))
}

// searchWithout runs a search that finds nothing nearby and one with a
// misspelled word, and checks what the page offers.
func searchWithout(t *testing.T, ctx context.Context, n *nodetest.Node, tc searchCase, width int64, where string) {
	t.Helper()
	// 1000 Bruxelles is about 2 km from the sample's place in Saint-Gilles.
	do(t, ctx, where+" search nearby", chromedp.Navigate(n.URL+"/search?q="+url.QueryEscape(tc.words)+"&postcode=1000&radius_km=2"), chromedp.WaitVisible(chromedp.CSS("#results")))
	if got := text(t, ctx, "#results"); got != tc.none {
		t.Errorf("%s: nothing found reads %q, want %q", where, got, tc.none)
	}
	links := get(t, ctx, where+" suggestions", chromedp.Evaluate[[]string](`[...document.querySelectorAll(".suggestions a")].map(a => a.textContent.trim())`))
	for _, want := range []string{tc.widen, tc.dropPlace} {
		if !contains(links, want) {
			t.Errorf("%s: suggestions %q lack %q", where, links, want)
		}
	}
	if need := attr(t, ctx, ".need a", "href"); need != "/network#needs" || text(t, ctx, ".need a") != tc.needLink {
		t.Errorf("%s: the unmet-need link is %q", where, need)
	}
	noSideScroll(t, ctx, where+" none", width)
}

// followSuggestions follows "search further" and the spelling suggestion:
// each finds the service.
func followSuggestions(t *testing.T, ctx context.Context, tc searchCase, where string) {
	t.Helper()
	do(t, ctx, where+" widen", chromedp.Click(chromedp.CSS(`.suggestions a[href*="radius_km=5"]`)))
	waitText(t, ctx, "#results", tc.count)
	if u := get(t, ctx, "read the address", chromedp.Location()); !strings.Contains(u, "radius_km=5") || !strings.Contains(u, "postcode=1000") {
		t.Errorf("%s: searching further went to %s", where, u)
	}
	do(t, ctx, where+" misspelled", chromedp.Navigate(strings.Split(get(t, ctx, "read the address", chromedp.Location()), "/search")[0]+"/search?q="+tc.typo),
		chromedp.WaitVisible(chromedp.CSS("#results")))
	if got := text(t, ctx, ".suggestions a"); got != tc.spelling {
		t.Errorf("%s: the spelling suggestion reads %q, want %q", where, got, tc.spelling)
	}
	do(t, ctx, where+" follow the spelling", chromedp.Click(chromedp.CSS(".suggestions a")))
	waitText(t, ctx, "#results", tc.count)
}

func noSideScroll(t *testing.T, ctx context.Context, where string, width int64) {
	t.Helper()
	if sw := get(t, ctx, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > float64(width) {
		t.Errorf("%s: the page is %.0f px wide at %d", where, sw, width)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
