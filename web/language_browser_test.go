package web_test

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// catalogue reads one language's messages.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("locales/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// foreignFragments are the pieces of other catalogues' messages (split at
// their formatting verbs and markup) that a page in lang must never show:
// those of at least four words that no message of lang contains. A French
// or Dutch page showing one shows another language's text.
func foreignFragments(t *testing.T, lang string) []string {
	t.Helper()
	own := strings.Join(slices.Collect(mapsValues(catalogue(t, lang))), "\n")
	split := regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-z]|<[^>]*>|[«»“”"]`)
	seen := map[string]bool{}
	var out []string
	for _, other := range []string{"fr", "nl", "en"} {
		if other == lang {
			continue
		}
		for _, msg := range catalogue(t, other) {
			for _, frag := range split.Split(msg, -1) {
				frag = strings.TrimSpace(frag)
				if len(strings.Fields(frag)) < 4 || seen[frag] || strings.Contains(own, frag) {
					continue
				}
				seen[frag] = true
				out = append(out, frag)
			}
		}
	}
	return out
}

func mapsValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// rawText are signs of text meant for developers, not people: API error
// bodies, validation paths, Go error chains, ids, actor URLs.
var rawText = []*regexp.Regexp{
	regexp.MustCompile(`\{"error"`),
	regexp.MustCompile(`\b[a-z_]+(\[\d+\])?\.[a-z_]+(\[\d+\])?\b: `), // schedules[0].closes_at: …
	regexp.MustCompile(`\b(is required|must be|not found|refused:|internal error)\b`),
	regexp.MustCompile(`\b[0-9a-f]{32}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`),
	regexp.MustCompile(`https?://[^\s]+/actor\b`),
}

// checkLanguage fails when the visible text of the current page holds
// another language's message or developer text. allowed lists visible
// strings that are user content and may look like either (names of
// services, addresses typed in a form).
func checkLanguage(t *testing.T, ctx context.Context, lang, where string, foreign []string, allowed ...string) {
	t.Helper()
	body := get(t, ctx, where+" text", chromedp.Evaluate[string](`document.body.innerText`))
	for _, a := range allowed {
		body = strings.ReplaceAll(body, a, "")
	}
	for _, f := range foreign {
		if strings.Contains(body, f) {
			t.Errorf("%s: a %s page shows %q, which is not in the %s catalogue", where, lang, f, lang)
		}
	}
	for _, re := range rawText {
		if m := re.FindString(body); m != "" {
			t.Errorf("%s: the page shows developer text %q", where, m)
		}
	}
}

// The check itself works: it finds an English message and raw errors on
// a page, and passes a page in its own language.
func TestCheckLanguageCatches(t *testing.T) {
	foreign := foreignFragments(t, "fr")
	if len(foreign) < 100 {
		t.Fatalf("only %d English or Dutch fragments to look for: catalogues not read?", len(foreign))
	}
	en := catalogue(t, "en")
	fr := catalogue(t, "fr")
	var sample string
	for k, v := range en {
		if len(strings.Fields(v)) >= 6 && !strings.Contains(v, "%") && !strings.Contains(v, "<") && v != fr[k] {
			sample = v
			break
		}
	}
	found := false
	for _, f := range foreign {
		if strings.Contains(sample, f) {
			found = true
		}
	}
	if !found {
		t.Errorf("the English message %q is not among the fragments a French page must not show", sample)
	}
	for _, raw := range []string{`{"error":"not found"}`, "schedules[0].closes_at: must be after opens_at", "Qui : http://127.0.0.1:8081/actor",
		"réf. 0123456789abcdef0123456789abcdef"} {
		hit := false
		for _, re := range rawText {
			hit = hit || re.MatchString(raw)
		}
		if !hit {
			t.Errorf("%q is not caught as developer text", raw)
		}
	}
	for _, ok := range []string{"Épicerie sociale, Rue Brogniez 50, 1070 Anderlecht", "Lundi : 09:00 – 12:00", "réf. MQM-12"} {
		for _, re := range rawText {
			if re.MatchString(ok) {
				t.Errorf("%q is taken for developer text by %v", ok, re)
			}
		}
	}
}

