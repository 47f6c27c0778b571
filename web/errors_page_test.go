package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// A browser that follows a wrong link gets the error page in its
// language, saying what to do, with links home and to the search; a
// program gets JSON with a stable code; the APIs answer JSON even to a
// browser.
func TestUnknownPathInABrowser(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	get := func(path, accept, lang string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", n.URL+path, nil)
		req.Header.Set("Accept", accept)
		req.Header.Set("Accept-Language", lang)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for lang, want := range map[string][]string{
		"fr": {`<html lang="fr">`, "Cette page n’existe pas ou plus.", "Vérifiez l’adresse de la page", `href="/search"`, "Chercher un service"},
		"nl": {`<html lang="nl">`, "Deze pagina bestaat niet (meer).", "Kijk het adres van de pagina na", `href="/search"`, "Een dienst zoeken"},
	} {
		resp, body := get("/no/such/page", browserAccept, lang)
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s, want 404 HTML", lang, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the error page lacks %q", lang, w)
			}
		}
		if strings.Contains(body, `{"error"`) || strings.Contains(body, "not found") {
			t.Errorf("%s: the error page shows the API's text", lang)
		}
	}
	for _, tt := range []struct{ path, accept string }{{"/no/such/page", "application/json"}, {"/api/v1/nothing", browserAccept}, {"/hsds/nothing", browserAccept}} {
		resp, body := get(tt.path, tt.accept, "fr")
		var e struct{ Code, Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != http.StatusNotFound || e.Code != "not_found" || e.Error == "" {
			t.Errorf("%s (Accept %s): %d %q, want 404 JSON with code not_found", tt.path, tt.accept, resp.StatusCode, body)
		}
	}
}
