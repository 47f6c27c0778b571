package web_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/notify"
)

// pwSite is one node with e-mail on, seen by a browser without
// JavaScript (an HTTP client with cookies that does not follow
// redirects).
type pwSite struct {
	n   *nodetest.Node
	box *mailbox
}

func startPasswordSite(t *testing.T, mail bool) *pwSite {
	t.Helper()
	// The clock runs from now: the browser keeps the session cookie only
	// until its expiry as the clock sets it.
	start := time.Now().UTC().Truncate(time.Second)
	box := &mailbox{}
	opts := nodetest.Options{Clock: &start}
	if mail {
		opts.Configure = func(c *node.Config) { c.Mailer, c.NotifyEvery = box, 100*time.Millisecond }
	}
	return &pwSite{n: nodetest.Start(t, 1, opts)[0], box: box}
}

func (s *pwSite) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: noRedirect}
}

// addWorker adds a worker with a password through the API.
func (s *pwSite) addWorker(t *testing.T, email string) {
	t.Helper()
	if r := s.n.Do("POST", "/api/v1/users", s.n.AdminToken(), `{"email": "`+email+`", "role": "worker", "password": "worker-password-1"}`); r.Status != 201 {
		t.Fatalf("add %s: %d %s", email, r.Status, r.Body)
	}
}

// fetch sends a request with c and returns the status and the body.
func fetch(t *testing.T, c *http.Client, method, target string, form url.Values) (int, string) {
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
	return resp.StatusCode, string(b)
}

var mailLinkRE = regexp.MustCompile(`(/password/reset|/invite)\?t=([A-Za-z0-9_.-]+)`)

// awaitLink waits for the k-th mail to addr (from 1) and returns the
// path of the link it carries, checking the kind of mail.
func (s *pwSite) awaitLink(t *testing.T, addr string, k int, kind notify.MailKind) string {
	t.Helper()
	waitUntil(t, "mail to "+addr, func() bool { return len(s.box.to(addr)) >= k })
	msg := s.box.to(addr)[k-1]
	if !strings.HasPrefix(msg.ID, string(kind)+"/") {
		t.Errorf("mail %s to %s, want a %s mail", msg.ID, addr, kind)
	}
	m := mailLinkRE.FindString(msg.Text)
	if m == "" || !strings.Contains(msg.Text, s.n.URL+m) {
		t.Fatalf("no link in the mail to %s:\n%s", addr, msg.Text)
	}
	return m
}

// secretOf is the secret of a link's path.
func secretOf(link string) string { return mailLinkRE.FindStringSubmatch(link)[2] }

