package web_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// workerNodes starts two partner nodes: A, "Maison de quartier Midi",
// with its phone, e-mail and address, and a worker; B, "Buurthuis
// Zuid", with a housing service that takes referrals of identity,
// contact and situation.
func workerNodes(t *testing.T, box *mailbox) (a, b *nodetest.Node) {
	t.Helper()
	nodes := nodetest.Start(t, 2, nodetest.Options{Configure: func(c *node.Config) {
		c.TileURL = unreachableTiles
		if box != nil {
			c.Mailer, c.NotifyEvery = box, 100*time.Millisecond
		}
	}})
	a, b = nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	for _, call := range []struct {
		n          *nodetest.Node
		tok        string
		method     string
		path, body string
		want       int
	}{
		{a, ta, "PUT", "/api/v1/organization", `{"name": "Maison de quartier Midi", "email": "accueil@mq-midi.be", "phones": [{"number": "+32 2 555 77 00"}]}`, 200},
		{a, ta, "POST", "/api/v1/locations", `{"name": "Accueil", "addresses": [{"address_1": "Rue Brogniez 50", "city": "Anderlecht", "postal_code": "1070", "country": "BE"}]}`, 201},
		{a, ta, "POST", "/api/v1/users", `{"email": "sofia@mq-midi.be", "role": "worker", "password": "worker-password"}`, 201},
		{b, tb, "PUT", "/api/v1/organization", `{"name": "Maison de quartier Sud", "translations": {"nl": {"name": "Buurthuis Zuid"}}}`, 200},
	} {
		if r := call.n.Do(call.method, call.path, call.tok, call.body); r.Status != call.want {
			t.Fatalf("%s %s: %d %s", call.method, call.path, r.Status, r.Body)
		}
	}
	makePartners(t, a, b, ta, tb)
	if r := b.Do("POST", "/api/v1/services", tb, `{"name": "Aide au logement", "status": "active", "categories": ["logement-hebergement"],
	  "translations": {"nl": {"name": "Woonhulp"}},
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact", "situation"]}}`); r.Status != 201 {
		t.Fatalf("service: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "A replicates B's service", func() bool {
		var out struct{ Total int }
		a.Do("GET", "/api/v1/search?q=logement", "", nil).JSON(t, &out)
		return out.Total == 1
	})
	return a, b
}

// formValues reads the referral form's typed fields and chosen method.
func formValues(t *testing.T, ctx context.Context) string {
	t.Helper()
	return get(t, ctx, "read the form", chromedp.Evaluate[string](`["#f-name", "#f-phone", "#f-situation", "#attestation"].map(s => document.querySelector(s).value).join("|") + "|" + document.querySelector("[name=method]:checked").value`))
}