// Every page a resident, a worker or an admin meets on a node with a
// partner and a referral speaks the page's language only, French or
// Dutch, shows no developer text, fits a phone and passes axe.
func TestBrowserPagesSpeakTheirLanguage(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{Configure: func(c *node.Config) { c.TileURL = unreachableTiles }})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	axe := axeSource(t)
	if r := a.Do("POST", "/api/v1/users", ta, `{"email": "worker@`+a.Name+`.test", "role": "worker", "password": "worker-password"}`); r.Status != 201 {
		t.Fatalf("worker: %d %s", r.Status, r.Body)
	}
	makePartners(t, a, b, ta, tb)
	resp := b.Do("POST", "/api/v1/services", tb, `{"name": "Aide au logement", "description": "Recherche de logement et médiation avec le propriétaire.",
	  "status": "active", "categories": ["logement-hebergement"], "translations": {"nl": {"name": "Hulp bij huisvesting"}},
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`)
	if resp.Status != 201 {
		t.Fatalf("service: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	waitUntil(t, "A replicates B's service", func() bool {
		var out struct{ Total int }
		a.Do("GET", "/api/v1/search?q=logement", "", nil).JSON(t, &out)
		return out.Total == 1
	})
	tw := a.Token("worker@"+a.Name+".test", "worker-password")
	given := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	resp = a.Do("POST", "/api/v1/referrals", tw, `{"service": "`+svc.ID+`", "resident": {"name": "Samira Benali", "email": "samira@example.org"},
	  "consent": {"method": "on-screen", "categories": ["identity", "contact"], "notice_version": "2026-11",
	  "notice_hash": "`+strings.Repeat("ab", 32)+`", "notice_lang": "fr", "given_at": "`+given+`"}}`)
	if resp.Status != 201 {
		t.Fatalf("refer: %d %s", resp.Status, resp.Body)
	}
	var ref struct{ ID string }
	resp.JSON(t, &ref)

	user := []string{"Aide au logement", "Hulp bij huisvesting", "Recherche de logement et médiation avec le propriétaire.", "Samira Benali",
		"samira@example.org", "Association node1", "Association node2", "worker@node1.test", "admin@node1.test"}
	for _, lang := range []string{"fr", "nl"} {
		foreign := foreignFragments(t, lang)
		ctx := browser(t, lang)
		visit := func(who, path string) {
			t.Helper()
			where := who + strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(path) + "-" + lang
			do(t, ctx, where, chromedp.EmulateViewport(360, 800), chromedp.Navigate(a.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
			checkLanguage(t, ctx, lang, where, foreign, user...)
			if sw := get(t, ctx, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > 360 {
				t.Errorf("%s: the page is %.0f px wide", where, sw)
			}
			checkAccessibility(t, ctx, axe, where)
		}
		for _, p := range []string{"/", "/search?q=logement", "/network", "/about", "/actor", "/login", "/no-such-page"} {
			visit("resident", p)
		}
		do(t, ctx, "open the partner's service", chromedp.Navigate(a.URL+"/search?q=logement"), chromedp.WaitVisible(chromedp.CSS(".result h3 a")))
		visit("resident", strings.TrimPrefix(attr(t, ctx, ".result h3 a", "href"), a.URL))
		login(t, ctx, a, "worker@"+a.Name+".test", "worker-password")
		for _, p := range []string{"/referrals", "/referrals/" + ref.ID} {
			visit("worker", p)
		}
		do(t, ctx, "log out", chromedp.Navigate(a.URL+"/"), chromedp.Submit(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitReady(chromedp.CSS("footer")))
		login(t, ctx, a, a.AdminEmail, a.AdminPassword)
		for _, p := range []string{"/admin", "/admin/services", "/admin/services/new", "/admin/locations/new", "/admin/organization", "/admin/partners",
			"/admin/users", "/admin/blocklist", "/admin/audit"} {
			visit("admin", p)
		}
		do(t, ctx, "log out", chromedp.Navigate(a.URL+"/"), chromedp.Submit(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitReady(chromedp.CSS("footer")))
	}
}
