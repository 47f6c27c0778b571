package web_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/federation"
)

// personServer is a fediverse server with one person, lea, found by
// WebFinger (which it answers only when asked for JRD, as GoToSocial
// does) and nobody else.
func personServer(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.12:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Listener.Close()
	srv.Listener = ln
	host := ln.Addr().String()
	actor := "http://" + host + "/users/lea"
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/.well-known/webfinger":
			if !strings.Contains(r.Header.Get("Accept"), "application/jrd+json") {
				http.Error(w, "not acceptable", http.StatusNotAcceptable)
				return
			}
			if r.URL.Query().Get("resource") != "acct:lea@"+host {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/jrd+json")
			json.NewEncoder(w).Encode(map[string]any{"subject": "acct:lea@" + host,
				"links": []map[string]string{{"rel": "self", "type": "application/activity+json", "href": actor}}})
		case r.URL.Path == "/users/lea":
			w.Header().Set("Content-Type", "application/activity+json")
			json.NewEncoder(w).Encode(map[string]any{"id": actor, "type": "Person", "preferredUsername": "lea", "name": "Léa",
				"inbox": actor + "/inbox", "publicKey": map[string]string{"id": actor + "#main-key", "owner": actor, "publicKeyPem": federation.PublicKeyPEM(&key.PublicKey)}})
		default:
			http.NotFound(w, r)
		}
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return host
}

// An admin who asks a person, or an address that does not exist, for a
// partnership is told why it cannot be, in their language, with what
// they typed still in the field; nothing is sent or kept.
func TestBrowserPartnerRequestExplained(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	host := personServer(t)
	axe := axeSource(t)
	cases := []struct{ handle, kind string }{
		{"@lea@" + host, "not-association"},
		{"@personne@" + host, "not-found"},
		{"lea.example", "invalid"},
	}
	want := map[string]map[string]string{
		"fr": {"not-association": "pas une association sur Maillage", "not-found": "Aucun compte à cette adresse", "invalid": "Ce n’est pas une adresse du réseau"},
		"nl": {"not-association": "geen vereniging op Maillage", "not-found": "Geen account op dit adres", "invalid": "Dit is geen netwerkadres"},
	}
	for _, lang := range []string{"fr", "nl"} {
		ctx := browser(t, lang)
		do(t, ctx, "log in", chromedp.Navigate(n.URL+"/login"), chromedp.SendKeys(chromedp.CSS("#email"), n.AdminEmail),
			chromedp.SendKeys(chromedp.CSS("#password"), n.AdminPassword), chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/admin"]`)))
		for i, c := range cases {
			width := []int64{360, 1280}[i%2]
			where := fmt.Sprintf("partner-refused-%s-%s-%d", c.kind, lang, width)
			do(t, ctx, where, chromedp.EmulateViewport(width, 800), chromedp.Navigate(n.URL+"/admin/partners"),
				chromedp.WaitVisible(chromedp.CSS("#handle")), chromedp.SendKeys(chromedp.CSS("#handle"), c.handle),
				chromedp.Submit(chromedp.CSS("#handle")), chromedp.WaitVisible(chromedp.CSS("#partner-problem")))
			if got := text(t, ctx, "#partner-problem"); !strings.Contains(got, want[lang][c.kind]) {
				t.Errorf("%s: the page says %q, want it to say %q", where, got, want[lang][c.kind])
			}
			if got := attr(t, ctx, "#handle", "value"); got != c.handle {
				t.Errorf("%s: the field holds %q, want %q as typed", where, got, c.handle)
			}
			checkAccessibility(t, ctx, axe, where)
			screenshot(t, ctx, where)
		}
	}
	var out struct{ Partners []any }
	n.Do("GET", "/api/v1/partners", n.AdminToken(), nil).JSON(t, &out)
	if len(out.Partners) != 0 {
		t.Errorf("refused requests left relations: %+v", out.Partners)
	}
}
