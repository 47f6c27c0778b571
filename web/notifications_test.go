package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/web/notify"
)

// pageClient is a browser-like client logged in on n's pages.
func pageClient(t *testing.T, n *nodetest.Node, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}
	token := formToken(t, c, n.URL+"/login")
	if resp := postForm(t, c, n.URL+"/login", url.Values{"csrf": {token}, "email": {email}, "password": {password}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("log in %s: %d", email, resp.StatusCode)
	}
	return c
}

// fetchPage sends a request and returns the status, the redirect and the body.
func fetchPage(t *testing.T, c *http.Client, method, target string, form url.Values) (int, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), html.UnescapeString(string(b))
}

var navNotifications = regexp.MustCompile(`<a href="/notifications" id="nav-notifications"[^>]*>([^<]*)</a>`)

// headerCount reads the header's notifications link: its text and label.
func headerCount(t *testing.T, c *http.Client, n *nodetest.Node) string {
	t.Helper()
	_, _, body := fetchPage(t, c, "GET", n.URL+"/about", nil)
	m := navNotifications.FindString(body)
	if m == "" {
		t.Fatalf("no notifications link in the header")
	}
	return m
}

var notificationIDs = regexp.MustCompile(`name="id" value="([^"]+)"`)

// The header counts the unread notifications; they stay unread when
// the list is seen, and one opened or all marked read leave the count.
func TestNotificationsUnreadAndMarkRead(t *testing.T) {
	w := startMailWorld(t)
	c := pageClient(t, w.b, "worker@node2.test", "worker-password")
	waitUntil(t, "the notification of the referral received", func() bool {
		return strings.Contains(headerCount(t, c, w.b), ">Notifications (1)<")
	})
	if h := headerCount(t, c, w.b); !strings.Contains(h, `aria-label="Notifications, 1 non lue"`) {
		t.Errorf("header link %s: no label saying it is unread", h)
	}
	reminder := notify.Event{ID: "reminder/1", Kind: notify.ReferralReminder, Referral: w.ref, At: time.Now()}
	if err := w.b.Node().Notify.AddEvents(context.Background(), reminder); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a second notification", func() bool {
		return strings.Contains(headerCount(t, c, w.b), `aria-label="Notifications, 2 non lues">Notifications (2)<`)
	})

	code, _, body := fetchPage(t, c, "GET", w.b.URL+"/notifications", nil)
	if code != 200 {
		t.Fatalf("notifications page: %d", code)
	}
	for _, want := range []string{"Nouvelle orientation " + w.reference + " pour " + hostileService + ", envoyée par Maison Midi",
		"L’orientation " + w.reference + " pour " + hostileService + ", envoyée par Maison Midi, attend toujours une réponse", "Non lue", "Tout marquer comme lu"} {
		if !strings.Contains(body, want) {
			t.Errorf("the list does not say %q", want)
		}
	}
	if strings.Contains(body, residentName) {
		t.Error("the list names the resident")
	}
	ids := notificationIDs.FindAllStringSubmatch(body, -1)
	if len(ids) != 2 || ids[0][1] != reminder.ID {
		t.Fatalf("the list's notifications %v, want the reminder first", ids)
	}
	if !strings.Contains(headerCount(t, c, w.b), "(2)") {
		t.Error("seeing the list marked the notifications read")
	}

	token := formToken(t, c, w.b.URL+"/notifications")
	if code, _, _ := fetchPage(t, c, "POST", w.b.URL+"/notifications/read", url.Values{"id": {reminder.ID}}); code != http.StatusForbidden {
		t.Errorf("mark read without the form token = %d, want 403", code)
	}
	if code, _, _ := fetchPage(t, c, "POST", w.b.URL+"/notifications/read", url.Values{"csrf": {token}, "id": {"someone-else's"}}); code != http.StatusNotFound {
		t.Errorf("mark read of an unknown notification = %d, want 404", code)
	}
	code, to, _ := fetchPage(t, c, "POST", w.b.URL+"/notifications/read", url.Values{"csrf": {token}, "id": {reminder.ID}})
	if code != http.StatusSeeOther || to != "/referrals/"+w.handle {
		t.Errorf("open a notification = %d to %q, want the referral's page", code, to)
	}
	if h := headerCount(t, c, w.b); !strings.Contains(h, ">Notifications (1)<") {
		t.Errorf("after opening one: %s", h)
	}
	code, to, _ = fetchPage(t, c, "POST", w.b.URL+"/notifications/read", url.Values{"csrf": {token}, "all": {"1"}})
	if code != http.StatusSeeOther || to != "/notifications" {
		t.Errorf("mark all read = %d to %q", code, to)
	}
	if h := headerCount(t, c, w.b); !strings.Contains(h, ">Notifications<") || strings.Contains(h, "aria-label") {
		t.Errorf("after marking all read: %s", h)
	}
	if _, _, body := fetchPage(t, c, "GET", w.b.URL+"/notifications", nil); strings.Contains(body, "Non lue") || len(notificationIDs.FindAllString(body, -1)) != 2 {
		t.Error("the list after marking all read still shows unread ones, or lost some")
	}
}

