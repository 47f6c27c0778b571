package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/web/account"
	"github.com/maillage/maillage/web/notify"
)

// mailbox is the edge of the machine: it keeps the messages a node sends.
// Addresses in refuse fail for good, as a server that refuses them.
type mailbox struct {
	mu     sync.Mutex
	msgs   []*notify.Message
	refuse []string
}

func (b *mailbox) Send(_ context.Context, m *notify.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.Contains(b.refuse, m.To) {
		return fmt.Errorf("550 mailbox unavailable: %w", notify.ErrPermanent)
	}
	b.msgs = append(b.msgs, m)
	return nil
}

// to returns the messages sent to an address so far.
func (b *mailbox) to(addr string) []*notify.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*notify.Message
	for _, m := range b.msgs {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// mailWorld is two partner nodes with e-mail on and a referral from a
// worker at A to B's service, whose name is hostile.
type mailWorld struct {
	a, b      *nodetest.Node
	box       *mailbox
	ref       string // the referral's id (its URI)
	handle    string // its handle on both nodes
	reference string // its short reference
	serviceID string // B's service
}

const (
	hostileService = "<script>alert(1)</script> Épicerie"
	residentName   = "Samira Testmarker"
)

func startMailWorld(t *testing.T, refuse ...string) *mailWorld {
	t.Helper()
	box := &mailbox{refuse: refuse}
	nodes := nodetest.Start(t, 2, nodetest.Options{Configure: func(c *node.Config) {
		c.Mailer, c.NotifyEvery = box, 100*time.Millisecond
	}})
	w := &mailWorld{a: nodes[0], b: nodes[1], box: box}
	ta, tb := w.a.AdminToken(), w.b.AdminToken()
	if r := w.a.Do("PUT", "/api/v1/organization", ta, `{"name": "Maison Midi", "translations": {"nl": {"name": "Huis Zuid"}}}`); r.Status != 200 {
		t.Fatalf("organization: %d %s", r.Status, r.Body)
	}
	for _, n := range nodes {
		tok := ta
		if n == w.b {
			tok = tb
		}
		if r := n.Do("POST", "/api/v1/users", tok, `{"email": "worker@`+n.Name+`.test", "role": "worker", "password": "worker-password"}`); r.Status != 201 {
			t.Fatalf("worker: %d %s", r.Status, r.Body)
		}
	}
	makePartners(t, w.a, w.b, ta, tb)
	resp := w.b.Do("POST", "/api/v1/services", tb, `{"name": "`+hostileService+`", "status": "active", "categories": ["logement-hebergement"],
	  "translations": {"nl": {"name": "Kruidenier"}},
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`)
	if resp.Status != 201 {
		t.Fatalf("service: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	w.serviceID = svc.ID
	waitUntil(t, "A replicates B's service", func() bool {
		var out struct{ Total int }
		w.a.Do("GET", "/api/v1/search?q=kruidenier", "", nil).JSON(t, &out)
		return out.Total == 1
	})
	tw := w.a.Token("worker@"+w.a.Name+".test", "worker-password")
	given := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	resp = w.a.Do("POST", "/api/v1/referrals", tw, `{"service": "`+svc.ID+`", "resident": {"name": "`+residentName+`"},
	  "consent": {"method": "on-screen", "categories": ["identity"], "notice_version": "2026-11",
	  "notice_hash": "`+strings.Repeat("ab", 32)+`", "notice_lang": "fr", "given_at": "`+given+`"}}`)
	if resp.Status != 201 {
		t.Fatalf("refer: %d %s", resp.Status, resp.Body)
	}
	var ref struct{ ID, URI, Reference string }
	resp.JSON(t, &ref)
	w.ref, w.handle, w.reference = ref.URI, ref.ID, ref.Reference
	waitUntil(t, "B receives the referral", func() bool {
		var got struct{ Referrals []struct{ ID string } }
		w.b.Do("GET", "/api/v1/referrals", tb, nil).JSON(t, &got)
		return len(got.Referrals) == 1
	})
	return w
}

func userByEmail(t *testing.T, n *nodetest.Node, email string) *account.User {
	t.Helper()
	u, err := n.Node().Accounts.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u
}

func render(t *testing.T, n *nodetest.Node, m *notify.Mail, to *account.User, lang string) *notify.Message {
	t.Helper()
	msg, err := n.Node().Web.Render(context.Background(), m, to, &notify.Prefs{Lang: lang})
	if err != nil {
		t.Fatalf("render %s %s in %s: %v", m.Kind, m.ID, lang, err)
	}
	return msg
}

// checkMessage holds what every message must: one-line subject without
// an address, no resident's data, no unescaped markup, the language.
func checkMessage(t *testing.T, where, lang string, msg *notify.Message) {
	t.Helper()
	if strings.ContainsAny(msg.Subject, "\r\n") {
		t.Errorf("%s: the subject %q holds a line break", where, msg.Subject)
	}
	if strings.Contains(msg.Subject, "http") {
		t.Errorf("%s: the subject %q holds an address", where, msg.Subject)
	}
	for part, s := range map[string]string{"subject": msg.Subject, "text": msg.Text, "html": msg.HTML} {
		if strings.Contains(s, residentName) {
			t.Errorf("%s: the %s names the resident", where, part)
		}
	}
	if strings.Contains(msg.HTML, "<script") {
		t.Errorf("%s: the HTML holds an unescaped script tag", where)
	}
	if !strings.Contains(msg.HTML, `<html lang="`+lang+`">`) {
		t.Errorf("%s: the HTML is not marked %s", where, lang)
	}
	if !strings.Contains(msg.Text, "/settings/notifications") {
		t.Errorf("%s: no link to the settings", where)
	}
}

// Every referral event, in the three languages: the subject is the
// catalogue's sentence with the reference, the service and the other
// association named in that language, the link opens the referral, and
// the one-click unsubscribe link works for its topic only.
func TestMailReferralEvents(t *testing.T) {
	w := startMailWorld(t)
	ctx := context.Background()
	bWorker, aWorker := userByEmail(t, w.b, "worker@node2.test"), userByEmail(t, w.a, "worker@node1.test")
	services := map[string]string{"fr": hostileService, "nl": "Kruidenier", "en": hostileService}
	fromA := map[string]string{"fr": "Maison Midi", "nl": "Huis Zuid", "en": "Maison Midi"}
	due := time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		kind   notify.Kind
		on     *nodetest.Node
		to     *account.User
		key    string
		extra  func(lang string) []any
		ev     notify.Event
		escape bool
	}{
		{kind: notify.ReferralReceived, on: w.b, to: bWorker},
		{kind: notify.ReferralCancelled, on: w.b, to: bWorker},
		{kind: notify.ReferralReminder, on: w.b, to: bWorker},
		{kind: notify.ReferralWithdrawn, on: w.b, to: bWorker},
		{kind: notify.ReferralExpiring, on: w.b, to: bWorker, ev: notify.Event{Due: due}, extra: func(lang string) []any {
			return []any{map[string]string{"fr": "lundi 4 janvier 2027", "nl": "maandag 4 januari 2027", "en": "Monday 4 January 2027"}[lang]}
		}},
		{kind: notify.ReferralAnswered, on: w.a, to: aWorker, key: "notify referral-answered reason", ev: notify.Event{State: "rejected", Reason: "no-capacity"},
			extra: func(lang string) []any {
				c := catalogue(t, lang)
				return []any{c["state rejected"], c["reason no-capacity"]}
			}},
		{kind: notify.ReferralAnswered, on: w.a, to: aWorker, ev: notify.Event{State: "accepted"},
			extra: func(lang string) []any { return []any{catalogue(t, lang)["state accepted"]} }},
		{kind: notify.ReferralErased, on: w.a, to: aWorker},
	}
	for _, lang := range []string{"fr", "nl", "en"} {
		cat := catalogue(t, lang)
		for i, tc := range cases {
			where := fmt.Sprintf("%s %d (%s)", tc.kind, i, lang)
			ev := tc.ev
			ev.ID, ev.Kind, ev.Referral, ev.At = fmt.Sprintf("ev-%d", i), tc.kind, w.ref, time.Now()
			m := &notify.Mail{ID: ev.ID + "/" + tc.to.ID, Kind: notify.MailEvent, User: tc.to.ID, Events: []notify.Event{ev}}
			msg := render(t, tc.on, m, tc.to, lang)
			checkMessage(t, where, lang, msg)
			partner := fromA[lang]
			if tc.on == w.a {
				partner = "Association node2"
			}
			key := tc.key
			if key == "" {
				key = "notify " + string(tc.kind)
			}
			args := []any{w.reference, services[lang], partner}
			if tc.extra != nil {
				args = append(args, tc.extra(lang)...)
			}
			if want := fmt.Sprintf(cat[key], args...); msg.Subject != want {
				t.Errorf("%s: subject %q, want %q", where, msg.Subject, want)
			}
			if msg.To != tc.to.Email || msg.ID != m.ID {
				t.Errorf("%s: to %q id %q, want %q %q", where, msg.To, msg.ID, tc.to.Email, m.ID)
			}
			link := tc.on.URL + "/referrals/" + w.handle
			if !strings.Contains(msg.Text, link) || !strings.Contains(msg.HTML, `href="`+link+`"`) {
				t.Errorf("%s: no link to %s in\n%s", where, link, msg.Text)
			}
			if lang != "nl" && !strings.Contains(msg.HTML, "&lt;script&gt;alert(1)&lt;/script&gt; Épicerie") {
				t.Errorf("%s: the service's name is not shown escaped in the HTML:\n%s", where, msg.HTML)
			}
			if strings.Contains(msg.Text+msg.HTML, tc.on.URL+"/services/") || strings.Contains(msg.Text+msg.HTML, "/actor") {
				t.Errorf("%s: an address stands for a name:\n%s", where, msg.Text)
			}
		}
	}

	// The unsubscribe link turns its topic off, once verified; a link
	// altered or moved to another topic is refused.
	ev := notify.Event{ID: "ev-unsub", Kind: notify.ReferralReceived, Referral: w.ref, At: time.Now()}
	msg := render(t, w.b, &notify.Mail{ID: "u", Kind: notify.MailEvent, User: bWorker.ID, Events: []notify.Event{ev}}, bWorker, "fr")
	u, err := url.Parse(msg.Unsubscribe)
	if err != nil || !strings.HasPrefix(msg.Unsubscribe, w.b.URL+"/unsubscribe?") {
		t.Fatalf("unsubscribe URL %q: %v", msg.Unsubscribe, err)
	}
	if !strings.Contains(msg.Text, msg.Unsubscribe) {
		t.Errorf("the footer does not show the unsubscribe link:\n%s", msg.Text)
	}
	q := u.Query()
	if q.Get("u") != bWorker.ID || q.Get("k") != string(notify.TopicReceived) {
		t.Errorf("unsubscribe URL %q names %q %q", msg.Unsubscribe, q.Get("u"), q.Get("k"))
	}
	nt := w.b.Node().Notify
	tampered := q.Get("s")[:len(q.Get("s"))-1] + "A"
	if tampered == q.Get("s") {
		tampered = q.Get("s")[:len(q.Get("s"))-1] + "B"
	}
	for _, bad := range []struct{ topic, token string }{{"received", tampered}, {"answers", q.Get("s")}, {"received", ""}} {
		if err := nt.Unsubscribe(ctx, bWorker.ID, notify.Topic(bad.topic), bad.token); !errors.Is(err, notify.ErrBadToken) {
			t.Errorf("Unsubscribe(%s, %q) = %v, want ErrBadToken", bad.topic, bad.token, err)
		}
	}
	if p, _ := nt.Prefs(ctx, bWorker.ID); p.Mode(notify.TopicReceived) != notify.Now {
		t.Fatalf("a refused link changed the mode to %s", p.Mode(notify.TopicReceived))
	}
	if err := nt.Unsubscribe(ctx, q.Get("u"), notify.Topic(q.Get("k")), q.Get("s")); err != nil {
		t.Fatalf("Unsubscribe with the mail's link: %v", err)
	}
	if p, _ := nt.Prefs(ctx, bWorker.ID); p.Mode(notify.TopicReceived) != notify.Off || p.Mode(notify.TopicAnswers) != notify.Now {
		t.Errorf("after unsubscribing: received %s, answers %s", p.Mode(notify.TopicReceived), p.Mode(notify.TopicAnswers))
	}

	// Nothing left to say: no mail.
	gone := notify.Event{ID: "ev-gone", Kind: notify.ReferralReceived, Referral: w.b.URL + "/referrals/nowhere", At: time.Now()}
	if _, err := w.b.Node().Web.Render(ctx, &notify.Mail{ID: "g", Kind: notify.MailEvent, User: bWorker.ID, Events: []notify.Event{gone}}, bWorker, &notify.Prefs{}); !errors.Is(err, notify.ErrDrop) {
		t.Errorf("a referral gone: %v, want ErrDrop", err)
	}
	if _, err := w.b.Node().Web.Render(ctx, &notify.Mail{ID: "n", Kind: notify.MailEvent, User: "gone", Events: []notify.Event{ev}}, nil, &notify.Prefs{}); !errors.Is(err, notify.ErrDrop) {
		t.Errorf("an account gone: %v, want ErrDrop", err)
	}
	// A receipt is only ever sent by the node that collected the consent.
	if _, err := w.b.Node().Web.Render(ctx, &notify.Mail{ID: "r", Kind: notify.MailReceipt, Referral: w.ref}, nil, &notify.Prefs{}); !errors.Is(err, notify.ErrDrop) {
		t.Errorf("a receipt asked of the partner's node: %v, want ErrDrop", err)
	}
}

// The node sends the mail itself: the referral received reaches B's
// worker by e-mail, in French by default, with its one-click unsubscribe.
func TestMailSentForReferralReceived(t *testing.T) {
	w := startMailWorld(t)
	var msgs []*notify.Message
	waitUntil(t, "B's worker gets the mail", func() bool {
		msgs = w.box.to("worker@node2.test")
		return len(msgs) > 0
	})
	msg := msgs[0]
	checkMessage(t, "sent mail", "fr", msg)
	if want := "Nouvelle orientation " + w.reference + " pour " + hostileService + ", envoyée par Maison Midi"; msg.Subject != want {
		t.Errorf("subject %q, want %q", msg.Subject, want)
	}
	if msg.Unsubscribe == "" {
		t.Error("no List-Unsubscribe on an event mail")
	}
	if !strings.Contains(msg.Text, "Association node2") || !strings.Contains(msg.Text, "faites partie de l’équipe") {
		t.Errorf("the footer does not name the association:\n%s", msg.Text)
	}
}

// Partnerships, services to review, digests, resets, invitations and
// the test mail.
func TestMailOtherKinds(t *testing.T) {
	w := startMailWorld(t)
	ctx := context.Background()
	admin := userByEmail(t, w.b, w.b.AdminEmail)
	web := w.b.Node().Web

	for lang, name := range map[string]string{"fr": "Maison Midi", "nl": "Huis Zuid", "en": "Maison Midi"} {
		ev := notify.Event{ID: "p", Kind: notify.PartnerRequested, Partner: w.a.URL + "/actor", At: time.Now()}
		msg := render(t, w.b, &notify.Mail{ID: "p", Kind: notify.MailEvent, User: admin.ID, Events: []notify.Event{ev}}, admin, lang)
		checkMessage(t, "partner request "+lang, lang, msg)
		if want := fmt.Sprintf(catalogue(t, lang)["notify partner-requested"], name); msg.Subject != want {
			t.Errorf("partner request (%s): subject %q, want %q", lang, msg.Subject, want)
		}
		if !strings.Contains(msg.Text, w.b.URL+"/admin/partners") {
			t.Errorf("partner request (%s): no link to the partners:\n%s", lang, msg.Text)
		}
	}

	// A service whose name tries to add a header line.
	resp := w.b.Do("POST", "/api/v1/services", w.b.AdminToken(), map[string]any{"name": "Permanence\r\nBcc: x@example.org", "status": "active"})
	if resp.Status != 201 {
		t.Fatalf("service: %d %s", resp.Status, resp.Body)
	}
	var crlf struct{ ID string }
	resp.JSON(t, &crlf)
	for _, id := range []string{w.serviceID, crlf.ID} {
		ev := notify.Event{ID: "s-" + id, Kind: notify.ServiceStale, Service: id, At: time.Now()}
		msg := render(t, w.b, &notify.Mail{ID: "s", Kind: notify.MailEvent, User: admin.ID, Events: []notify.Event{ev}}, admin, "fr")
		checkMessage(t, "stale service", "fr", msg)
		if link := w.b.URL + "/admin/services/" + id; !strings.Contains(msg.Text, link) {
			t.Errorf("stale service: no link to %s:\n%s", link, msg.Text)
		}
	}

	// A digest of two topics offers to stop each, and sets no one-click
	// header; a digest of one topic sets it.
	evs := []notify.Event{
		{ID: "d1", Kind: notify.ReferralReceived, Referral: w.ref, At: time.Now().Add(-time.Hour)},
		{ID: "d2", Kind: notify.ServiceStale, Service: w.serviceID, At: time.Now()},
	}
	msg := render(t, w.b, &notify.Mail{ID: "digest/1", Kind: notify.MailDigest, User: admin.ID, Events: evs}, admin, "fr")
	checkMessage(t, "digest", "fr", msg)
	if msg.Subject != "Votre résumé du jour : 2 notifications" {
		t.Errorf("digest subject %q", msg.Subject)
	}
	if msg.Unsubscribe != "" {
		t.Errorf("a digest of two topics has a one-click unsubscribe: %s", msg.Unsubscribe)
	}
	if k := strings.Count(msg.Text, "/unsubscribe?"); k != 2 {
		t.Errorf("the digest offers %d unsubscribe links, want 2:\n%s", k, msg.Text)
	}
	for _, link := range []string{w.b.URL + "/referrals/" + w.handle, w.b.URL + "/admin/services/" + w.serviceID} {
		if !strings.Contains(msg.HTML, `href="`+link+`"`) {
			t.Errorf("the digest does not link to %s", link)
		}
	}
	msg = render(t, w.b, &notify.Mail{ID: "digest/2", Kind: notify.MailDigest, User: admin.ID, Events: evs[:1]}, admin, "nl")
	if msg.Subject != "Uw samenvatting van de dag: 1 melding" || !strings.Contains(msg.Unsubscribe, "k=received") {
		t.Errorf("one-topic digest: subject %q, unsubscribe %q", msg.Subject, msg.Unsubscribe)
	}
	gone := []notify.Event{{ID: "d3", Kind: notify.ServiceStale, Service: "no-such-service", At: time.Now()}}
	if _, err := web.Render(ctx, &notify.Mail{ID: "digest/3", Kind: notify.MailDigest, User: admin.ID, Events: gone}, admin, &notify.Prefs{}); !errors.Is(err, notify.ErrDrop) {
		t.Errorf("a digest of what is gone: %v, want ErrDrop", err)
	}

	// A reset and an invitation link to their page, valid 30 minutes and
	// 7 days.
	accounts := w.b.Node().Accounts
	resetID, worker, err := accounts.StartReset(ctx, "worker@node2.test", "127.0.0.1")
	if err != nil || worker == nil {
		t.Fatalf("StartReset: %v", err)
	}
	invited, inviteID, err := accounts.Invite(ctx, "new@node2.test", "Nouvelle", account.RoleWorker, admin.ID)
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	for _, tc := range []struct {
		kind     notify.MailKind
		token    string
		to       *account.User
		lang     string
		subject  string
		validity string
	}{
		{notify.MailReset, resetID, worker, "fr", "Nouveau mot de passe pour votre compte de Association node2", "30 minutes"},
		{notify.MailReset, resetID, worker, "nl", "Nieuw wachtwoord voor uw account bij Association node2", "30 minuten"},
		{notify.MailInvite, inviteID, invited, "fr", "Invitation à rejoindre l’équipe de Association node2 sur Maillage", "7 jours"},
		{notify.MailInvite, inviteID, invited, "en", "Invitation to join the staff of Association node2 on Maillage", "7 days"},
	} {
		msg := render(t, w.b, &notify.Mail{ID: string(tc.kind) + "/" + tc.token, Kind: tc.kind, User: tc.to.ID, Token: tc.token}, tc.to, tc.lang)
		where := string(tc.kind) + " " + tc.lang
		if msg.Subject != tc.subject || msg.To != tc.to.Email {
			t.Errorf("%s: subject %q to %q", where, msg.Subject, msg.To)
		}
		link := w.b.URL + accounts.TokenLink(tc.token)
		if !strings.Contains(msg.Text, link) || !strings.Contains(msg.Text, tc.validity) {
			t.Errorf("%s: want the link %s and %q in\n%s", where, link, tc.validity, msg.Text)
		}
		if msg.Unsubscribe != "" {
			t.Errorf("%s: an unsubscribe link on a mail the person asked for", where)
		}
		if tc.kind == notify.MailInvite && strings.Contains(msg.Text, "/settings/notifications") {
			t.Errorf("%s: settings offered to someone without an account yet", where)
		}
	}

	msg = render(t, w.b, &notify.Mail{ID: "test/1", Kind: notify.MailTest, User: admin.ID}, admin, "")
	checkMessage(t, "test mail", "fr", msg)
	if msg.Subject != "E-mail de test : l’envoi fonctionne" || msg.To != admin.Email {
		t.Errorf("test mail: subject %q to %q", msg.Subject, msg.To)
	}
}

// The messages whose keys are built from the notifications' kinds,
// topics and modes exist in the three languages.
func TestMailMessageKeysExist(t *testing.T) {
	var keys []string
	for _, k := range notify.Kinds {
		keys = append(keys, "notify "+string(k))
		if k == notify.ReferralExpiring {
			keys = append(keys, "notify "+string(k)+" do sender", "notify "+string(k)+" do recipient")
		} else {
			keys = append(keys, "notify "+string(k)+" do")
		}
	}
	for _, tp := range notify.Topics {
		keys = append(keys, "topic "+string(tp), "topic "+string(tp)+" hint")
	}
	for _, m := range notify.Modes {
		keys = append(keys, "mode "+string(m))
	}
	for _, k := range []notify.MailKind{notify.MailEvent, notify.MailDigest, notify.MailReset, notify.MailInvite, notify.MailReceipt, notify.MailTest} {
		keys = append(keys, "mail kind "+string(k))
	}
	for _, lang := range []string{"fr", "nl", "en"} {
		cat := catalogue(t, lang)
		for _, k := range keys {
			if cat[k] == "" {
				t.Errorf("%q is missing in %s", k, lang)
			}
		}
	}
}
