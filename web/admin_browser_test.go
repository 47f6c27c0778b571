package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// adminCase is one pass of the admin's journey: a language and a width.
type adminCase struct {
	lang  string
	width int64
	// end, when set, is the partner this pass ends the partnership with,
	// and endText what the page says then.
	end     *nodetest.Node
	endText string
}

// The admin's journey, in French and Dutch at phone and desktop width: a
// failed login keeps the e-mail; the header says who is logged in; a
// service with a closing day is saved in one step and its public page
// says the service is closed that day; a partnership is ended through a
// page that says what ending does, and the partner shows as ended; the
// partner's name is in the page's language; the network page labels the
// heat map's rows; the icon answers. Every page passes axe-core and is
// no wider than the screen.
func TestBrowserAdminJourney(t *testing.T) {
	nodes := nodetest.Start(t, 3, nodetest.Options{Configure: func(c *node.Config) { c.TileURL = unreachableTiles }})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta := a.AdminToken()
	if r := b.Do("PUT", "/api/v1/organization", b.AdminToken(), `{"name": "Épicerie sociale Le Panier",
	  "translations": {"nl": {"name": "Sociale kruidenier De Mand"}}}`); r.Status != 200 {
		t.Fatalf("B's organization: %d %s", r.Status, r.Body)
	}
	foodIn1060(t, a, ta)
	for _, p := range []*nodetest.Node{b, c} {
		partnerNodes(t, a, p, ta, p.AdminToken())
	}
	axe := axeSource(t)
	cases := []adminCase{{"fr", 360, b, "Le partenariat avec Épicerie sociale Le Panier a pris fin."}, {"fr", 1280, nil, ""},
		{"nl", 360, nil, ""}, {"nl", 1280, c, "Het partnerschap met Association " + c.Name + " is stopgezet."}}
	for i, tc := range cases {
		ctx := browser(t, tc.lang)
		where := fmt.Sprintf("%s-%d", tc.lang, tc.width)
		do(t, ctx, "size "+where, chromedp.EmulateViewport(tc.width, 800))
		failedLogin(t, ctx, a, axe, where)
		loggedInHeader(t, ctx, a, axe, where)
		closingDay(t, ctx, a, axe, where, time.Now().AddDate(0, 0, 3+i))
		partnerNames(t, ctx, a, axe, where)
		endPartnership(t, ctx, a, axe, where, tc)
		heatMapLabels(t, ctx, a, axe, where)
	}
	favicon(t, a)
}

// foodIn1060 gives n a food service in Saint-Gilles (1060) only: on
// the network page, food aid is a gap in the postcodes next to 1060, not
// everywhere.
func foodIn1060(t *testing.T, n *nodetest.Node, tok string) {
	t.Helper()
	loc := n.Do("POST", "/api/v1/locations", tok, `{"name": "Accueil", "latitude": 50.8291, "longitude": 4.3449,
	  "addresses": [{"address_1": "Rue de la Victoire 96", "city": "Saint-Gilles", "postal_code": "1060", "country": "BE"}]}`)
	if loc.Status != 201 {
		t.Fatalf("location: %d %s", loc.Status, loc.Body)
	}
	var l struct{ ID string }
	loc.JSON(t, &l)
	if r := n.Do("POST", "/api/v1/services", tok, `{"name": "Colis alimentaires", "status": "active", "categories": ["equipement-et-alimentation--alimentation"],
	  "service_at_locations": [{"location_id": "`+l.ID+`"}]}`); r.Status != 201 {
		t.Fatalf("service: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "the food service in the coverage", func() bool {
		var cov struct{ Cells []struct{ Area string } }
		n.Do("GET", "/api/v1/network/overlaps", "", nil).JSON(t, &cov)
		return len(cov.Cells) > 0
	})
}

// partnerNodes makes a and b partners: a asks, b's admin accepts.
func partnerNodes(t *testing.T, a, b *nodetest.Node, ta, tb string) {
	t.Helper()
	if r := a.Do("POST", "/api/v1/partners", ta, map[string]string{"actor": "@" + b.Name + "@" + b.Addr}); r.Status != 202 {
		t.Fatalf("partner request: %d %s", r.Status, r.Body)
	}
	var rels struct {
		Partners []struct{ ID, Actor, State string }
	}
	waitUntil(t, b.Name+" sees the request", func() bool {
		b.Do("GET", "/api/v1/partners", tb, nil).JSON(t, &rels)
		return len(rels.Partners) == 1 && rels.Partners[0].State == "pending"
	})
	if r := b.Do("POST", "/api/v1/partners/"+rels.Partners[0].ID+"/accept", tb, nil); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	waitUntil(t, a.Name+" partners with "+b.Name, func() bool {
		a.Do("GET", "/api/v1/partners", ta, nil).JSON(t, &rels)
		for _, r := range rels.Partners {
			if r.Actor == b.URL+"/actor" {
				return r.State == "partner"
			}
		}
		return false
	})
}