// The settings: per topic a mode, the digest's hour, the language and
// the services handled; a bad value is named and nothing is saved.
func TestNotificationSettings(t *testing.T) {
	w := startMailWorld(t)
	ctx := context.Background()
	worker := userByEmail(t, w.b, "worker@node2.test")
	c := pageClient(t, w.b, "worker@node2.test", "worker-password")
	page := w.b.URL + "/settings/notifications"
	code, _, body := fetchPage(t, c, "GET", page, nil)
	if code != 200 {
		t.Fatalf("settings: %d", code)
	}
	for _, want := range []string{"<legend>Orientations reçues</legend>", "<legend>Rappels</legend>", "Immédiatement", "Dans le résumé quotidien", "Jamais",
		"heure de Bruxelles", `value="` + w.serviceID + `"`, hostileService, "si personne ne coche un service"} {
		if !strings.Contains(strings.ToLower(body), strings.ToLower(want)) {
			t.Errorf("the settings page does not show %q", want)
		}
	}
	if strings.Contains(body, "<legend>Partenariats</legend>") {
		t.Error("a worker is offered the partnerships, which only admins hear of")
	}
	token := formToken(t, c, page)
	before, _ := w.b.Node().Notify.Prefs(ctx, worker.ID)

	bad := url.Values{"csrf": {token}, "mode_received": {"sometimes"}, "mode_answers": {"now"}, "mode_messages": {"now"}, "mode_reminders": {"now"}, "mode_withdrawals": {"now"},
		"digest_hour": {"24"}, "lang": {"de"}, "service": {"no-such-service"}}
	code, _, body = fetchPage(t, c, "POST", page, bad)
	if code != http.StatusBadRequest {
		t.Errorf("bad settings = %d, want 400", code)
	}
	for _, want := range []string{"Rien n’a été enregistré", "Choisissez quand recevoir les e-mails « Orientations reçues ».",
		"L’heure du résumé doit être une heure de 0 à 23.", "Choisissez la langue des e-mails", "Un des services cochés"} {
		if !strings.Contains(body, want) {
			t.Errorf("bad settings: the page does not say %q", want)
		}
	}
	if after, _ := w.b.Node().Notify.Prefs(ctx, worker.ID); !samePrefs(after, before) {
		t.Errorf("bad settings changed the prefs: %+v", after)
	}

	good := url.Values{"csrf": {token}, "mode_received": {"digest"}, "mode_answers": {"off"}, "mode_messages": {"now"}, "mode_reminders": {"now"}, "mode_withdrawals": {"now"},
		"digest_hour": {"7"}, "lang": {"nl"}, "service": {w.serviceID}}
	code, _, body = fetchPage(t, c, "POST", page, good)
	if code != 200 || !strings.Contains(body, "Vos choix sont enregistrés.") {
		t.Errorf("good settings = %d, no confirmation", code)
	}
	p, _ := w.b.Node().Notify.Prefs(ctx, worker.ID)
	if p.Mode(notify.TopicReceived) != notify.Digest || p.Mode(notify.TopicAnswers) != notify.Off || p.DigestHour != 7 || p.Lang != "nl" ||
		!slices.Equal(p.Services, []string{w.serviceID}) {
		t.Errorf("saved prefs %+v", p)
	}
	if p.Mode(notify.TopicReviews) != notify.Digest {
		t.Errorf("a topic the worker was not asked about changed: reviews %s", p.Mode(notify.TopicReviews))
	}
	if _, _, body := fetchPage(t, c, "GET", page, nil); !strings.Contains(body, `name="mode_received" value="digest" checked`) ||
		!strings.Contains(body, `<option value="7" selected>`) || !strings.Contains(body, `value="`+w.serviceID+`" checked`) {
		t.Error("the settings page does not show the choices saved")
	}

	// An admin is also asked about partnerships and services to review.
	ca := pageClient(t, w.b, w.b.AdminEmail, w.b.AdminPassword)
	if _, _, body := fetchPage(t, ca, "GET", page, nil); !strings.Contains(body, "<legend>Partenariats</legend>") || !strings.Contains(body, "<legend>Services à revoir</legend>") {
		t.Error("an admin is not offered the partnerships and reviews")
	}
}

