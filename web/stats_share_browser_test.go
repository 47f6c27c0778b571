package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Issue 20, part 1, in the browser: B's admin reads the network's figures
// in French and Dutch, at phone and desktop width: A by its name (never
// its address), the totals, the sharing form with what is shared; the
// page speaks its language, passes axe-core and is no wider than the
// screen. Screenshots in artifacts/screenshots.
func TestBrowserStatsNetwork(t *testing.T) {
	a, b, _, _, tb, _ := sharingNodes(t)
	if err := a.Node().Fed.ShareStats(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "B shows A's figures", func() bool { return len(networkOf(t, b, tb).Associations) == 2 })
	axe := axeSource(t)
	words := map[string][]string{
		"fr": {"Réseau", "Association " + a.Name, "Total du réseau", "Partager nos chiffres avec nos partenaires"},
		"nl": {"Netwerk", "Association " + a.Name, "Totaal van het netwerk", "Onze cijfers delen met onze partners"},
	}
	for _, lang := range []string{"fr", "nl"} {
		foreign := foreignFragments(t, lang)
		for _, width := range []int64{360, 1280} {
			where := fmt.Sprintf("stats-network-%s-%d", lang, width)
			ctx := browser(t, lang)
			do(t, ctx, "size "+where, chromedp.EmulateViewport(width, 900))
			login(t, ctx, b, b.AdminEmail, b.AdminPassword)
			do(t, ctx, "open the statistics", chromedp.Navigate(b.URL+"/admin/stats#network"), chromedp.WaitVisible(chromedp.CSS("#network-associations")))
			net := text(t, ctx, "#network")
			for _, w := range words[lang] {
				if !strings.Contains(net, w) {
					t.Errorf("%s: the network section lacks %q: %q", where, w, net)
				}
			}
			if row := text(t, ctx, "#network-associations tbody tr:nth-child(2)"); !strings.Contains(row, "Association "+a.Name) || !strings.Contains(row, "7") {
				t.Errorf("%s: A's row %q", where, row)
			}
			if strings.Contains(net, a.Addr) || strings.Contains(net, "/actor") {
				t.Errorf("%s: the network section shows an address: %q", where, net)
			}
			checkLanguage(t, ctx, lang, where, foreign, "Association "+a.Name, "Association "+b.Name, "Alphabétisation")
			checkAccessibility(t, ctx, axe, where)
			if wide := get(t, ctx, "width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wide {
				t.Errorf("%s: the page is wider than the screen", where)
			}
			do(t, ctx, "scroll to the network", chromedp.ScrollIntoView(chromedp.CSS("#network")))
			screenshot(t, ctx, where)
		}
	}
}