// checkPage checks the current page: axe clean, no wider than the
// screen, and saves a screenshot.
func checkPage(t *testing.T, ctx context.Context, axe, where string) {
	t.Helper()
	checkAccessibility(t, ctx, axe, where)
	width := get(t, ctx, where+" viewport", chromedp.Evaluate[float64](`window.innerWidth`))
	if sw := get(t, ctx, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > width {
		wide := get(t, ctx, "wide elements", chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id)`))
		t.Errorf("%s: the page is %.0f px wide on a %.0f px screen: %v", where, sw, width, wide)
	}
	screenshot(t, ctx, where)
}

var journeyWords = map[string]map[string]string{
	"fr": {"closed": "Fermé le", "role": "administrateur", "ended": "partenariat terminé", "name": "Épicerie sociale Le Panier", "empty": "cochez « fermé »"},
	"nl": {"closed": "Gesloten op", "role": "beheerder", "ended": "partnerschap stopgezet", "name": "Sociale kruidenier De Mand", "empty": "vink „gesloten” aan"},
}

// failedLogin: a wrong password is refused with the e-mail still typed.
func failedLogin(t *testing.T, ctx context.Context, n *nodetest.Node, axe, where string) {
	t.Helper()
	do(t, ctx, "wrong password", chromedp.Navigate(n.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), n.AdminEmail), chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("#login-problem")))
	if got := attr(t, ctx, "#email", "value"); got != n.AdminEmail {
		t.Errorf("%s: after a failed login the e-mail field holds %q, want %q", where, got, n.AdminEmail)
	}
	if got := attr(t, ctx, "#password", "value"); got != "" {
		t.Errorf("%s: the password came back in the page", where)
	}
	checkPage(t, ctx, axe, "login-failed-"+where)
	do(t, ctx, "log in", chromedp.SendKeys(chromedp.CSS("#password"), n.AdminPassword), chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/admin"]`)))
}

// loggedInHeader: the header names the account and its role.
func loggedInHeader(t *testing.T, ctx context.Context, n *nodetest.Node, axe, where string) {
	t.Helper()
	do(t, ctx, "admin home", chromedp.Navigate(n.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS("header .who")))
	who := text(t, ctx, "header .who")
	if !strings.Contains(who, n.AdminEmail) || !strings.Contains(who, journeyWords[lang(where)]["role"]) {
		t.Errorf("%s: the header says %q, want the e-mail %s and the role", where, who, n.AdminEmail)
	}
}

func lang(where string) string { return where[:2] }

