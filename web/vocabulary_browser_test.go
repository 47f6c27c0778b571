package web_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// frenchOnly are notions of French administration that mean nothing to a
// Brussels resident; no theme or audience offered on a page may say one.
var frenchOnly = regexp.MustCompile(`(?i)\b(QPV|FRR|ZRR|RSA|CAF|MDPH|SMIC)\b|France Travail|Pôle emploi|minimas? sociaux|départ[eé]ment|curatelle`)

// vocabularyWords is what a Brussels social worker expects to read, per
// language, in the search page's themes and in the service form.
var vocabularyWords = map[string]struct {
	foodTheme string   // food aid, an option of its own on the search page
	form      []string // words of the service form's themes and audiences
	hidden    string   // the hidden audience's label, shown only to a service filed under it
}{
	"fr": {"Aide alimentaire", []string{"CPAS", "revenu d’intégration", "Aide alimentaire", "Chercheurs d’emploi"}, "Habitants de quartiers prioritaires"},
	"nl": {"Voedselhulp", []string{"OCMW", "leefloon", "Voedselhulp", "Werkzoekenden"}, "Bewoners van prioritaire wijken"},
}

// texts returns the visible texts of the elements sel matches.
func texts(t *testing.T, ctx context.Context, sel string) []string {
	t.Helper()
	return get(t, ctx, "read "+sel, chromedp.Evaluate[[]string](fmt.Sprintf(
		`[...document.querySelectorAll(%q)].map(e => e.textContent.trim())`, sel)))
}

// options returns the texts of a list of the vocabulary's options; a
// short list means the page did not show the vocabulary at all.
func options(t *testing.T, ctx context.Context, sel string) []string {
	t.Helper()
	raw := texts(t, ctx, sel)
	if len(raw) < 5 {
		t.Fatalf("%s: %d options, want the vocabulary", sel, len(raw))
	}
	return raw
}

// noFrenchOnly fails for every option that names a France-only notion.
func noFrenchOnly(t *testing.T, where string, opts []string) {
	t.Helper()
	for _, o := range opts {
		if m := frenchOnly.FindString(o); m != "" {
			t.Errorf("%s: option %q says %q, a France-only notion", where, o, m)
		}
	}
}

// The search page and the service form speak the Brussels vocabulary in
// French and Dutch, at phone and desktop widths: food aid is a theme of
// its own, the CPAS/OCMW and the revenu d'intégration/leefloon are there,
// no France-only notion is offered, and a service a partner filed under a
// hidden code keeps it when edited.
func TestBrowserBrusselsVocabulary(t *testing.T) {
	n := sampleNode(t)
	axe := axeSource(t)
	// A service filed under hidden codes, as one from a French partner or
	// an older node may be: it must keep them and show them readably.
	tok := n.AdminToken()
	r := n.Do("POST", "/api/v1/services", tok, `{"name": "Accueil des familles", "description": "Écoute et orientation.", "status": "active",
	  "categories": ["famille--soutien-a-la-parentalite-et-a-leducation", "difficultes-administratives-ou-juridiques--beneficier-dune-mesure-daccompagnement-adapte"],
	  "audiences": ["familles", "residents-qpv-frr"]}`)
	if r.Status != 201 {
		t.Fatalf("a service with hidden codes was refused: %d %s", r.Status, r.Body)
	}
	var hidden struct{ ID string }
	r.JSON(t, &hidden)

	for _, lang := range []string{"fr", "nl"} {
		words := vocabularyWords[lang]
		ctx := browser(t, lang)
		do(t, ctx, "log in", chromedp.Navigate(n.URL+"/admin/services/new"),
			chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), n.AdminEmail), chromedp.SendKeys(chromedp.CSS("#password"), n.AdminPassword),
			chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("form.editor")))
		for _, width := range []int64{360, 1280} {
			where := fmt.Sprintf("%s-%d", lang, width)
			checkSearchThemes(t, ctx, n.URL, axe, where, words.foodTheme, width)
			checkServiceForm(t, ctx, n.URL, axe, where, words.form, width)
		}
		// The service filed under hidden codes: its form offers and ticks
		// them (saving keeps them); the new-service form does not offer them.
		do(t, ctx, "open the service with hidden codes", chromedp.EmulateViewport(360, 800),
			chromedp.Navigate(n.URL+"/admin/services/"+hidden.ID), chromedp.WaitVisible(chromedp.CSS("form.editor")))
		if !get(t, ctx, "read the hidden audience", chromedp.Evaluate[bool](`document.querySelector('input[name=audience][value="residents-qpv-frr"]')?.checked === true`)) {
			t.Errorf("%s: the hidden audience is not ticked on the form of a service filed under it: saving would drop it", lang)
		}
		if aud := options(t, ctx, "fieldset:has(input[name=audience]) label.check"); !slices.Contains(aud, words.hidden) {
			t.Errorf("%s: the hidden audience reads %v, want %q among them", lang, aud, words.hidden)
		}
		do(t, ctx, "save it unchanged", chromedp.Submit(chromedp.CSS("#name_fr")), chromedp.WaitVisible(chromedp.CSS(".saved")))
		saved := n.Do("GET", "/api/v1/services/"+hidden.ID, tok, "")
		if !strings.Contains(string(saved.Body), `"residents-qpv-frr"`) || !strings.Contains(string(saved.Body), "beneficier-dune-mesure-daccompagnement-adapte") {
			t.Errorf("%s: saving the form dropped the hidden codes: %s", lang, saved.Body)
		}
		do(t, ctx, "open the new-service form", chromedp.Navigate(n.URL+"/admin/services/new"), chromedp.WaitVisible(chromedp.CSS("form.editor")))
		if n := get(t, ctx, "count hidden options", chromedp.Evaluate[float64](
			`document.querySelectorAll('input[value="residents-qpv-frr"], input[value$="--beneficier-dune-mesure-daccompagnement-adapte"], input[value$="--sorganiser-suite-a-son-retour-en-france"]').length`)); n != 0 {
			t.Errorf("%s: the new-service form offers %v hidden codes", lang, n)
		}
	}
}

