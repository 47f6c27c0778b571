package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// capacityWords are what the pages say, in each language.
var capacityWords = map[string]map[string]string{
	"fr": {"below zero": "Places libres : écrivez un nombre entier entre 0 et 100 000.", "places": "Places libres : %d sur 12",
		"age": "mis à jour à l’instant", "order": "Fin de la période (ligne 1) : la période finit avant de commencer",
		"closed": "Fermé du 21 au 31 décembre", "message": "Fermé pour les fêtes", "until": "Fermé jusqu’au 31 décembre",
		"reviewed": "Vérifié le 21 décembre 2026", "thanks": "Merci : le service est marqué comme vérifié aujourd’hui."},
	"nl": {"below zero": "Vrije plaatsen: schrijf een geheel getal tussen 0 en 100.000.", "places": "Vrije plaatsen: %d van de 12",
		"age": "zonet bijgewerkt", "order": "Einde van de periode (regel 1): de periode eindigt voor ze begint",
		"closed": "Gesloten van 21 tot en met 31 december", "message": "Gesloten tijdens de feestdagen", "until": "Gesloten tot en met 31 december",
		"reviewed": "Nagekeken op 21 december 2026", "thanks": "Bedankt: de dienst is vandaag als nagekeken gemarkeerd."},
}

// In French and Dutch, on a phone and a desktop: a worker of B sets the
// shelter's places from its page in one click (a number below zero is
// refused in the page's language, the number typed kept); B's admin
// closes it for the holidays in the service editor (a period ending
// before it starts is refused in the admin's language, everything typed
// kept, then saved), removing the closure set before, and says it is
// still correct; A's page of the partner's shelter shows the places,
// the closure and its message, and when it was checked. Every page
// passes axe-core, is no wider than the screen, speaks its language.
func TestBrowserCapacityAndClosure(t *testing.T) {
	start := time.Date(2026, 12, 21, 9, 30, 0, 0, time.UTC)
	nodes, id, uri := coordNodes(t, start, 2)
	a, b := nodes[0], nodes[1]
	worker(t, b)
	axe := axeSource(t)
	for i, tc := range []struct {
		lang  string
		width int64
	}{{"fr", 360}, {"fr", 1280}, {"nl", 360}, {"nl", 1280}} {
		words := capacityWords[tc.lang]
		where := fmt.Sprintf("%s-%d", tc.lang, tc.width)
		foreign := foreignFragments(t, tc.lang)
		ctx := browser(t, tc.lang)
		do(t, ctx, "size "+where, chromedp.EmulateViewport(tc.width, 800))

		// The worker's one click, after a refusal.
		loginAs(t, ctx, b, "travailleuse@"+b.Name+".test", "worker-password-1")
		do(t, ctx, "the shelter's page", chromedp.Navigate(b.URL+"/services/"+id), chromedp.WaitVisible(chromedp.CSS("#cap-available")))
		before := text(t, ctx, "#capacity-now")
		do(t, ctx, "places below zero", js(`document.querySelector("#cap-available").value = "-1"`), chromedp.Click(chromedp.CSS("#capacity-save")),
			chromedp.WaitVisible(chromedp.CSS("#capacity-problems")))
		if after := text(t, ctx, "#capacity-now"); after != before {
			t.Errorf("%s: a refused capacity changed the page's places from %q to %q", where, before, after)
		}
		if got := text(t, ctx, "#capacity-problems"); !strings.Contains(got, words["below zero"]) {
			t.Errorf("%s: a number below zero reads %q, want %q", where, got, words["below zero"])
		}
		if got := attr(t, ctx, "#cap-available", "value"); got != "-1" {
			t.Errorf("%s: after the refusal the field holds %q, want what was typed", where, got)
		}
		checkLanguage(t, ctx, tc.lang, where+" capacity refused", foreign, "Abri de nuit", "Nachtopvang")
		checkPage(t, ctx, axe, "capacity-refused-"+where)
		places := 2 + i
		do(t, ctx, "places", js(fmt.Sprintf(`document.querySelector("#cap-available").value = "%d"; document.querySelector("#cap-maximum").value = "12"`, places)),
			chromedp.Click(chromedp.CSS("#capacity-save")), chromedp.WaitVisible(chromedp.CSS("#capacity-saved")))
		if got, want := text(t, ctx, "#capacity-now"), fmt.Sprintf(words["places"], places); !strings.Contains(got, want) || !strings.Contains(got, words["age"]) {
			t.Errorf("%s: the service's places read %q, want %q, %q", where, got, want, words["age"])
		}
		checkLanguage(t, ctx, tc.lang, where+" capacity set", foreign, "Abri de nuit", "Nachtopvang")
		checkPage(t, ctx, axe, "capacity-set-"+where)

		// The admin's closure, after a refusal; the closure set by the
		// case before is removed.
		loginAs(t, ctx, b, b.AdminEmail, b.AdminPassword)
		fill := func(from, to string) chromedp.Action[chromedp.Void] {
			return js(fmt.Sprintf(`(() => {
				document.querySelectorAll("input[name=per_remove]").forEach(box => box.checked = true);
				const blocks = document.querySelectorAll("fieldset.period");
				const f = blocks[blocks.length - 1];
				f.querySelector("input[name=per_from]").value = %q;
				f.querySelector("input[name=per_to]").value = %q;
				f.querySelector("input[name=per_closed]").checked = true;
				f.querySelector("input[name=per_msg_fr]").value = "Fermé pour les fêtes";
				f.querySelector("input[name=per_msg_nl]").value = "Gesloten tijdens de feestdagen";
			})()`, from, to))
		}
		do(t, ctx, "a closure ending before it starts", chromedp.Navigate(b.URL+"/admin/services/"+id), chromedp.WaitVisible(chromedp.CSS("form.editor")),
			fill("2026-12-31", "2026-12-21"), chromedp.Submit(chromedp.CSS("#name_fr")), chromedp.WaitVisible(chromedp.CSS(".error")))
		if got := text(t, ctx, ".error"); !strings.Contains(got, words["order"]) {
			t.Errorf("%s: the closure ending before it starts reads %q, want %q", where, got, words["order"])
		}
		if from, msg := attr(t, ctx, "#per-from-0", "value"), attr(t, ctx, "#per-msg-nl-0", "value"); from != "2026-12-31" || msg != "Gesloten tijdens de feestdagen" {
			t.Errorf("%s: after the refusal the period holds %q, %q, want what was typed", where, from, msg)
		}
		if n := periodBlocks(t, ctx); n != 2 {
			t.Errorf("%s: %d period blocks after the refusal, want the one typed and an empty one", where, n)
		}
		checkLanguage(t, ctx, tc.lang, where+" closure refused", foreign, "Abri de nuit", "Nachtopvang", "Fermé pour les fêtes", "Gesloten tijdens de feestdagen",
			"Un lit pour la nuit.", "Een bed voor de nacht.")
		checkPage(t, ctx, axe, "closure-refused-"+where)
		// The refusal's message goes first, so that the old page
		// cannot be read as the answer.
		do(t, ctx, "the closure", js(`document.querySelectorAll(".error").forEach(e => e.remove()); document.querySelector("#per-from-0").value = "2026-12-21"; document.querySelector("#per-to-0").value = "2026-12-31"`),
			chromedp.Submit(chromedp.CSS("#name_fr")))
		var next string
		waitUntil(t, "the editor's answer", func() bool {
			// The answer is read once its page is whole: the message
			// at its top is parsed before the period blocks below it.
			next = get(t, ctx, "answer", chromedp.Evaluate[string](`document.readyState !== "complete" ? "" : document.querySelector(".saved") ? "saved" : document.querySelector("#save-anyway") ? "similar" : document.querySelector(".error") ? "error" : ""`))
			return next != ""
		})
		if next == "similar" {
			do(t, ctx, "save anyway", chromedp.Click(chromedp.CSS("#save-anyway")), chromedp.WaitVisible(chromedp.CSS(".saved")))
		} else if next == "error" {
			t.Fatalf("%s: the closure was not saved: %s", where, text(t, ctx, ".error"))
		}
		if n := periodBlocks(t, ctx); n != 2 {
			t.Errorf("%s: %d period blocks once saved, want the closure and an empty one (the closure before removed)", where, n)
		}
		checkPage(t, ctx, axe, "closure-saved-"+where)

		// "Still correct", from the service's page.
		do(t, ctx, "still correct", chromedp.Navigate(b.URL+"/services/"+id), chromedp.WaitVisible(chromedp.CSS("#still-correct")),
			chromedp.Click(chromedp.CSS("#still-correct")), chromedp.WaitVisible(chromedp.CSS("#reviewed-saved")))
		if got := text(t, ctx, "#reviewed-saved"); got != words["thanks"] {
			t.Errorf("%s: after still correct the page says %q", where, got)
		}
		if got := text(t, ctx, "#freshness"); got != words["reviewed"] {
			t.Errorf("%s: the page says %q, want %q", where, got, words["reviewed"])
		}
		checkLanguage(t, ctx, tc.lang, where+" service page", foreign, "Abri de nuit", "Nachtopvang", "Fermé pour les fêtes", "Gesloten tijdens de feestdagen",
			"Un lit pour la nuit.", "Een bed voor de nacht.")
		checkPage(t, ctx, axe, "service-capacity-closure-"+where)

		// The partner's page at A shows both, and when it was checked.
		partnerPage := a.URL + "/service?uri=" + url.QueryEscape(uri)
		want := []string{fmt.Sprintf(words["places"], places), words["closed"], words["message"], words["until"], words["reviewed"]}
		waitUntil(t, "A's page shows B's places and closure", func() bool {
			do(t, ctx, "A's page", chromedp.Navigate(partnerPage), chromedp.WaitVisible(chromedp.CSS("h1")))
			body := get(t, ctx, "A's page text", chromedp.Evaluate[string](`document.body.innerText`))
			for _, w := range want {
				if !strings.Contains(body, w) {
					return false
				}
			}
			return true
		})
		if n := get(t, ctx, "forms", chromedp.Evaluate[float64](`document.querySelectorAll("form[action$='/capacity']").length`)); n != 0 {
			t.Errorf("%s: A's page of B's service offers %.0f capacity forms", where, n)
		}
		checkLanguage(t, ctx, tc.lang, where+" partner page", foreign, "Abri de nuit", "Nachtopvang", "Fermé pour les fêtes", "Gesloten tijdens de feestdagen",
			"Un lit pour la nuit.", "Een bed voor de nacht.", "Association "+b.Name)
		checkPage(t, ctx, axe, "partner-capacity-closure-"+where)
		do(t, ctx, "A's results with places", chromedp.Navigate(a.URL+"/search?q=abri&places=1"), chromedp.WaitVisible(chromedp.CSS(".result")))
		if got := text(t, ctx, ".result"); !strings.Contains(got, fmt.Sprintf(words["places"], places)) || !strings.Contains(got, words["until"]) {
			t.Errorf("%s: A's result reads %q", where, got)
		}
		checkLanguage(t, ctx, tc.lang, where+" results", foreign, "Abri de nuit", "Nachtopvang", "Association "+b.Name)
		checkPage(t, ctx, axe, "partner-results-places-"+where)
	}
}