// closingDay: a service with a closing day typed in an empty exception
// row, saved in one step; its public page says it is closed that day. A
// row with a date and nothing else is refused, with what to do.
func closingDay(t *testing.T, ctx context.Context, n *nodetest.Node, axe, where string, day time.Time) {
	t.Helper()
	date := day.Format(time.DateOnly)
	name := "Permanence juridique " + where
	fill := func(closed bool) chromedp.Action[chromedp.Void] {
		return js(fmt.Sprintf(`(() => {
			document.querySelector('input[name=category][value="logement-hebergement"]').checked = true;
			const days = document.querySelectorAll('select[name=slot_day]');
			days[0].value = "1";
			document.querySelectorAll('input[name=slot_opens]')[0].value = "09:00";
			document.querySelectorAll('input[name=slot_closes]')[0].value = "12:00";
			const row = document.querySelectorAll('input[name=exc_date]')[0].closest('tr');
			row.querySelector('input[name=exc_date]').value = %q;
			row.querySelector('input[name=exc_closed]').checked = %t;
			document.querySelector('input[name=accepts]').checked = true;
			document.querySelector('#from').value = "network";
		})()`, date, closed))
	}
	// In one step: the date typed in an empty row, "closed" ticked.
	do(t, ctx, "a closing day", chromedp.Navigate(n.URL+"/admin/services/new"), chromedp.WaitVisible(chromedp.CSS("form.editor")),
		chromedp.SendKeys(chromedp.CSS("#name_fr"), name), fill(true),
		chromedp.Submit(chromedp.CSS("#name_fr")))
	// The similar services warning may come first: save anyway.
	var next string
	waitUntil(t, "the form's answer", func() bool {
		next = get(t, ctx, "answer", chromedp.Evaluate[string](`document.querySelector(".saved a") ? "saved" : document.querySelector("#save-anyway") ? "similar" : document.querySelector(".error") ? "error" : ""`))
		return next != ""
	})
	if next == "similar" {
		do(t, ctx, "save anyway", chromedp.Click(chromedp.CSS("#save-anyway")))
	}
	if len(get(t, ctx, "error", chromedp.Nodes(chromedp.CSS(".error"), chromedp.AtLeast(0)))) > 0 {
		t.Fatalf("%s: not saved: %s", where, text(t, ctx, ".error"))
	}
	do(t, ctx, "saved", chromedp.WaitVisible(chromedp.CSS(".saved a")))
	// Referrals from every association of the network: a choice the
	// catalogue takes, kept as chosen.
	if from := get(t, ctx, "from", chromedp.Evaluate[string](`document.querySelector("#from").value`)); from != "network" {
		t.Errorf("%s: referrals from %q after saving, want the whole network", where, from)
	}
	do(t, ctx, "public page", chromedp.Click(chromedp.CSS(".saved a")), chromedp.WaitVisible(chromedp.CSS("ul.exceptions")))
	got := text(t, ctx, "ul.exceptions")
	if !strings.HasPrefix(got, journeyWords[lang(where)]["closed"]) || strings.HasSuffix(strings.TrimSpace(got), ":") {
		t.Errorf("%s: the public page's exceptions read %q, want %q and the date", where, got, journeyWords[lang(where)]["closed"])
	}
	checkPage(t, ctx, axe, "service-closing-day-"+where)
	// A date with neither "closed" nor hours is refused, with what to do,
	// and the date stays typed.
	do(t, ctx, "a date alone", chromedp.Navigate(n.URL+"/admin/services/new"), chromedp.WaitVisible(chromedp.CSS("form.editor")),
		chromedp.SendKeys(chromedp.CSS("#name_fr"), name+" bis"), fill(false),
		chromedp.Submit(chromedp.CSS("#name_fr")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if e := text(t, ctx, ".error"); !strings.Contains(e, journeyWords[lang(where)]["empty"]) {
		t.Errorf("%s: a date with neither closed nor hours reads %q", where, e)
	}
	if got := attr(t, ctx, `input[name=exc_date]`, "value"); got != date {
		t.Errorf("%s: after the refusal the date field holds %q, want %q", where, got, date)
	}
	checkPage(t, ctx, axe, "service-exception-refused-"+where)
}

// partnerNames: the partners page shows B by its name in the page's
// language.
func partnerNames(t *testing.T, ctx context.Context, n *nodetest.Node, axe, where string) {
	t.Helper()
	do(t, ctx, "partners", chromedp.Navigate(n.URL+"/admin/partners"), chromedp.WaitVisible(chromedp.CSS("table")))
	if got := text(t, ctx, "table"); !strings.Contains(got, journeyWords[lang(where)]["name"]) {
		t.Errorf("%s: the partners table reads %q, want B named %q", where, got, journeyWords[lang(where)]["name"])
	}
	checkPage(t, ctx, axe, "partners-names-"+where)
}

// endPartnership: "end" leads to a page that says what ending does;
// cancelling keeps the partner; confirming ends it and the partner shows
// as ended.
func endPartnership(t *testing.T, ctx context.Context, n *nodetest.Node, axe, where string, tc adminCase) {
	t.Helper()
	end := tc.end
	do(t, ctx, "partners", chromedp.Navigate(n.URL+"/admin/partners"), chromedp.WaitVisible(chromedp.CSS("a.danger")))
	if end != nil {
		// The row of the partner to end, found by its address.
		do(t, ctx, "end "+end.Name, js(fmt.Sprintf(`[...document.querySelectorAll("tbody tr")].find(r => r.textContent.includes(%q)).querySelector("a.danger").click()`, end.Addr)),
			chromedp.WaitVisible(chromedp.CSS("#end-confirm")))
	} else {
		do(t, ctx, "end", chromedp.Click(chromedp.CSS("a.danger")), chromedp.WaitVisible(chromedp.CSS("#end-confirm")))
	}
	page := text(t, ctx, "main")
	for _, want := range map[string][]string{"fr": {"7 jours", "continuent"}, "nl": {"7 dagen", "lopen gewoon door"}}[lang(where)] {
		if !strings.Contains(page, want) {
			t.Errorf("%s: the confirmation page does not say %q: %q", where, want, page)
		}
	}
	if bg := get(t, ctx, "button colour", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#end-confirm")).backgroundColor`)); bg != "rgb(160, 0, 0)" {
		t.Errorf("%s: the confirm button is %s, want the destructive red", where, bg)
	}
	checkPage(t, ctx, axe, "partner-end-confirm-"+where)
	if end == nil {
		do(t, ctx, "cancel", chromedp.Click(chromedp.CSS("#end-cancel")), chromedp.WaitVisible(chromedp.CSS("table")))
		return
	}
	do(t, ctx, "confirm", chromedp.Click(chromedp.CSS("#end-confirm")), chromedp.WaitVisible(chromedp.CSS("#partner-ended")))
	if got := text(t, ctx, "#partner-ended"); got != tc.endText {
		t.Errorf("%s: the partners page says %q after ending", where, got)
	}
	if got := text(t, ctx, "table"); !strings.Contains(got, journeyWords[lang(where)]["ended"]) {
		t.Errorf("%s: after ending, the partners table reads %q", where, got)
	}
	checkPage(t, ctx, axe, "partner-ended-"+where)
}

// heatMapLabels: every row of the heat map is labelled with its theme.
func heatMapLabels(t *testing.T, ctx context.Context, n *nodetest.Node, axe, where string) {
	t.Helper()
	do(t, ctx, "network", chromedp.Navigate(n.URL+"/network"), chromedp.WaitVisible(chromedp.CSS("figure.chart svg")))
	labels := get(t, ctx, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll("figure.chart text.theme-label title")].map(e => e.textContent)`))
	rows := get(t, ctx, "rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.coverage tbody th")].map(e => e.textContent)`))
	if len(labels) == 0 || strings.Join(labels, "|") != strings.Join(rows, "|") {
		t.Errorf("%s: the heat map's row labels %q, want the table's themes %q", where, labels, rows)
	}
	if housing := themeLabel(t, n, "logement-hebergement", lang(where)); !slices.Contains(labels, housing) {
		t.Errorf("%s: no row labelled %q in %q", where, housing, labels)
	}
	// Food aid is offered in 1060 only: its gaps are the postcodes next
	// to it, not Haren across the region; it is not among the themes
	// nobody offers.
	food := themeLabel(t, n, "equipement-et-alimentation", lang(where))
	near := text(t, ctx, "#gaps-near")
	if !strings.Contains(near, food) || !strings.Contains(near, "1000") || !strings.Contains(near, "(1060)") || strings.Contains(near, "1130") {
		t.Errorf("%s: the gaps near an offer read %q, want %s missing in 1000 next to 1060, and not in 1130", where, near, food)
	}
	if none := text(t, ctx, "#gaps-no-one + ul"); strings.Contains(none, food) || !strings.Contains(none, themeLabel(t, n, "logement-hebergement", lang(where))) {
		t.Errorf("%s: the themes nobody offers read %q", where, none)
	}
	if page := text(t, ctx, "main"); strings.Contains(page, "nœud") || strings.Contains(page, "knooppunt") {
		t.Errorf("%s: the network page speaks of nodes", where)
	}
	checkPage(t, ctx, axe, "network-heatmap-"+where)
}

