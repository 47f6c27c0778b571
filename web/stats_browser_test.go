package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Issue 20, part 1, in the browser: the admin opens the statistics from
// the admin home, in French and Dutch, at phone and desktop width. The
// page speaks its language (no developer text, no actor address: the
// partner by its name), draws the month chart as SVG, shows the hidden
// figures with the legend, passes axe-core, is no wider than the screen;
// the print view has no form. Screenshots in artifacts/screenshots.
func TestBrowserStatsPage(t *testing.T) {
	a, b, _, _ := statsNodes(t)
	axe := axeSource(t)
	titles := map[string]string{"fr": "Statistiques des orientations", "nl": "Statistieken van de doorverwijzingen"}
	partnerHead := map[string]string{"fr": "Orientations par partenaire", "nl": "Doorverwijzingen per partner"}
	for _, lang := range []string{"fr", "nl"} {
		foreign := foreignFragments(t, lang)
		for _, width := range []int64{360, 1280} {
			where := fmt.Sprintf("stats-%s-%d", lang, width)
			ctx := browser(t, lang)
			do(t, ctx, "size "+where, chromedp.EmulateViewport(width, 900))
			login(t, ctx, a, a.AdminEmail, a.AdminPassword)
			do(t, ctx, "open the admin home", chromedp.Navigate(a.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/stats"]`)))
			do(t, ctx, "open the statistics", chromedp.Click(chromedp.CSS(`a[href="/admin/stats"]`)), chromedp.WaitVisible(chromedp.CSS("#by-partner")))
			if h := text(t, ctx, "h1"); h != titles[lang] {
				t.Errorf("%s: title %q", where, h)
			}
			if h := text(t, ctx, "#by-partner h2"); h != partnerHead[lang] {
				t.Errorf("%s: partner table %q", where, h)
			}
			if row := text(t, ctx, "#by-partner tbody tr"); !strings.Contains(row, "Association "+b.Name) || !strings.Contains(row, "7") {
				t.Errorf("%s: partner row %q", where, row)
			}
			if cell := text(t, ctx, "#by-state tbody tr:first-child td"); cell != "< 5*" {
				t.Errorf("%s: the 5 accepted (hidden to protect the 2 rejected) show %q", where, cell)
			}
			if n := get(t, ctx, "bars", chromedp.Evaluate[int](`document.querySelectorAll("#chart-months svg rect").length`)); n != 1 {
				t.Errorf("%s: %d bars in the month chart, want 1 (this month's 7)", where, n)
			}
			if !strings.Contains(text(t, ctx, "#stats-legend"), "< 5*") {
				t.Errorf("%s: no legend", where)
			}
			checkLanguage(t, ctx, lang, where, foreign, "Association "+b.Name, "Alphabétisation")
			checkAccessibility(t, ctx, axe, where)
			if wide := get(t, ctx, "width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wide {
				t.Errorf("%s: the page is wider than the screen", where)
			}
			screenshot(t, ctx, where)
			if width == 1280 {
				do(t, ctx, "print view", chromedp.Navigate(a.URL+"/admin/stats?print=1"), chromedp.WaitVisible(chromedp.CSS("#by-partner")))
				if n := get(t, ctx, "forms", chromedp.Evaluate[int](`document.querySelectorAll("main form").length`)); n != 0 {
					t.Errorf("%s: the print view has a form", where)
				}
				screenshot(t, ctx, where+"-print")
			}
		}
	}
}