// periodBlocks counts the period blocks of the service editor.
func periodBlocks(t *testing.T, ctx context.Context) int {
	t.Helper()
	return int(get(t, ctx, "period blocks", chromedp.Evaluate[float64](`document.querySelectorAll("fieldset.period").length`)))
}

// loginAs signs in through the login page, whoever was signed in, and
// waits until the header names the new account.
func loginAs(t *testing.T, ctx context.Context, n *nodetest.Node, email, password string) {
	t.Helper()
	do(t, ctx, "log in as "+email, chromedp.Navigate(n.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		js(`document.querySelector("#email").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#password")))
	waitUntil(t, email+" signed in", func() bool {
		who := get(t, ctx, "who", chromedp.Evaluate[string](`location.pathname === "/login" ? "" : (document.querySelector("header .who") || {}).textContent || ""`))
		return strings.Contains(who, email)
	})
}

// In French and Dutch on a phone: a worker of B says the shelter is full
// in one click; at A, a worker going from the partner's page to the
// referral form is warned, in the page's language, and may still send.
func TestBrowserReferralWarnsWhenFull(t *testing.T) {
	start := time.Date(2026, 12, 21, 9, 30, 0, 0, time.UTC)
	nodes, id, uri := coordNodes(t, start, 2)
	a, b := nodes[0], nodes[1]
	worker(t, a)
	worker(t, b)
	axe := axeSource(t)
	warn := map[string]string{"fr": "Attention : Complet pour le moment", "nl": "Let op: Momenteel volzet"}
	for _, lang := range []string{"fr", "nl"} {
		where := lang + "-360"
		foreign := foreignFragments(t, lang)
		ctx := browser(t, lang)
		do(t, ctx, "size", chromedp.EmulateViewport(360, 800))
		loginAs(t, ctx, b, "travailleuse@"+b.Name+".test", "worker-password-1")
		do(t, ctx, "full in one click", chromedp.Navigate(b.URL+"/services/"+id), chromedp.WaitVisible(chromedp.CSS("#capacity-full")),
			chromedp.Click(chromedp.CSS("#capacity-full")), chromedp.WaitVisible(chromedp.CSS("#capacity-saved")))
		loginAs(t, ctx, a, "travailleuse@"+a.Name+".test", "worker-password-1")
		waitUntil(t, "A's form warns", func() bool {
			do(t, ctx, "A's page", chromedp.Navigate(a.URL+"/service?uri="+url.QueryEscape(uri)), chromedp.WaitVisible(chromedp.CSS(".button[href^='/refer']")),
				chromedp.Click(chromedp.CSS(".button[href^='/refer']")), chromedp.WaitVisible(chromedp.CSS("#send")))
			return len(get(t, ctx, "warning", chromedp.Evaluate[string](`(document.querySelector("#capacity-warning") || {}).innerText || ""`))) > 0
		})
		if got := text(t, ctx, "#capacity-warning"); !strings.Contains(got, warn[lang]) {
			t.Errorf("%s: the warning reads %q, want %q", where, got, warn[lang])
		}
		if disabled := get(t, ctx, "send", chromedp.Evaluate[bool](`document.querySelector("#send").disabled`)); disabled {
			t.Errorf("%s: the referral cannot be sent", where)
		}
		checkLanguage(t, ctx, lang, where+" referral form", foreign, "Abri de nuit", "Nachtopvang", "Association "+b.Name)
		checkPage(t, ctx, axe, "refer-warning-"+where)
	}
}