// themeLabel is a theme's label in lang, as the node's taxonomy has it.
func themeLabel(t *testing.T, n *nodetest.Node, code, lang string) string {
	t.Helper()
	var tax struct {
		Categories []struct {
			Code   string
			Labels map[string]string
		}
	}
	n.Do("GET", "/api/v1/taxonomy", "", nil).JSON(t, &tax)
	for _, c := range tax.Categories {
		if c.Code == code && c.Labels[lang] != "" {
			return c.Labels[lang]
		}
	}
	t.Fatalf("no theme %s in %s", code, lang)
	return ""
}

// favicon: the icon the pages link, and /favicon.ico, answer.
func favicon(t *testing.T, n *nodetest.Node) {
	t.Helper()
	for path, ctype := range map[string]string{"/favicon.ico": "image/x-icon", "/static/favicon.svg": "image/svg+xml"} {
		resp, err := http.Get(n.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype {
			t.Errorf("GET %s: %d %s, want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), ctype)
		}
	}
	resp, err := http.Get(n.URL + "/about")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{`<link rel="icon" href="/static/favicon.svg"`, `<link rel="icon" href="/favicon.ico"`} {
		if !strings.Contains(b.String(), link) {
			t.Errorf("a page does not link its icon: no %s", link)
		}
	}
}