// The forgot page answers alike for any address, throttles, and a reset
// link works once, for half an hour, and ends every session and token.
func TestPasswordReset(t *testing.T) {
	s := startPasswordSite(t, true)
	n := s.n
	s.addWorker(t, "worker@node1.test")
	s.addWorker(t, "late@node1.test")

	// The worker is logged in in a browser and holds an API token.
	logged := s.client()
	token := formToken(t, logged, n.URL+"/login")
	if code, _ := fetch(t, logged, "POST", n.URL+"/login", url.Values{"csrf": {token}, "email": {"worker@node1.test"}, "password": {"worker-password-1"}}); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	bearer := n.Token("worker@node1.test", "worker-password-1")
	if code, _ := fetch(t, logged, "GET", n.URL+"/api/v1/referrals", nil); code != http.StatusOK {
		t.Fatalf("the session before a reset: %d", code)
	}

	c := s.client()
	if _, page := fetch(t, c, "GET", n.URL+"/login", nil); !strings.Contains(page, `href="/password/forgot"`) {
		t.Error("the login page has no link to the forgotten password page")
	}
	token = formToken(t, c, n.URL+"/password/forgot")
	ask := func(email string) (int, string) {
		return fetch(t, c, "POST", n.URL+"/password/forgot", url.Values{"csrf": {token}, "email": {email}})
	}
	// Both answers also take the same least time, longer than the work.
	t0 := time.Now()
	knownCode, known := ask("Worker@node1.test")
	t1 := time.Now()
	unknownCode, unknown := ask("nobody@node1.test")
	if d0, d1 := t1.Sub(t0), time.Since(t1); d0 < 400*time.Millisecond || d1 < 400*time.Millisecond {
		t.Errorf("answers took %v (known) and %v (unknown), want both at least the floor of 400ms", d0, d1)
	}
	if knownCode != http.StatusOK || unknownCode != knownCode || known != unknown {
		t.Errorf("known address: %d, unknown: %d; the pages differ: %v", knownCode, unknownCode, known != unknown)
	}
	if !strings.Contains(html.UnescapeString(known), "Si un compte existe pour cette adresse, un e-mail avec un lien vient de partir. Le lien est valable 30 minutes.") {
		t.Errorf("the answer does not say a mail may have left:\n%s", known)
	}
	link := s.awaitLink(t, "worker@node1.test", 1, notify.MailReset)
	if got := s.box.to("nobody@node1.test"); len(got) != 0 {
		t.Errorf("%d mails to an address without an account", len(got))
	}

	// Three requests an hour for an address; the fourth is refused, with
	// the wait.
	ask("worker@node1.test")
	ask("worker@node1.test")
	if code, page := ask("worker@node1.test"); code != http.StatusTooManyRequests || !strings.Contains(page, "Réessayez dans 60 minutes") {
		t.Errorf("fourth request for an address: %d, want 429 and the wait:\n%s", code, page)
	}

	// Opening the link, even twice (mail scanners), uses nothing.
	for range 2 {
		if code, page := fetch(t, c, "GET", n.URL+link, nil); code != http.StatusOK || !strings.Contains(page, "worker@node1.test") || !strings.Contains(page, `autocomplete="new-password"`) {
			t.Fatalf("GET the link: %d\n%s", code, page)
		}
	}
	set := func(secret, password, again string) (int, string) {
		return fetch(t, c, "POST", n.URL+"/password/reset", url.Values{"csrf": {token}, "t": {secret}, "password": {password}, "password2": {again}})
	}
	secret := secretOf(link)
	if code, page := set(secret, "a-brand-new-password", "a-brand-new-passwort"); code != http.StatusBadRequest || !strings.Contains(page, "ne sont pas identiques") {
		t.Errorf("two different passwords: %d\n%s", code, page)
	}
	if code, page := set(secret, "short", "short"); code != http.StatusBadRequest || !strings.Contains(page, "au moins 10 caractères") {
		t.Errorf("a short password: %d\n%s", code, page)
	}
	code, page := set(secret, "a-brand-new-password", "a-brand-new-password")
	if code != http.StatusOK || !strings.Contains(page, `action="/login"`) || !strings.Contains(page, `value="worker@node1.test"`) {
		t.Fatalf("reset: %d, want the login form with the address filled in:\n%s", code, page)
	}
	if code, page := set(secret, "yet-another-password", "yet-another-password"); code != http.StatusGone || !strings.Contains(page, `href="/password/forgot"`) {
		t.Errorf("the link used again: %d, want 410 and a way to ask again:\n%s", code, page)
	}
	if code, _ := fetch(t, c, "GET", n.URL+link, nil); code != http.StatusGone {
		t.Errorf("GET a used link: %d, want 410", code)
	}

	// The old session and the old API token are refused; the new
	// password works.
	if code, _ := fetch(t, logged, "GET", n.URL+"/api/v1/referrals", nil); code != http.StatusUnauthorized {
		t.Errorf("the old session after a reset: %d, want 401", code)
	}
	if r := n.Do("GET", "/api/v1/referrals", bearer, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the old API token after a reset: %d, want 401", r.Status)
	}
	n.Token("worker@node1.test", "a-brand-new-password")

	// A link is valid half an hour.
	ask("late@node1.test")
	late := s.awaitLink(t, "late@node1.test", 1, notify.MailReset)
	n.Clock.Advance(30 * time.Minute)
	if code, _ := fetch(t, c, "GET", n.URL+late, nil); code != http.StatusGone {
		t.Errorf("GET a link after 30 minutes: %d, want 410", code)
	}
	if code, _ := set(secretOf(late), "a-brand-new-password", "a-brand-new-password"); code != http.StatusGone {
		t.Errorf("a link used after 30 minutes: %d, want 410", code)
	}

	// The audit log has who asked and who changed a password, without an
	// address or a link.
	var audit struct{ Entries []referral.AuditEntry }
	r := n.Do("GET", "/api/v1/audit", n.AdminToken(), nil)
	r.JSON(t, &audit)
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "password-reset-requested password-reset-requested password-reset-requested password-reset password-reset-requested" {
		t.Errorf("audit actions: %s", got)
	}
	if body := string(r.Body); strings.Contains(body, "@node1.test") || strings.Contains(body, secret) {
		t.Errorf("the audit log names an address or a link: %s", body)
	}
}

// Without e-mail, the forgot page says so and has no form.
func TestPasswordForgotWithoutMail(t *testing.T) {
	s := startPasswordSite(t, false)
	c := s.client()
	for _, method := range []string{"GET", "POST"} {
		var form url.Values
		if method == "POST" {
			form = url.Values{"csrf": {formToken(t, c, s.n.URL+"/login")}, "email": {s.n.AdminEmail}}
		}
		code, page := fetch(t, c, method, s.n.URL+"/password/forgot", form)
		if code != http.StatusOK || !strings.Contains(html.UnescapeString(page), "Demandez à l’administrateur de votre association") || strings.Contains(page, `action="/password/forgot"`) {
			t.Errorf("%s /password/forgot without e-mail: %d\n%s", method, code, page)
		}
	}
	if code, _ := fetch(t, c, "GET", s.n.URL+"/password/reset?t=reset-00.xx", nil); code != http.StatusGone {
		t.Errorf("GET a made-up link: %d, want 410", code)
	}
}