// checkSearchThemes reads the search page's theme list: Brussels labels,
// food aid on its own, nothing France-only; and food aid finds the grocery.
func checkSearchThemes(t *testing.T, ctx context.Context, base, axe, where, food string, width int64) {
	t.Helper()
	do(t, ctx, "open the search page "+where, chromedp.EmulateViewport(width, 800),
		chromedp.Navigate(base+"/search"), chromedp.WaitVisible(chromedp.CSS("#category")))
	themes := options(t, ctx, "#category option")
	noFrenchOnly(t, "search "+where, themes)
	if !slices.Contains(themes, food) {
		t.Errorf("search %s: themes %v, want %q as an option of its own", where, themes, food)
	}
	checkWidth(t, ctx, "search "+where, width)
	checkAccessibility(t, ctx, axe, "search themes "+where)
	// For the screenshot only, after the checks: the folded form open and
	// the theme list drawn whole, so that its labels can be read.
	do(t, ctx, "unfold the themes "+where, js(`document.querySelector('details.modify')?.setAttribute('open', '');
		const s = document.querySelector('#category'); s.size = s.options.length`))
	screenshot(t, ctx, "vocabulary-search-"+where)
	do(t, ctx, "search for food aid "+where,
		chromedp.SetValue(chromedp.CSS("#category"), "equipement-et-alimentation--alimentation"),
		chromedp.Submit(chromedp.CSS("#category")), chromedp.WaitVisible(chromedp.CSS("#results")))
	if got := texts(t, ctx, ".result h3 a"); len(got) != 1 {
		t.Errorf("search %s: food aid finds %v, want the grocery alone", where, got)
	}
}

// checkServiceForm reads the service form's themes and audiences.
func checkServiceForm(t *testing.T, ctx context.Context, base, axe, where string, want []string, width int64) {
	t.Helper()
	do(t, ctx, "open the service form "+where, chromedp.EmulateViewport(width, 800),
		chromedp.Navigate(base+"/admin/services/new"), chromedp.WaitVisible(chromedp.CSS("form.editor")),
		// Open the theme groups a social worker would look in, for the
		// screenshot; the checks read every option, open or not.
		js(`for (const v of ["equipement-et-alimentation", "difficultes-administratives-ou-juridiques"]) document.querySelector('input[name=category][value="' + v + '"]').closest('details').open = true`))
	themes := options(t, ctx, "fieldset:has(input[name=category]) label.check")
	audiences := options(t, ctx, "fieldset:has(input[name=audience]) label.check")
	all := slices.Concat(themes, audiences)
	noFrenchOnly(t, "form "+where, all)
	joined := strings.Join(all, "\n")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("form %s: no theme or audience says %q", where, w)
		}
	}
	checkWidth(t, ctx, "form "+where, width)
	checkAccessibility(t, ctx, axe, "service form "+where)
	screenshot(t, ctx, "vocabulary-form-"+where)
}

func checkWidth(t *testing.T, ctx context.Context, where string, width int64) {
	t.Helper()
	if sw := get(t, ctx, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > float64(width) {
		t.Errorf("%s: the page is %.0f px wide: it scrolls sideways", where, sw)
	}
}
