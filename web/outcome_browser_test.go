package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// Issue 19, point 4, in the browser, in French and in Dutch: a worker at
// B closes A's referral as referred elsewhere, picks C's service to
// suggest and writes a note (shown to B only, said to stay there); the
// worker at A sees the suggested service with a button that opens a new
// referral form for it, the consent to be given again. Pages at 360 and
// 1280 px, in the reader's language only.
func TestBrowserReferredElsewhere(t *testing.T) {
	nodes := nodetest.Start(t, 3, nodetest.Options{Configure: func(c *node.Config) { c.TileURL = unreachableTiles }})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta, tb, tc := a.AdminToken(), b.AdminToken(), c.AdminToken()
	for _, call := range []struct {
		n         *nodetest.Node
		tok, body string
	}{
		{a, ta, `{"name": "Maison de quartier Midi", "translations": {"nl": {"name": "Buurthuis Zuid"}}}`},
		{b, tb, `{"name": "Centre Alpha", "translations": {"nl": {"name": "Alfacentrum"}}}`},
		{c, tc, `{"name": "École de langues Babel", "translations": {"nl": {"name": "Taalschool Babel"}}}`},
	} {
		if r := call.n.Do("PUT", "/api/v1/organization", call.tok, call.body); r.Status != 200 {
			t.Fatalf("organization: %d %s", r.Status, r.Body)
		}
	}
	for _, n := range []*nodetest.Node{a, b} {
		tok := ta
		if n == b {
			tok = tb
		}
		if r := n.Do("POST", "/api/v1/users", tok, `{"email": "worker@`+n.Name+`.test", "role": "worker", "password": "worker-password"}`); r.Status != 201 {
			t.Fatalf("worker: %d %s", r.Status, r.Body)
		}
	}
	partners(t, a, b, ta, tb)
	partners(t, b, c, tb, tc)
	partners(t, a, c, ta, tc)
	service := func(n *nodetest.Node, tok, body string) string {
		r := n.Do("POST", "/api/v1/services", tok, body)
		if r.Status != 201 {
			t.Fatalf("service: %d %s", r.Status, r.Body)
		}
		var s struct{ ID string }
		r.JSON(t, &s)
		return s.ID
	}
	atB := service(b, tb, `{"name": "Alphabétisation", "status": "active", "categories": ["lecture-ecriture-calcul--maitriser-le-francais"],
	  "translations": {"nl": {"name": "Alfabetisering"}}, "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity"]}}`)
	atC := service(c, tc, `{"name": "Cours de français langue étrangère", "status": "active", "categories": ["lecture-ecriture-calcul--maitriser-le-francais"],
	  "translations": {"nl": {"name": "Frans als vreemde taal"}}, "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`)
	suggested := c.URL + "/services/" + atC
	waitUntil(t, "A and B hold C's service, A holds B's", func() bool {
		var x, y, z struct{ Total int }
		a.Do("GET", "/api/v1/search?q=vreemde+taal", "", nil).JSON(t, &x)
		b.Do("GET", "/api/v1/search?q=vreemde+taal", "", nil).JSON(t, &y)
		a.Do("GET", "/api/v1/search?q=alfabetisering", "", nil).JSON(t, &z)
		return x.Total == 1 && y.Total == 1 && z.Total == 1
	})
	axe := axeSource(t)
	for _, run := range []struct {
		lang, rejected, name, refer string
	}{
		{"fr", "refusée", "Cours de français langue étrangère", "Orienter vers ce service"},
		{"nl", "geweigerd", "Frans als vreemde taal", "Naar deze dienst doorverwijzen"},
	} {
		handleA, _, _ := refer(t, a, ta, atB, "Personne "+run.lang)
		var atBRefs struct{ Referrals []struct{ ID, URI string } }
		handleB := ""
		waitUntil(t, "B receives the referral", func() bool {
			b.Do("GET", "/api/v1/referrals", tb, nil).JSON(t, &atBRefs)
			for _, r := range atBRefs.Referrals {
				var full referralJSON
				b.Do("GET", "/api/v1/referrals/"+r.ID, tb, nil).JSON(t, &full)
				if full.State == "received" {
					handleB = r.ID
				}
			}
			return handleB != ""
		})
		foreign := foreignFragments(t, run.lang)
		allowed := []string{"Alphabétisation", "Alfabetisering", "Cours de français langue étrangère", "Frans als vreemde taal",
			"Maison de quartier Midi", "Buurthuis Zuid", "Centre Alpha", "Alfacentrum", "École de langues Babel", "Taalschool Babel"}

		// B's worker: referred elsewhere, C's service, a note.
		wb := browser(t, run.lang)
		login(t, wb, b, "worker@"+b.Name+".test", "worker-password")
		where := run.lang + "-360"
		do(t, wb, where+": open the referral", chromedp.EmulateViewport(360, 800), chromedp.Navigate(b.URL+"/referrals/"+handleB),
			chromedp.WaitVisible(chromedp.CSS(`#state`)))
		options := get(t, wb, "the services offered", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#suggestion-rejected option")].map(o => o.value)`))
		if !strings.Contains(strings.Join(options, " "), suggested) || strings.Contains(strings.Join(options, " "), "/services/"+atB) {
			t.Errorf("%s: services offered to suggest: %v", where, options)
		}
		checkAccessibility(t, wb, axe, "referral with outcome form "+where)
		screenshot(t, wb, "outcome-recipient-form-"+where)
		do(t, wb, where+": reject, referred elsewhere",
			chromedp.SetValue(chromedp.CSS(`#reason-rejected`), "referred-elsewhere"),
			chromedp.SetValue(chromedp.CSS(`#suggestion-rejected`), suggested),
			chromedp.SendKeys(chromedp.CSS(`#note-rejected`), noteText),
			chromedp.Click(chromedp.CSS(`button[data-to="rejected"]`)))
		waitText(t, wb, "#state", run.rejected)
		page := get(t, wb, "B's page", chromedp.Text(chromedp.CSS("main")))
		if !strings.Contains(page, noteText) || !strings.Contains(page, run.name) {
			t.Errorf("%s: B's page does not show its note and the suggestion: %q", where, page)
		}
		for _, width := range []int64{360, 1280} {
			w := fmt.Sprintf("%s-%d", run.lang, width)
			do(t, wb, w+": B's page", chromedp.EmulateViewport(width, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#suggested")))
			checkLanguage(t, wb, run.lang, "B's referral "+w, foreign, append(allowed, noteText)...)
			screenshot(t, wb, "outcome-recipient-done-"+w)
		}

		// A's worker: the suggestion, never the note, and a new referral.
		wa := browser(t, run.lang)
		login(t, wa, a, "worker@"+a.Name+".test", "worker-password")
		for _, width := range []int64{360, 1280} {
			w := fmt.Sprintf("%s-%d", run.lang, width)
			waitUntil(t, "A hears of the rejection", func() bool {
				do(t, wa, w+": A's page", chromedp.EmulateViewport(width, 800), chromedp.Navigate(a.URL+"/referrals/"+handleA), chromedp.WaitVisible(chromedp.CSS("#state")))
				return text(t, wa, "#state") == run.rejected
			})
			if got := text(t, wa, "#suggested-name"); got != run.name {
				t.Errorf("%s: suggested service %q, want %q", w, got, run.name)
			}
			if page := get(t, wa, "A's page", chromedp.Text(chromedp.CSS("main"))); strings.Contains(page, noteText) {
				t.Errorf("%s: B's note shows at A", w)
			}
			checkLanguage(t, wa, run.lang, "A's referral "+w, foreign, allowed...)
			checkAccessibility(t, wa, axe, "referral with suggestion "+w)
			screenshot(t, wa, "outcome-sender-suggestion-"+w)
		}
		if got := text(t, wa, "#refer-suggested"); got != run.refer {
			t.Errorf("the button reads %q, want %q", got, run.refer)
		}
		do(t, wa, "refer to the suggested service", chromedp.Click(chromedp.CSS("#refer-suggested")), chromedp.WaitVisible(chromedp.CSS("form.refer")))
		form := get(t, wa, "the new form", chromedp.Text(chromedp.CSS("main")))
		if !strings.Contains(form, run.name) || strings.Contains(form, "Personne "+run.lang) {
			t.Errorf("the new referral form: %q", form)
		}
		if v := attr(t, wa, `form.refer [name=service]`, "value"); v != suggested {
			t.Errorf("the new form refers to %q", v)
		}
		if checked := get(t, wa, "agreement", chromedp.Evaluate[bool](`document.querySelector("[name=agreed]").checked`)); checked {
			t.Error("the new form's consent is given in advance")
		}
		screenshot(t, wa, "outcome-sender-new-referral-"+run.lang)
	}
}