func samePrefs(a, b *notify.Prefs) bool {
	if a.Lang != b.Lang || a.DigestHour != b.DigestHour || !slices.Equal(a.Services, b.Services) {
		return false
	}
	for _, t := range notify.Topics {
		if a.Mode(t) != b.Mode(t) {
			return false
		}
	}
	return true
}

// Without e-mail on the node, the settings page says so and still lets
// a worker choose the services.
func TestNotificationSettingsWithoutMail(t *testing.T) {
	n := sampleNode(t)
	ctx := context.Background()
	if r := n.Do("POST", "/api/v1/users", n.AdminToken(), `{"email": "worker@node1.test", "role": "worker", "password": "worker-password"}`); r.Status != 201 {
		t.Fatalf("worker: %d %s", r.Status, r.Body)
	}
	worker := userByEmail(t, n, "worker@node1.test")
	c := pageClient(t, n, "worker@node1.test", "worker-password")
	page := n.URL + "/settings/notifications"
	_, _, body := fetchPage(t, c, "GET", page, nil)
	if !strings.Contains(body, "Les e-mails ne sont pas encore configurés par votre association") || strings.Contains(body, `type="radio" name="mode_`) {
		t.Error("without e-mail, the page does not say so, or asks about e-mails")
	}
	if strings.Contains(strings.ToLower(body), "nœud") {
		t.Error("the page speaks of a node")
	}
	m := regexp.MustCompile(`name="service" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no service to tick")
	}
	code, _, body := fetchPage(t, c, "POST", page, url.Values{"csrf": {formToken(t, c, page)}, "service": {m[1]}})
	if code != 200 || !strings.Contains(body, "Vos choix sont enregistrés.") {
		t.Errorf("save = %d", code)
	}
	if p, _ := n.Node().Notify.Prefs(ctx, worker.ID); !slices.Equal(p.Services, []string{m[1]}) || p.Mode(notify.TopicReviews) != notify.Digest || p.DigestHour != 8 {
		t.Errorf("saved prefs %+v", p)
	}
}

// The unsubscribe link needs no login: opening it asks and changes
// nothing; the button, or a mail program's one-click POST, turns the
// topic off; an altered link is refused and changes nothing.
func TestUnsubscribe(t *testing.T) {
	w := startMailWorld(t)
	ctx := context.Background()
	worker := userByEmail(t, w.b, "worker@node2.test")
	nt := w.b.Node().Notify
	link := func(topic notify.Topic) string {
		return w.b.URL + "/unsubscribe?" + url.Values{"u": {worker.ID}, "k": {string(topic)}, "s": {nt.UnsubscribeToken(worker.ID, topic)}}.Encode()
	}
	anon := &http.Client{CheckRedirect: noRedirect}
	mode := func(topic notify.Topic) notify.Mode {
		p, err := nt.Prefs(ctx, worker.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Mode(topic)
	}

	code, _, body := fetchPage(t, anon, "GET", link(notify.TopicReceived), nil)
	if code != 200 || !strings.Contains(body, "Ne plus recevoir les e-mails « Orientations reçues » ?") {
		t.Errorf("open the link = %d:\n%s", code, body)
	}
	if mode(notify.TopicReceived) != notify.Now {
		t.Fatal("opening the link turned the topic off")
	}
	form := url.Values{}
	u, _ := url.Parse(link(notify.TopicReceived))
	for k, v := range u.Query() {
		form[k] = v
	}
	code, _, body = fetchPage(t, anon, "POST", w.b.URL+"/unsubscribe", form)
	if code != 200 || !strings.Contains(body, "Vous ne recevrez plus les e-mails « Orientations reçues ».") || !strings.Contains(body, `href="/settings/notifications"`) {
		t.Errorf("the button = %d:\n%s", code, body)
	}
	if mode(notify.TopicReceived) != notify.Off || mode(notify.TopicAnswers) != notify.Now {
		t.Errorf("after the button: received %s, answers %s", mode(notify.TopicReceived), mode(notify.TopicAnswers))
	}

	// RFC 8058: the mail program posts to the link itself, from
	// anywhere, without a form token.
	req, _ := http.NewRequest("POST", link(notify.TopicAnswers), strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://webmail.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := anon.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || mode(notify.TopicAnswers) != notify.Off {
		t.Errorf("one-click = %d, answers %s", resp.StatusCode, mode(notify.TopicAnswers))
	}

	s := nt.UnsubscribeToken(worker.ID, notify.TopicReminders)
	for _, bad := range []url.Values{
		{"u": {worker.ID}, "k": {"reminders"}, "s": {s[:len(s)-2] + "xx"}},
		{"u": {worker.ID}, "k": {"withdrawals"}, "s": {s}},
		{"u": {"someone-else"}, "k": {"reminders"}, "s": {s}},
		{"u": {worker.ID}, "k": {"reminders"}},
	} {
		code, _, body := fetchPage(t, anon, "GET", w.b.URL+"/unsubscribe?"+bad.Encode(), nil)
		if code != http.StatusBadRequest || !strings.Contains(body, "Ce lien de désabonnement n’est pas valable") {
			t.Errorf("GET %v = %d", bad, code)
		}
		if code, _, _ := fetchPage(t, anon, "POST", w.b.URL+"/unsubscribe?"+bad.Encode(), url.Values{"List-Unsubscribe": {"One-Click"}}); code != http.StatusBadRequest {
			t.Errorf("POST %v = %d, want 400", bad, code)
		}
	}
	if mode(notify.TopicReminders) != notify.Now || mode(notify.TopicWithdrawals) != notify.Now {
		t.Error("an altered link changed a topic")
	}
}

// The pages of a person's notifications need a login; the e-mail page
// is the admins'; the unsubscribe link needs none.
func TestNotificationPagesAccess(t *testing.T) {
	w := startMailWorld(t, "worker@node2.test")
	anon := &http.Client{CheckRedirect: noRedirect}
	for _, path := range []string{"/notifications", "/settings/notifications", "/admin/mail"} {
		code, to, _ := fetchPage(t, anon, "GET", w.b.URL+path, nil)
		if code != http.StatusSeeOther || !strings.HasPrefix(to, "/login?next=") {
			t.Errorf("a visitor at %s: %d %q", path, code, to)
		}
	}
	if code, _, _ := fetchPage(t, anon, "GET", w.b.URL+"/unsubscribe", nil); code != http.StatusBadRequest {
		t.Errorf("a visitor at /unsubscribe without a link: %d, want 400", code)
	}
	worker := pageClient(t, w.b, "worker@node2.test", "worker-password")
	if code, _, _ := fetchPage(t, worker, "GET", w.b.URL+"/admin/mail", nil); code != http.StatusForbidden {
		t.Errorf("a worker at /admin/mail: %d, want 403", code)
	}

	// The admin sees the mail refused to the worker, and sends a test.
	admin := pageClient(t, w.b, w.b.AdminEmail, w.b.AdminPassword)
	var body string
	waitUntil(t, "the worker's mail given up", func() bool {
		_, _, body = fetchPage(t, admin, "GET", w.b.URL+"/admin/mail", nil)
		return strings.Contains(body, `<table id="failed">`)
	})
	for _, want := range []string{"L’envoi d’e-mails est configuré.", "<td>notification</td>", "550 mailbox unavailable", "Envoyer un e-mail de test"} {
		if !strings.Contains(body, want) {
			t.Errorf("the e-mail page does not show %q", want)
		}
	}
	if strings.Contains(body, "worker@node2.test") {
		t.Error("the e-mail page shows the address of a failed mail")
	}
	if _, _, home := fetchPage(t, admin, "GET", w.b.URL+"/admin", nil); !strings.Contains(home, `href="/admin/mail"`) || strings.Contains(home, `id="mail-off"`) {
		t.Error("the admin home does not link to the e-mail page, or says e-mail is off")
	}
	code, to, _ := fetchPage(t, admin, "POST", w.b.URL+"/admin/mail/test", url.Values{"csrf": {formToken(t, admin, w.b.URL+"/admin/mail")}})
	if code != http.StatusSeeOther || to != "/admin/mail?test=queued" {
		t.Errorf("send a test = %d to %q", code, to)
	}
	waitUntil(t, "the test mail", func() bool {
		for _, m := range w.box.to(w.b.AdminEmail) {
			if m.Subject == "E-mail de test : l’envoi fonctionne" {
				return true
			}
		}
		return false
	})
}

// Without e-mail, the admin's pages say so and a test cannot be sent.
func TestAdminMailOff(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	admin := pageClient(t, n, n.AdminEmail, n.AdminPassword)
	if _, _, home := fetchPage(t, admin, "GET", n.URL+"/admin", nil); !strings.Contains(home, `id="mail-off"`) {
		t.Error("the admin home does not say e-mail is off")
	}
	_, _, body := fetchPage(t, admin, "GET", n.URL+"/admin/mail", nil)
	if !strings.Contains(body, "L’envoi d’e-mails n’est pas configuré") || strings.Contains(body, `action="/admin/mail/test"`) {
		t.Error("the e-mail page does not say e-mail is off, or offers a test")
	}
	code, _, body := fetchPage(t, admin, "POST", n.URL+"/admin/mail/test", url.Values{"csrf": {formToken(t, admin, n.URL+"/admin")}})
	if code != http.StatusConflict || !strings.Contains(body, "aucun e-mail de test ne peut partir") {
		t.Errorf("a test without e-mail = %d", code)
	}
}
