package notify_test

import (
	"context"
	"encoding/json"
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

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/notify"
)

// End to end: real nodes on loopback, talking ActivityPub, each sending
// its e-mails to one real SMTP server (Mailpit), whose API the tests
// read.

// The resident's name and situation: they must never be in a mail.
const (
	residentName      = "Quetzalia-Vorbrook-5521"
	residentSituation = "Situation-Marqueur-7734"
)

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// mailNodes starts k nodes sending e-mail through mp.
func mailNodes(t *testing.T, mp *nodetest.Mailpit, k int, clock *time.Time) []*nodetest.Node {
	t.Helper()
	return nodetest.Start(t, k, nodetest.Options{Clock: clock, Configure: func(c *node.Config) {
		c.SMTP = notify.SMTPConfig{URL: mp.SMTPURL(), From: "Maillage <ne-pas-repondre@maillage.test>"}
		c.NotifyEvery = 100 * time.Millisecond
		c.MailRetry = 200 * time.Millisecond
		c.SweepEvery = 100 * time.Millisecond
	}})
}

type staff struct{ ID, Email string }

func addStaff(t *testing.T, n *nodetest.Node, name, role string) staff {
	t.Helper()
	email := name + "@" + n.Name + ".test"
	resp := n.Do("POST", "/api/v1/users", n.AdminToken(), map[string]string{"email": email, "name": name, "role": role, "password": "a-long-password-" + name})
	if resp.Status != http.StatusCreated {
		t.Fatalf("add %s on %s: %d %s", name, n.Name, resp.Status, resp.Body)
	}
	var u struct{ ID string }
	resp.JSON(t, &u)
	return staff{u.ID, email}
}