// An admin invites by e-mail; the account cannot log in until the
// person chooses a password through the link; a resent invitation ends
// the first link.
func TestInvite(t *testing.T) {
	s := startPasswordSite(t, true)
	n := s.n
	admin := s.client()
	token := formToken(t, admin, n.URL+"/login")
	if code, _ := fetch(t, admin, "POST", n.URL+"/login", url.Values{"csrf": {token}, "email": {n.AdminEmail}, "password": {n.AdminPassword}}); code != http.StatusSeeOther {
		t.Fatalf("admin login: %d", code)
	}
	if _, page := fetch(t, admin, "GET", n.URL+"/admin/users", nil); !strings.Contains(page, `action="/admin/users/invite"`) || !strings.Contains(page, `action="/admin/users"`) {
		t.Fatalf("the accounts page offers no invitation, or no longer the form with a password:\n%s", page)
	}
	invite := func(email string) (int, string) {
		return fetch(t, admin, "POST", n.URL+"/admin/users/invite", url.Values{"csrf": {token}, "email": {email}, "name": {"Nouvelle Collègue"}, "role": {"worker"}})
	}
	if code, page := invite(n.AdminEmail); code != http.StatusConflict || !strings.Contains(page, "Un compte existe déjà pour cette adresse") {
		t.Errorf("invite an existing account: %d\n%s", code, page)
	}
	if code, page := invite("pas une adresse"); code != http.StatusBadRequest || !strings.Contains(page, "invite-problems") {
		t.Errorf("invite a wrong address: %d\n%s", code, page)
	}
	code, _ := invite("new@node1.test")
	if code != http.StatusSeeOther {
		t.Fatalf("invite: %d", code)
	}
	first := s.awaitLink(t, "new@node1.test", 1, notify.MailInvite)
	_, page := fetch(t, admin, "GET", n.URL+"/admin/users?invited="+userByEmail(t, n, "new@node1.test").ID, nil)
	page = html.UnescapeString(page)
	if !strings.Contains(page, "Invitation envoyée à new@node1.test.") || !strings.Contains(page, "invitation envoyée le ") {
		t.Errorf("the accounts page does not show the invitation sent and pending:\n%s", page)
	}

	// Nobody logs in to the invited account, with any password.
	for _, pw := range []string{"", "worker-password-1"} {
		if r := n.Do("POST", "/api/v1/token", "", map[string]string{"email": "new@node1.test", "password": pw}); r.Status != http.StatusUnauthorized {
			t.Errorf("token for a pending account with %q: %d, want 401", pw, r.Status)
		}
	}

	// Resending ends the first link.
	id := userByEmail(t, n, "new@node1.test").ID
	if code, _ := fetch(t, admin, "POST", n.URL+"/admin/users/"+id+"/invite", url.Values{"csrf": {token}}); code != http.StatusSeeOther {
		t.Fatalf("resend: %d", code)
	}
	second := s.awaitLink(t, "new@node1.test", 2, notify.MailInvite)
	c := s.client()
	if code, _ := fetch(t, c, "GET", n.URL+first, nil); code != http.StatusGone {
		t.Errorf("GET the first link after a resend: %d, want 410", code)
	}
	code, page = fetch(t, c, "GET", n.URL+second, nil)
	if code != http.StatusOK || !strings.Contains(page, "Nouvelle Collègue") || !strings.Contains(page, "new@node1.test") {
		t.Fatalf("GET the invitation: %d\n%s", code, page)
	}
	token = formToken(t, c, n.URL+second)
	accept := func(password string) (int, string) {
		return fetch(t, c, "POST", n.URL+"/invite", url.Values{"csrf": {token}, "t": {secretOf(second)}, "password": {password}, "password2": {password}})
	}
	if code, _ := accept("short"); code != http.StatusBadRequest {
		t.Errorf("accept with a short password: %d, want 400", code)
	}
	code, page = accept("the-chosen-password")
	if code != http.StatusOK || !strings.Contains(page, `value="new@node1.test"`) {
		t.Fatalf("accept: %d\n%s", code, page)
	}
	if code, _ := accept("another-password-1"); code != http.StatusGone {
		t.Errorf("accept twice: %d, want 410", code)
	}
	n.Token("new@node1.test", "the-chosen-password")
	if _, page := fetch(t, admin, "GET", n.URL+"/admin/users", nil); strings.Contains(page, "/admin/users/"+id+"/invite") {
		t.Error("the accounts page offers to resend an accepted invitation")
	}
	// The audit page names the admin who invited and the account.
	_, page = fetch(t, admin, "GET", n.URL+"/admin/audit", nil)
	if !strings.Contains(page, "invitation envoyée") || !strings.Contains(page, "invitation acceptée") || !strings.Contains(page, "new@node1.test") {
		t.Errorf("the audit page lacks the invitation:\n%s", page)
	}
}
