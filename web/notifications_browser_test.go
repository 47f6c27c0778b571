package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/web/notify"
)

// A worker at B, in French then in Dutch, at phone and desktop widths:
// the header counts the unread notifications, the list and the settings
// speak the page's language, fit the screen and pass axe; opening a
// notification leads to its referral and lowers the count. The
// unsubscribe page and the admin's e-mail page too.
func TestBrowserNotifications(t *testing.T) {
	w := startMailWorld(t)
	ctx := context.Background()
	axe := axeSource(t)
	worker := userByEmail(t, w.b, "worker@node2.test")
	nt := w.b.Node().Notify
	if err := nt.AddEvents(ctx, notify.Event{ID: "reminder/1", Kind: notify.ReferralReminder, Referral: w.ref, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "two notifications", func() bool {
		k, err := nt.Unread(ctx, worker.ID)
		return err == nil && k == 2
	})
	names := []string{hostileService, "Kruidenier", "Maison Midi", "Huis Zuid", "Association node2", "worker@node2.test", w.b.AdminEmail}
	header := map[string][2]string{"fr": {"Notifications (2)", "Notifications, 2 non lues"}, "nl": {"Meldingen (2)", "Meldingen, 2 ongelezen"}}
	visit := func(bctx context.Context, lang, path, name string, width int64, foreign []string) {
		t.Helper()
		where := fmt.Sprintf("%s-%s-%d", name, lang, width)
		do(t, bctx, where, chromedp.EmulateViewport(width, 800), chromedp.Navigate(w.b.URL+path), chromedp.WaitReady(chromedp.CSS("footer")))
		if l := attr(t, bctx, "html", "lang"); l != lang {
			t.Errorf("%s: html lang = %q", where, l)
		}
		checkLanguage(t, bctx, lang, where, foreign, names...)
		if sw := get(t, bctx, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > float64(width) {
			t.Errorf("%s: the page is %.0f px wide: it scrolls sideways", where, sw)
		}
		checkAccessibility(t, bctx, axe, where)
		screenshot(t, bctx, where)
	}

	var last context.Context
	for _, lang := range []string{"fr", "nl"} {
		foreign := foreignFragments(t, lang)
		bctx := browser(t, lang)
		login(t, bctx, w.b, "worker@node2.test", "worker-password")
		for _, width := range []int64{360, 1280} {
			visit(bctx, lang, "/notifications", "notifications", width, foreign)
			if got := text(t, bctx, "#nav-notifications"); got != header[lang][0] {
				t.Errorf("%s: the header reads %q, want %q", lang, got, header[lang][0])
			}
			if got := attr(t, bctx, "#nav-notifications", "aria-label"); got != header[lang][1] {
				t.Errorf("%s: the header's label reads %q, want %q", lang, got, header[lang][1])
			}
			if k := get(t, bctx, "unread", chromedp.Evaluate[float64](`document.querySelectorAll("#notifications li.unread strong").length`)); k != 2 {
				t.Errorf("%s: %.0f notifications shown unread in bold, want 2", lang, k)
			}
			visit(bctx, lang, "/settings/notifications", "notification-settings", width, foreign)
		}
		last = bctx
	}
	// The Dutch page: a notification names the Dutch service and partner.
	do(t, last, "the list", chromedp.Navigate(w.b.URL+"/notifications"), chromedp.WaitVisible(chromedp.CSS("#notifications")))
	if got := text(t, last, "#notifications"); !strings.Contains(got, "Nieuwe doorverwijzing "+w.reference+" voor Kruidenier, verstuurd door Huis Zuid") {
		t.Errorf("the Dutch list reads %q", got)
	}
	do(t, last, "open the oldest", chromedp.Click(chromedp.CSS("#notifications li:last-child button")), chromedp.WaitVisible(chromedp.CSS("#state")))
	if u := get(t, last, "address", chromedp.Location()); !strings.HasSuffix(u, "/referrals/"+w.handle) {
		t.Errorf("opening the notification led to %s", u)
	}
	if got := text(t, last, "#nav-notifications"); got != "Meldingen (1)" {
		t.Errorf("after opening one, the header reads %q", got)
	}

	// The unsubscribe page, without logging in.
	link := "/unsubscribe?" + url.Values{"u": {worker.ID}, "k": {"received"}, "s": {nt.UnsubscribeToken(worker.ID, notify.TopicReceived)}}.Encode()
	for _, lang := range []string{"fr", "nl"} {
		bctx := browser(t, lang)
		visit(bctx, lang, link, "unsubscribe", 360, foreignFragments(t, lang))
	}

	// The admin's e-mail page.
	actx := browser(t, "fr")
	login(t, actx, w.b, w.b.AdminEmail, w.b.AdminPassword)
	visit(actx, "fr", "/admin/mail", "admin-mail", 360, foreignFragments(t, "fr"))
}