// The social worker's journey of issue 16, in French and Dutch, at phone
// and desktop widths: she fills the referral form, switches the notice to
// the resident's language and finds everything she typed; a verbal
// consent without attestation is refused in her language; she sends it
// and sees the partner's and the service's names and a short reference
// on a page that fits the phone; the receipt, in the resident's
// language, gives the association's phone, e-mail and address and dates
// in words; its PDF too; the sent list is newest first, each row told
// apart by its reference.
func TestBrowserWorkerJourney(t *testing.T) {
	box := &mailbox{}
	a, _ := workerNodes(t, box)
	axe := axeSource(t)
	year := fmt.Sprint(time.Now().Year())
	iso := regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
	runs := []struct {
		lang, other                    string
		service, partner, refused      string
		receiptTitle, month, otherName string
		mailed                         string
	}{
		{"fr", "nl", "Aide au logement", "Maison de quartier Sud", "écrivez votre attestation", "Bewijs van toestemming", "december", "Nederlands",
			"Le reçu part par e-mail"},
		{"nl", "fr", "Woonhulp", "Buurthuis Zuid", "schrijf uw verklaring", "Reçu de consentement", "décembre", "Français",
			"Het ontvangstbewijs wordt gemaild"},
	}
	made := 0
	for _, run := range runs {
		ctx := browser(t, run.lang)
		login(t, ctx, a, "sofia@mq-midi.be", "worker-password")
		foreign := foreignFragments(t, run.lang)
		for _, width := range []int64{360, 1280} {
			where := fmt.Sprintf("%s-%d", run.lang, width)
			do(t, ctx, where+": open the form", chromedp.EmulateViewport(width, 800), chromedp.Navigate(a.URL+"/search?q=logement"),
				chromedp.Click(chromedp.CSS(".result h3 a")), chromedp.WaitVisible(chromedp.CSS("article.service")),
				chromedp.Click(chromedp.CSS(`a.button[href^="/refer"]`)), chromedp.WaitVisible(chromedp.CSS("form.refer")))
			do(t, ctx, where+": fill the form",
				chromedp.SendKeys(chromedp.CSS("#f-name"), "Amina Testmarker"), chromedp.SendKeys(chromedp.CSS("#f-phone"), "+32 470 11 22 33"),
				chromedp.SendKeys(chromedp.CSS("#f-situation"), "Cherche un logement"), chromedp.SendKeys(chromedp.CSS("#f-email"), "amina@example.org"),
				chromedp.Click(chromedp.CSS(`[name=method][value="verbal-attested"]`)))
			typed := formValues(t, ctx)

			// The notice in the resident's language: nothing typed is lost,
			// and none of it went into the address.
			do(t, ctx, where+": switch the notice", chromedp.Click(chromedp.CSS(`button[name=notice_switch][value="`+run.other+`"]`)),
				chromedp.WaitVisible(chromedp.CSS(`blockquote.notice[lang="`+run.other+`"]`)))
			if got := formValues(t, ctx); got != typed {
				t.Errorf("%s: after switching the notice the form holds %q, want %q", where, got, typed)
			}
			if u := get(t, ctx, "address", chromedp.Location()); strings.Contains(u, "Testmarker") || strings.Contains(u, "470") || !strings.HasSuffix(u, "/refer") {
				t.Errorf("%s: the address after the switch is %s", where, u)
			}
			if p := attr(t, ctx, `button[name=notice_switch][value="`+run.other+`"]`, "aria-pressed"); p != "true" {
				t.Errorf("%s: the chosen notice language is not marked (aria-pressed=%q)", where, p)
			}
			checkAccessibility(t, ctx, axe, "refer form after the switch "+where)
			screenshot(t, ctx, "worker-refer-switched-"+where)

			// Verbal consent without an attestation: refused, in her words.
			do(t, ctx, where+": send without attestation", chromedp.Click(chromedp.CSS(`[name=agreed]`)), chromedp.Click(chromedp.CSS("#send")),
				chromedp.WaitVisible(chromedp.CSS(".error")))
			if e := text(t, ctx, ".error"); !strings.Contains(e, run.refused) || strings.Contains(e, "consent.") || strings.Contains(e, "refused") {
				t.Errorf("%s: the refusal reads %q, want it to say %q", where, e, run.refused)
			}
			if got := formValues(t, ctx); got != typed {
				t.Errorf("%s: after the refusal the form holds %q, want %q", where, got, typed)
			}
			checkLanguage(t, ctx, run.lang, "refusal "+where, foreign, text(t, ctx, "blockquote.notice"), "Amina Testmarker", run.otherName)
			screenshot(t, ctx, "worker-refer-refused-"+where)

			do(t, ctx, where+": attest and send", chromedp.SendKeys(chromedp.CSS("#attestation"), "Accord donné au téléphone"),
				chromedp.Click(chromedp.CSS(`[name=agreed]`)), chromedp.Click(chromedp.CSS("#send")), chromedp.WaitVisible(chromedp.CSS("#state")))
			made++
			if got := text(t, ctx, "#partner"); got != run.partner {
				t.Errorf("%s: the partner reads %q, want %q", where, got, run.partner)
			}
			if got := text(t, ctx, "#service"); got != run.service {
				t.Errorf("%s: the service reads %q, want %q", where, got, run.service)
			}
			ref := text(t, ctx, "#reference")
			if !regexp.MustCompile(`^MQM-\d+$`).MatchString(ref) {
				t.Errorf("%s: the short reference reads %q", where, ref)
			}
			if sw := get(t, ctx, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > float64(width) {
				t.Errorf("%s: the referral page is %.0f px wide", where, sw)
			}
			checkAccessibility(t, ctx, axe, "referral "+where)
			checkLanguage(t, ctx, run.lang, "referral "+where, foreign, run.partner, run.service)
			screenshot(t, ctx, "worker-referral-"+where)

			// The receipt, in the notice's language, with whom to call.
			do(t, ctx, where+": open the receipt", chromedp.Click(chromedp.CSS("#receipt")), chromedp.WaitVisible(chromedp.CSS("#withdraw-how")))
			if l, h := attr(t, ctx, "html", "lang"), text(t, ctx, "h1"); l != run.other || h != run.receiptTitle {
				t.Errorf("%s: the receipt is in %q titled %q, want the notice's language %s", where, l, h, run.other)
			}
			how := text(t, ctx, "#withdraw-how")
			for _, want := range []string{"Maison de quartier Midi", "+32 2 555 77 00", "accueil@mq-midi.be", "Rue Brogniez 50, 1070 Anderlecht", ref} {
				if !strings.Contains(how, want) {
					t.Errorf("%s: the receipt's withdrawal section lacks %q: %q", where, want, how)
				}
			}
			if given, until := text(t, ctx, "#given"), text(t, ctx, "#until"); iso.MatchString(given+until) || !strings.Contains(given, year) || !strings.Contains(until, year) && !strings.Contains(until, fmt.Sprint(time.Now().Year()+1)) {
				t.Errorf("%s: the receipt's dates read %q and %q, want them in words", where, given, until)
			}
			if len(get(t, ctx, "logout button", chromedp.Nodes(chromedp.CSS(`form[action="/logout"]`), chromedp.AtLeast(0)))) != 1 ||
				len(get(t, ctx, "login link", chromedp.Nodes(chromedp.CSS(`a[href="/login"]`), chromedp.AtLeast(0)))) != 0 {
				t.Errorf("%s: the receipt's header is not a logged-in worker's", where)
			}
			if sw := get(t, ctx, where+" receipt width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > float64(width) {
				t.Errorf("%s: the receipt is %.0f px wide", where, sw)
			}
			checkAccessibility(t, ctx, axe, "receipt "+where)
			screenshot(t, ctx, "worker-receipt-"+where)
			pdf := get(t, ctx, "fetch the PDF", chromedp.Evaluate[string](`fetch(document.querySelector("a[href*='format=pdf']").href).then(async r =>
				r.status + " " + r.headers.get("content-type") + " " + new TextDecoder("latin1").decode(await r.arrayBuffer()))`, chromedp.EvalAwaitPromise))
			if !strings.HasPrefix(pdf, "200 application/pdf %PDF") || !strings.Contains(pdf, "+32 2 555 77 00") || !strings.Contains(pdf, "accueil@mq-midi.be") || !strings.Contains(pdf, ref) {
				t.Errorf("%s: the PDF receipt (%d bytes) lacks the status, type, contact or reference: %.60q", where, len(pdf), pdf)
			}

			// The resident asks for the receipt by e-mail: the worker's
			// language on that section, the mail goes, with the PDF.
			if got := attr(t, ctx, "#mail-title", "lang"); got != "" && got != run.lang {
				t.Errorf("%s: the e-mail offer is in %q, want the worker's %s", where, got, run.lang)
			}
			do(t, ctx, where+": e-mail the receipt", chromedp.Click(chromedp.CSS(`form[action$="/receipt/mail"] button`)), chromedp.WaitVisible(chromedp.CSS("#mail")))
			if got := text(t, ctx, "#mail"); !strings.HasPrefix(got, run.mailed) {
				t.Errorf("%s: after e-mailing the receipt the page says %q", where, got)
			}
			checkAccessibility(t, ctx, axe, "receipt mailed "+where)
			screenshot(t, ctx, "worker-receipt-mailed-"+where)
			waitUntil(t, "the receipt mailed", func() bool { return len(box.to("amina@example.org")) == made })
			if m := box.to("amina@example.org")[made-1]; len(m.Attachments) != 1 || !strings.Contains(m.Subject, ref) || strings.Contains(m.Text+m.HTML, "Cherche un logement") {
				t.Errorf("%s: the receipt mail: %q, %d attachments", where, m.Subject, len(m.Attachments))
			}

			// The sent list: newest first, each row with its reference.
			do(t, ctx, where+": the list", chromedp.Navigate(a.URL+"/referrals"), chromedp.WaitVisible(chromedp.CSS("#sent-list")))
			rows := get(t, ctx, "rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#sent-list li")].map(li => li.innerText)`))
			if len(rows) != made || !strings.Contains(rows[0], ref) || !strings.Contains(rows[0], run.partner) || !strings.Contains(rows[0], run.service) {
				t.Errorf("%s: the sent list reads %q, want %d rows, the newest (%s) first", where, rows, made, ref)
			}
			if sw := get(t, ctx, where+" list width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > float64(width) {
				t.Errorf("%s: the list is %.0f px wide", where, sw)
			}
			checkAccessibility(t, ctx, axe, "referrals "+where)
			checkLanguage(t, ctx, run.lang, "referrals "+where, foreign, run.partner, run.service, "Woonhulp", "Aide au logement", "Maison de quartier Sud", "Buurthuis Zuid")
			screenshot(t, ctx, "worker-referrals-"+where)
		}
	}
}