func setPrefs(t *testing.T, n *nodetest.Node, user string, change func(*notify.Prefs)) {
	t.Helper()
	ctx := context.Background()
	p, err := n.Node().Notify.Prefs(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	change(p)
	if err := n.Node().Notify.SetPrefs(ctx, p); err != nil {
		t.Fatal(err)
	}
}

func handleOf(n *nodetest.Node) string { return "@" + n.Name + "@" + n.Addr }

// partner makes a and b partners through their admins' API.
func partner(t *testing.T, a, b *nodetest.Node) {
	t.Helper()
	if resp := a.Do("POST", "/api/v1/partners", a.AdminToken(), map[string]string{"actor": handleOf(b)}); resp.Status != http.StatusAccepted {
		t.Fatalf("partner request %s→%s: %d %s", a.Name, b.Name, resp.Status, resp.Body)
	}
	type rel struct{ ID, Actor, State string }
	find := func(n *nodetest.Node, actor string) rel {
		var rels struct{ Partners []rel }
		n.Do("GET", "/api/v1/partners", n.AdminToken(), nil).JSON(t, &rels)
		for _, r := range rels.Partners {
			if r.Actor == actor {
				return r
			}
		}
		return rel{}
	}
	var r rel
	eventually(t, b.Name+" sees the request", func() bool { r = find(b, a.URL+"/actor"); return r.State == "pending" })
	if resp := b.Do("POST", "/api/v1/partners/"+r.ID+"/accept", b.AdminToken(), nil); resp.Status != http.StatusOK {
		t.Fatalf("accept: %d %s", resp.Status, resp.Body)
	}
	eventually(t, "partners on both sides", func() bool {
		return find(a, b.URL+"/actor").State == "partner" && find(b, a.URL+"/actor").State == "partner"
	})
}

// referralService creates on b a service taking referrals and waits
// until a holds it; it returns the service's local id and URI.
func referralService(t *testing.T, a, b *nodetest.Node, name string) (string, string) {
	t.Helper()
	resp := b.Do("POST", "/api/v1/services", b.AdminToken(), `{"name": "`+name+`", "status": "active",
	  "translations": {"nl": {"name": "`+name+` (NL)"}},
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact", "situation"]}}`)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	uri := b.URL + "/services/" + svc.ID
	eventually(t, a.Name+" has the service", func() bool {
		_, err := a.Node().Store.PartnerService(context.Background(), uri)
		return err == nil
	})
	return svc.ID, uri
}

func refer(t *testing.T, a *nodetest.Node, uri, worker string) *referral.Referral {
	t.Helper()
	given := time.Now().Add(-time.Minute)
	if a.Clock != nil {
		given = a.Clock.Now().Add(-time.Minute)
	}
	r, err := a.Node().Refer(context.Background(), uri, referral.Request{
		Resident: json.RawMessage(`{"name": "` + residentName + `", "email": "quetzalia@example.org", "situation": "` + residentSituation + `"}`),
		Consent: referral.ConsentInput{Method: referral.OnScreen, Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact, directory.DataSituation},
			NoticeVersion: "2026-11", NoticeHash: strings.Repeat("ab", 32), NoticeLang: "fr", GivenAt: given},
		Worker: worker,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mailsTo returns the messages to an address, oldest first.
func mailsTo(t *testing.T, mp *nodetest.Mailpit, addr string) []nodetest.MailpitMessage {
	var out []nodetest.MailpitMessage
	for _, m := range mp.Messages(t) {
		for _, to := range m.To {
			if to.Address == addr {
				out = append(out, m)
			}
		}
	}
	slices.Reverse(out) // Mailpit lists the newest first
	return out
}

// waitMail waits until addr has received n messages, and returns them.
func waitMail(t *testing.T, mp *nodetest.Mailpit, addr string, n int) []nodetest.MailpitMessage {
	t.Helper()
	var got []nodetest.MailpitMessage
	eventually(t, "mail to "+addr, func() bool { got = mailsTo(t, mp, addr); return len(got) >= n })
	return got
}

// A referral A→B mails B's team, and only them; B's answer mails A's
// worker; the withdrawal mails both; the partnership mailed both admins.
// No message anywhere holds the resident's name or situation.
func TestReferralMailsBetweenNodes(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	nodes := mailNodes(t, mp, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	partner(t, a, b)
	partner(t, c, b)
	ctx := context.Background()

	// The partnerships: B's admin was asked by A and C, and told each
	// began; A's and C's admins told theirs began.
	var subjects []string
	for _, m := range waitMail(t, mp, b.AdminEmail, 4) {
		subjects = append(subjects, m.Subject)
	}
	slices.Sort(subjects) // Mailpit orders mails of the same millisecond as it likes
	want := []string{
		"Association node1 demande un partenariat avec votre association",
		"Association node1 et votre association sont maintenant partenaires",
		"Association node3 demande un partenariat avec votre association",
		"Association node3 et votre association sont maintenant partenaires",
	}
	if !slices.Equal(subjects, want) {
		t.Errorf("B's admin's mails:\n got %q\nwant %q", subjects, want)
	}
	if m := waitMail(t, mp, a.AdminEmail, 1); m[0].Subject != "Association node2 et votre association sont maintenant partenaires" {
		t.Errorf("A's admin: %q", m[0].Subject)
	}

	wa := addStaff(t, a, "amina", "worker")
	w1 := addStaff(t, b, "wout", "worker")
	w2 := addStaff(t, b, "zoe", "worker")
	svc, uri := referralService(t, a, b, "Permanence logement")
	setPrefs(t, b, w1.ID, func(p *notify.Prefs) { p.Services = []string{svc}; p.Lang = "nl" })

	r := refer(t, a, uri, wa.ID)
	got := waitMail(t, mp, w1.Email, 1)
	ref := r.Reference()
	full := mp.Message(t, got[0].ID)
	if !strings.Contains(full.Subject, ref) || !strings.Contains(full.Text, "Permanence logement (NL)") ||
		!strings.Contains(full.Text, b.URL+"/referrals/"+referral.Handle(r.ID)) || !strings.Contains(full.Text, "Association node1") {
		t.Errorf("the team's mail (Dutch, with the reference, the service, the sender and the link):\n%s\n%s", full.Subject, full.Text)
	}
	if len(full.Headers["List-Unsubscribe"]) != 1 {
		t.Errorf("no List-Unsubscribe: %v", full.Headers)
	}
	if k, _ := b.Node().Notify.Unread(ctx, w1.ID); k != 1 {
		t.Errorf("w1 has %d unread notifications, want 1", k)
	}

	if _, err := b.Node().MoveReferral(ctx, r.ID, referral.Accepted, "", w1.ID); err != nil {
		t.Fatal(err)
	}
	answer := waitMail(t, mp, wa.Email, 1)
	if !strings.Contains(answer[0].Subject, ref) {
		t.Errorf("the answer's subject: %q", answer[0].Subject)
	}
	if _, err := a.Node().WithdrawReferral(ctx, r.ID, wa.ID); err != nil {
		t.Fatal(err)
	}
	waitMail(t, mp, w1.Email, 2) // the data was erased at B
	waitMail(t, mp, wa.Email, 2) // B acknowledged
	time.Sleep(500 * time.Millisecond)
	// Nobody else heard of the referral: not zoe (wout handles the
	// service), not B's admin, nobody at C.
	if m := mailsTo(t, mp, w2.Email); len(m) != 0 {
		t.Errorf("zoe got %d mails", len(m))
	}
	if m := mailsTo(t, mp, b.AdminEmail); len(m) != 4 {
		t.Errorf("B's admin got %d mails, want the 4 about partnerships", len(m))
	}
	if m := mailsTo(t, mp, c.AdminEmail); len(m) != 1 {
		t.Errorf("C's admin got %d mails, want 1 (its partnership began)", len(m))
	}
	if m := mailsTo(t, mp, w1.Email); len(m) != 2 {
		t.Errorf("wout got %d mails, want 2", len(m))
	}
	// The leak test: every message, headers and bodies.
	for _, m := range mp.Messages(t) {
		raw := mp.Raw(t, m.ID)
		for _, secret := range []string{residentName, residentSituation, "quetzalia@example.org"} {
			if strings.Contains(raw, secret) {
				t.Errorf("a mail to %v holds the resident's data (%s)", m.To, secret)
			}
		}
		if len(m.Bcc) > 0 || len(m.To) != 1 {
			t.Errorf("a mail with recipients %v, bcc %v", m.To, m.Bcc)
		}
	}
}

// Reminders and expiry warnings come on the nodes' clocks: the team after
// 10 days, both sides 3 days before expiry (30 days), once each.
func TestRemindersByMail(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	start := time.Now()
	nodes := mailNodes(t, mp, 2, &start)
	a, b := nodes[0], nodes[1]
	partner(t, a, b)
	wa := addStaff(t, a, "amina", "worker")
	wb := addStaff(t, b, "wout", "worker")
	_, uri := referralService(t, a, b, "Permanence")
	r := refer(t, a, uri, wa.ID)
	waitMail(t, mp, wb.Email, 1)
	advance := func(d time.Duration) {
		a.Clock.Advance(d)
		b.Clock.Advance(d)
	}
	advance(10*24*time.Hour + time.Hour)
	reminder := waitMail(t, mp, wb.Email, 2)[1]
	if !strings.Contains(reminder.Subject, r.Reference()) {
		t.Errorf("reminder: %q", reminder.Subject)
	}
	advance(17 * 24 * time.Hour) // 27 days and an hour: expires in less than 3 days
	warnA := waitMail(t, mp, wa.Email, 1)[0]
	warnB := waitMail(t, mp, wb.Email, 3)[2]
	for _, m := range []nodetest.MailpitMessage{warnA, warnB} {
		if !strings.Contains(m.Subject, r.Reference()) {
			t.Errorf("expiry warning: %q", m.Subject)
		}
	}
	advance(time.Hour)
	time.Sleep(time.Second)
	if k := len(mailsTo(t, mp, wb.Email)); k != 3 {
		t.Errorf("B's worker got %d mails, want 3 (arrival, reminder, warning)", k)
	}
	if k := len(mailsTo(t, mp, wa.Email)); k != 1 {
		t.Errorf("A's worker got %d mails, want 1 (warning)", k)
	}
}

// A digest gathers the day's referrals in one mail at the chosen hour,
// and an unsubscribe link stops that kind of mail without logging in.
func TestDigestAndUnsubscribeByMail(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	monday := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC) // 6:00 in Brussels
	nodes := mailNodes(t, mp, 2, &monday)
	a, b := nodes[0], nodes[1]
	partner(t, a, b)
	wa := addStaff(t, a, "amina", "worker")
	wb := addStaff(t, b, "wout", "worker")
	_, uri := referralService(t, a, b, "Permanence")
	setPrefs(t, b, wb.ID, func(p *notify.Prefs) {
		p.Modes = map[notify.Topic]notify.Mode{notify.TopicReceived: notify.Digest}
		p.DigestHour = 7
	})
	r1, r2 := refer(t, a, uri, wa.ID), refer(t, a, uri, wa.ID)
	ctx := context.Background()
	eventually(t, "both referrals listed for wout", func() bool {
		k, _ := b.Node().Notify.Unread(ctx, wb.ID)
		return k == 2
	})
	time.Sleep(500 * time.Millisecond)
	if m := mailsTo(t, mp, wb.Email); len(m) != 0 {
		t.Fatalf("mails before the digest hour: %d", len(m))
	}
	b.Clock.Advance(time.Hour + time.Minute) // 7:01 in Brussels
	a.Clock.Advance(time.Hour + time.Minute)
	digest := waitMail(t, mp, wb.Email, 1)[0]
	text := mp.Message(t, digest.ID).Text
	if !strings.Contains(text, r1.Reference()) || !strings.Contains(text, r2.Reference()) {
		t.Errorf("the digest lists both referrals:\n%s", text)
	}

	// wout goes back to a mail per referral, then unsubscribes in one
	// click from the first one.
	setPrefs(t, b, wb.ID, func(p *notify.Prefs) { p.Modes = nil })
	refer(t, a, uri, wa.ID)
	m := waitMail(t, mp, wb.Email, 2)[1]
	full := mp.Message(t, m.ID)
	if post := full.Headers["List-Unsubscribe-Post"]; len(post) != 1 || post[0] != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post: %q", post)
	}
	link := strings.Trim(full.Headers["List-Unsubscribe"][0], "<>")
	u, err := url.Parse(link)
	if err != nil || u.Host != b.Addr {
		t.Fatalf("unsubscribe link %q: %v", link, err)
	}
	tampered := strings.Replace(link, "k=received", "k=answers", 1)
	for _, bad := range []string{tampered, link + "x"} {
		resp, err := http.Post(bad, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a tampered link answered %d", resp.StatusCode)
		}
	}
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click unsubscribe: %d", resp.StatusCode)
	}
	if p, _ := b.Node().Notify.Prefs(ctx, wb.ID); p.Mode(notify.TopicReceived) != notify.Off || p.Mode(notify.TopicReminders) != notify.Now {
		t.Errorf("after unsubscribing: %+v", p.Modes)
	}
	refer(t, a, uri, wa.ID)
	eventually(t, "the fourth referral listed", func() bool {
		k, _ := b.Node().Notify.Unread(ctx, wb.ID)
		return k == 4
	})
	time.Sleep(time.Second)
	if k := len(mailsTo(t, mp, wb.Email)); k != 2 {
		t.Errorf("wout got %d mails after unsubscribing, want 2", k)
	}
}

// The SMTP server down: mails wait and are tried again; once it is back,
// every owed mail arrives once.
func TestSMTPDownThenUp(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	nodes := mailNodes(t, mp, 2, nil)
	a, b := nodes[0], nodes[1]
	partner(t, a, b)
	wa := addStaff(t, a, "amina", "worker")
	wb := addStaff(t, b, "wout", "worker")
	_, uri := referralService(t, a, b, "Permanence")
	mp.DeleteAll(t)
	mp.Stop(t)
	var refs []string
	for range 3 {
		refs = append(refs, refer(t, a, uri, wa.ID).Reference())
	}
	ctx := context.Background()
	eventually(t, "three mails tried and waiting", func() bool {
		q, _, err := b.Node().Notify.Mails(ctx, 10)
		if err != nil || len(q) != 3 {
			return false
		}
		for _, m := range q {
			if m.Attempts == 0 {
				return false
			}
		}
		return true
	})
	// The referrals themselves were not held up.
	for _, ref := range refs {
		if ref == "" {
			t.Error("a referral without its reference")
		}
	}
	mp.Start(t)
	got := waitMail(t, mp, wb.Email, 3)
	time.Sleep(time.Second)
	got = mailsTo(t, mp, wb.Email)
	var subjects []string
	for _, m := range got {
		subjects = append(subjects, m.Subject)
	}
	for _, ref := range refs {
		k := 0
		for _, s := range subjects {
			if strings.Contains(s, ref) {
				k++
			}
		}
		if k != 1 {
			t.Errorf("referral %s: %d mails, want 1 (%q)", ref, k, subjects)
		}
	}
	if q, failed, _ := b.Node().Notify.Mails(ctx, 10); len(q)+len(failed) != 0 {
		t.Errorf("left: %d queued, %d failed", len(q), len(failed))
	}
	// The admin's metrics tell the story: retries, then mails sent, none
	// given up.
	metrics := string(b.Do("GET", "/metrics", "", nil).Body)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^maillage_mail_retries_total [1-9]`),
		regexp.MustCompile(`(?m)^maillage_mail_sent_total\{kind="event"\} [3-9]`),
		regexp.MustCompile(`(?m)^maillage_mail_failed_total 0$`),
		regexp.MustCompile(`(?m)^maillage_mail_queued 0$`),
	} {
		if !want.MatchString(metrics) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// session is a logged-in browser without a browser: a cookie jar and the
// form token of the last page.
type session struct {
	c    *http.Client
	base string
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func logIn(t *testing.T, n *nodetest.Node, email, password string) *session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &session{c: &http.Client{Jar: jar}, base: n.URL}
	s.get(t, "/login")
	if code, body := s.post(t, "/login", url.Values{"email": {email}, "password": {password}}); code != http.StatusOK || !strings.Contains(body, "logout") {
		t.Fatalf("log in as %s: %d", email, code)
	}
	return s
}

func (s *session) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := s.c.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		s.csrf = html.UnescapeString(string(m[1]))
	}
	return resp.StatusCode, string(b)
}

func (s *session) post(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	form.Set("csrf", s.csrf)
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.base)
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		s.csrf = html.UnescapeString(string(m[1]))
	}
	return resp.StatusCode, string(b)
}

// The consent receipt goes by e-mail to the resident when they ask, from
// the node that collected the consent only, with the PDF; it is the one
// mail that holds anything of the resident.
func TestReceiptMailedOnRequest(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	nodes := mailNodes(t, mp, 2, nil)
	a, b := nodes[0], nodes[1]
	partner(t, a, b)
	wa := addStaff(t, a, "amina", "worker")
	wb := addStaff(t, b, "wout", "worker")
	_, uri := referralService(t, a, b, "Permanence")
	r := refer(t, a, uri, wa.ID)
	waitMail(t, mp, wb.Email, 1)
	handle := referral.Handle(r.ID)

	sa := logIn(t, a, wa.Email, "a-long-password-amina")
	code, page := sa.get(t, "/api/v1/referrals/"+handle+"/receipt")
	if code != http.StatusOK || !strings.Contains(page, "/receipt/mail") {
		t.Fatalf("the receipt page offers no e-mail: %d", code)
	}
	code, page = sa.post(t, "/referrals/"+handle+"/receipt/mail", url.Values{})
	if code != http.StatusOK || !strings.Contains(page, `id="mail"`) {
		t.Fatalf("mail the receipt: %d\n%s", code, page)
	}
	got := waitMail(t, mp, "quetzalia@example.org", 1)
	full := mp.Message(t, got[0].ID)
	if len(full.Attachments) != 1 || full.Attachments[0].ContentType != "application/pdf" || full.Attachments[0].Size < 1000 {
		t.Errorf("the receipt's attachment: %+v", full.Attachments)
	}
	if !strings.Contains(full.Subject, r.Reference()) || !strings.Contains(full.Text, "Association node1") {
		t.Errorf("the receipt mail (French, the notice's language): %s\n%s", full.Subject, full.Text)
	}
	if strings.Contains(mp.Raw(t, got[0].ID), residentSituation) {
		t.Error("the receipt mail holds the resident's situation")
	}
	// The partner cannot send it: its node did not collect the consent.
	sb := logIn(t, b, wb.Email, "a-long-password-wout")
	if code, page := sb.get(t, "/api/v1/referrals/"+handle+"/receipt"); code != http.StatusNotFound && strings.Contains(page, "/receipt/mail") {
		t.Errorf("the partner's node offers the receipt by e-mail: %d", code)
	}
	sb.get(t, "/referrals/"+handle)
	sb.post(t, "/referrals/"+handle+"/receipt/mail", url.Values{})
	time.Sleep(time.Second)
	if k := len(mailsTo(t, mp, "quetzalia@example.org")); k != 1 {
		t.Errorf("the resident got %d mails, want 1", k)
	}
	// Once withdrawn, nothing can be sent any more.
	if _, err := a.Node().WithdrawReferral(context.Background(), r.ID, wa.ID); err != nil {
		t.Fatal(err)
	}
	if _, page := sa.get(t, "/api/v1/referrals/"+handle+"/receipt"); strings.Contains(page, "/receipt/mail") {
		t.Error("a withdrawn referral's receipt can still be e-mailed")
	}
}

var linkIn = regexp.MustCompile(`http://[^\s"<>]+/(?:password/reset|invite)\?t=[^\s"<>]+`)

// linkOf returns the one reset or invitation link of a mail.
func linkOf(t *testing.T, mp *nodetest.Mailpit, m nodetest.MailpitMessage) string {
	t.Helper()
	full := mp.Message(t, m.ID)
	l := linkIn.FindString(full.Text)
	if l == "" {
		t.Fatalf("no link in the mail %q:\n%s", m.Subject, full.Text)
	}
	return strings.TrimPrefix(l, "http://")
}

// Password reset by e-mail with a real SMTP server: the same answer for
// an unknown address (and no mail), a link that works once, then the new
// password logs in. An invitation by e-mail: the person sets their own
// password.
func TestPasswordResetAndInvitationByMail(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	n := mailNodes(t, mp, 1, nil)[0]
	w := addStaff(t, n, "amina", "worker")
	anon := &session{c: &http.Client{}, base: n.URL}
	jar, _ := cookiejar.New(nil)
	anon.c.Jar = jar
	anon.get(t, "/password/forgot")
	codeKnown, known := anon.post(t, "/password/forgot", url.Values{"email": {w.Email}})
	anon.get(t, "/password/forgot")
	codeUnknown, unknown := anon.post(t, "/password/forgot", url.Values{"email": {"nobody@node1.test"}})
	strip := func(s string) string { return csrfField.ReplaceAllString(s, "") }
	if codeKnown != http.StatusOK || codeKnown != codeUnknown || strip(known) != strip(unknown) {
		t.Errorf("known and unknown addresses answered differently: %d, %d", codeKnown, codeUnknown)
	}
	mail := waitMail(t, mp, w.Email, 1)[0]
	time.Sleep(500 * time.Millisecond)
	if k := len(mailsTo(t, mp, "nobody@node1.test")); k != 0 {
		t.Errorf("a mail went to an unknown address")
	}
	link := linkOf(t, mp, mail)
	path := strings.TrimPrefix(link, n.Addr)
	secret := strings.TrimPrefix(path, "/password/reset?t=")
	if code, _ := anon.get(t, path); code != http.StatusOK {
		t.Fatalf("the link's page: %d", code)
	}
	if code, body := anon.post(t, "/password/reset", url.Values{"t": {secret}, "password": {"un-tout-nouveau-mot"}, "password2": {"un-tout-nouveau-mot"}}); code != http.StatusOK {
		t.Fatalf("reset: %d\n%s", code, body)
	}
	logIn(t, n, w.Email, "un-tout-nouveau-mot")
	anon.get(t, path)
	if code, _ := anon.post(t, "/password/reset", url.Values{"t": {secret}, "password": {"encore-un-autre-mot"}, "password2": {"encore-un-autre-mot"}}); code != http.StatusGone {
		t.Errorf("the link used twice: %d", code)
	}

	// The invitation.
	admin := logIn(t, n, n.AdminEmail, n.AdminPassword)
	admin.get(t, "/admin/users")
	if code, body := admin.post(t, "/admin/users/invite", url.Values{"email": {"nouvelle@node1.test"}, "name": {"Nouvelle"}, "role": {"worker"}}); code != http.StatusOK {
		t.Fatalf("invite: %d\n%s", code, body)
	}
	inv := waitMail(t, mp, "nouvelle@node1.test", 1)[0]
	ipath := strings.TrimPrefix(linkOf(t, mp, inv), n.Addr)
	guest := &session{c: &http.Client{}, base: n.URL}
	jar2, _ := cookiejar.New(nil)
	guest.c.Jar = jar2
	if code, _ := guest.get(t, ipath); code != http.StatusOK {
		t.Fatalf("the invitation's page: %d", code)
	}
	if code, body := guest.post(t, "/invite", url.Values{"t": {strings.TrimPrefix(ipath, "/invite?t=")}, "password": {"mon-propre-mot-de-passe"}, "password2": {"mon-propre-mot-de-passe"}}); code != http.StatusOK {
		t.Fatalf("accept: %d\n%s", code, body)
	}
	logIn(t, n, "nouvelle@node1.test", "mon-propre-mot-de-passe")
}

// A service unchanged for 6 months is put to its admins once, in their
// daily digest by default (the reminder names the version it is about:
// an edit starts the count again).
func TestServiceReviewReminder(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	n := mailNodes(t, mp, 1, &start)[0]
	resp := n.Do("POST", "/api/v1/services", n.AdminToken(), `{"name": "Table de conversation", "status": "active"}`)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	ctx := context.Background()
	users, err := n.Node().Store.Users(ctx)
	if err != nil || len(users) != 1 {
		t.Fatalf("users: %v %v", users, err)
	}
	admin := users[0].ID
	unread := func() int { k, _ := n.Node().Notify.Unread(ctx, admin); return k }
	n.Clock.Advance(181 * 24 * time.Hour)
	time.Sleep(time.Second)
	if k := unread(); k != 0 {
		t.Fatalf("%d notifications before six months", k)
	}
	n.Clock.Advance(2 * 24 * time.Hour) // 183 days; 12:00 in Brussels is past the digest's 8:00
	eventually(t, "the admin told of the service", func() bool { return unread() == 1 })
	list, _, _ := n.Node().Notify.Notifications(ctx, admin, 5)
	if list[0].Event.Kind != notify.ServiceStale || list[0].Event.Service != svc.ID {
		t.Errorf("the notification: %+v", list[0].Event)
	}
	time.Sleep(time.Second)
	if k := len(mailsTo(t, mp, n.AdminEmail)); k != 0 {
		t.Errorf("%d mails before the digest hour", k)
	}
	n.Clock.Advance(20 * time.Hour) // 8:00 the next day
	digest := waitMail(t, mp, n.AdminEmail, 1)[0]
	if full := mp.Message(t, digest.ID); !strings.Contains(full.Text, "Table de conversation") || !strings.Contains(full.Text, "/admin/services/"+svc.ID) {
		t.Errorf("the digest:\n%s", full.Text)
	}
	n.Clock.Advance(24 * time.Hour)
	time.Sleep(time.Second)
	if k := unread(); k != 1 {
		t.Errorf("the same service put again: %d notifications", k)
	}
}
