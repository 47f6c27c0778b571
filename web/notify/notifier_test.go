package notify_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maillage/maillage/store"
	"github.com/maillage/maillage/web/account"
	"github.com/maillage/maillage/web/notify"
)

// The notifier over a real store, with the SMTP server replaced by a
// recorder (the end-to-end tests with a real SMTP server are in
// nodes_test.go): who an event reaches, what each person's choices do,
// retries, digests and unsubscribe links.

type sent struct {
	mu   sync.Mutex
	msgs []*notify.Message
	fail error // returned instead of sending while set
}

func (s *sent) Send(ctx context.Context, m *notify.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *sent) to() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.msgs {
		out = append(out, m.To+" "+m.Subject)
	}
	slices.Sort(out)
	return out
}

func (s *sent) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// render writes the kinds and event ids of a mail as its subject.
type render struct{}

func (render) Render(ctx context.Context, m *notify.Mail, to *account.User, p *notify.Prefs) (*notify.Message, error) {
	var ids []string
	for _, ev := range m.Events {
		ids = append(ids, string(ev.Kind))
	}
	return &notify.Message{To: to.Email, Subject: string(m.Kind) + ":" + strings.Join(ids, ","), Text: "x", HTML: "x"}, nil
}

type subjectsOf map[string]notify.Subject

func (s subjectsOf) Subject(ctx context.Context, ev *notify.Event) (notify.Subject, error) {
	return s[ev.Referral], nil
}

type fixture struct {
	st    *store.Store
	n     *notify.Notifier
	mail  *sent
	now   time.Time
	users map[string]*account.User
}

func newFixture(t *testing.T, subj subjectsOf) *fixture {
	t.Helper()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key")
	if err := store.GenerateKey(keyPath); err != nil {
		t.Fatal(err)
	}
	key, err := store.ReadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{mail: &sent{}, users: map[string]*account.User{},
		now: time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC)} // a Monday, 7:30 in Brussels
	f.st, err = store.Open(filepath.Join(dir, "db"), key, store.Options{Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	ctx := context.Background()
	for _, u := range []struct {
		id   string
		role account.Role
		pw   string
		off  bool
	}{
		{"admin", account.RoleAdmin, "h", false},
		{"ana", account.RoleWorker, "h", false},
		{"bram", account.RoleWorker, "h", false},
		{"gone", account.RoleWorker, "h", true},
		{"invited", account.RoleWorker, "", false},
	} {
		usr := &account.User{ID: u.id, Email: u.id + "@example.org", Role: u.role, PasswordHash: u.pw, Disabled: u.off, Created: f.now}
		if err := f.st.CreateUser(ctx, usr); err != nil {
			t.Fatal(err)
		}
		f.users[u.id] = usr
	}
	f.n, err = notify.New(notify.Options{Store: f.st, People: f.st, Subjects: subj, Mailer: f.mail, Renderer: render{},
		Key: make([]byte, 32), Now: func() time.Time { return f.now }, FirstRetry: time.Minute, GiveUpAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) pass(t *testing.T) {
	t.Helper()
	if err := f.n.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) unread(t *testing.T, user string) int {
	t.Helper()
	k, err := f.n.Unread(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestEventsReachThePeopleConcerned(t *testing.T) {
	f := newFixture(t, subjectsOf{
		"r-named":   {Service: "svc-named", Side: "recipient"},
		"r-nobody":  {Service: "svc-other", Side: "recipient"},
		"r-sent":    {Worker: "bram", Side: "sender"},
		"r-orphan":  {Worker: "gone", Side: "sender"},
		"r-expires": {Worker: "bram", Side: "sender"},
	})
	ctx := context.Background()
	p := notify.DefaultPrefs("ana")
	p.Services = []string{"svc-named"}
	if err := f.n.SetPrefs(ctx, &p); err != nil {
		t.Fatal(err)
	}
	evs := []notify.Event{
		{ID: "1", Kind: notify.ReferralReceived, Referral: "r-named", At: f.now},
		{ID: "2", Kind: notify.ReferralReceived, Referral: "r-nobody", At: f.now},
		{ID: "3", Kind: notify.ReferralAnswered, Referral: "r-sent", At: f.now, State: "accepted"},
		{ID: "4", Kind: notify.ReferralAnswered, Referral: "r-orphan", At: f.now, State: "rejected"},
		{ID: "5", Kind: notify.PartnerRequested, Partner: "https://b.example/actor", At: f.now},
		{ID: "6", Kind: notify.ReferralExpiring, Referral: "r-expires", At: f.now},
	}
	if err := f.n.AddEvents(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	// Recorded again (a message that came twice): told once.
	if err := f.n.AddEvents(ctx, evs[0]); err != nil {
		t.Fatal(err)
	}
	f.pass(t)
	want := []string{
		"admin@example.org event:partner-requested", // 5: the admins
		"admin@example.org event:referral-answered", // 4: its worker left, the admins hear of it
		"ana@example.org event:referral-received",   // 1: ana named the service
		"ana@example.org event:referral-received",   // 2: nobody named it: every active worker
		"bram@example.org event:referral-answered",  // 3: the worker who sent it
		"bram@example.org event:referral-expiring",  // 6: on the sender's side, its worker
		"bram@example.org event:referral-received",  // 2
	}
	if got := f.mail.to(); !slices.Equal(got, want) {
		t.Errorf("mails:\n got %q\nwant %q", got, want)
	}
	// The invited account, without a password yet, gets no e-mail but
	// sees event 2 when it logs in; the disabled one gets nothing.
	for user, k := range map[string]int{"ana": 2, "bram": 3, "admin": 2, "invited": 1, "gone": 0} {
		if got := f.unread(t, user); got != k {
			t.Errorf("%s: %d unread, want %d", user, got, k)
		}
	}
	// The event recorded again after its dispatch is still ignored.
	if err := f.n.AddEvents(ctx, evs[0]); err != nil {
		t.Fatal(err)
	}
	f.pass(t)
	if got := len(f.mail.to()); got != len(want) {
		t.Errorf("%d mails after the event came again, want %d", got, len(want))
	}
	if err := f.n.MarkRead(ctx, "ana", []string{"1"}); err != nil {
		t.Fatal(err)
	}
	if got := f.unread(t, "ana"); got != 1 {
		t.Errorf("ana: %d unread after reading one, want 1", got)
	}
	list, _, err := f.n.Notifications(ctx, "ana", 10)
	if err != nil || len(list) != 2 || list[0].Event.ID != "2" || list[0].Read || !list[1].Read {
		t.Errorf("ana's list (newest first, the read one marked): %+v %v", list, err)
	}
	if err := f.n.MarkRead(ctx, "ana", nil); err != nil || f.unread(t, "ana") != 0 {
		t.Errorf("mark all read: %v, %d unread", err, f.unread(t, "ana"))
	}
}

func TestModesDigestAndUnsubscribe(t *testing.T) {
	f := newFixture(t, subjectsOf{"r": {Service: "s", Side: "recipient"}})
	ctx := context.Background()
	ana := notify.DefaultPrefs("ana")
	ana.Modes = map[notify.Topic]notify.Mode{notify.TopicReceived: notify.Digest}
	ana.DigestHour = 8
	bram := notify.DefaultPrefs("bram")
	bram.Modes = map[notify.Topic]notify.Mode{notify.TopicReceived: notify.Off}
	for _, p := range []*notify.Prefs{&ana, &bram} {
		if err := f.n.SetPrefs(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		ev := notify.Event{ID: fmt.Sprint("d", i), Kind: notify.ReferralReceived, Referral: "r", At: f.now}
		if err := f.n.AddEvents(ctx, ev); err != nil {
			t.Fatal(err)
		}
		f.pass(t)
	}
	if got := f.mail.to(); len(got) != 0 {
		t.Fatalf("mails before the digest hour: %q", got)
	}
	if f.unread(t, "bram") != 3 || f.unread(t, "ana") != 3 {
		t.Errorf("the app lists every event whatever the mode: ana %d, bram %d", f.unread(t, "ana"), f.unread(t, "bram"))
	}
	f.now = f.now.Add(31 * time.Minute) // 8:01 in Brussels
	f.pass(t)
	f.pass(t)
	if got := f.mail.to(); !slices.Equal(got, []string{"ana@example.org digest:referral-received,referral-received,referral-received"}) {
		t.Errorf("one digest of the three events: %q", got)
	}
	// An event after 8:00 waits for the next day.
	if err := f.n.AddEvents(ctx, notify.Event{ID: "late", Kind: notify.ReferralReceived, Referral: "r", At: f.now}); err != nil {
		t.Fatal(err)
	}
	f.pass(t)
	f.now = f.now.Add(23 * time.Hour)
	f.pass(t)
	if got := len(f.mail.to()); got != 1 {
		t.Errorf("%d mails before the next day's hour, want 1", got)
	}
	f.now = f.now.Add(time.Hour)
	f.pass(t)
	if got := len(f.mail.to()); got != 2 {
		t.Errorf("%d mails after the next day's hour, want 2", got)
	}

	// Unsubscribe: a tampered token or another topic changes nothing.
	tok := f.n.UnsubscribeToken("ana", notify.TopicAnswers)
	for _, bad := range []struct {
		user  string
		topic notify.Topic
		tok   string
	}{{"ana", notify.TopicReceived, tok}, {"bram", notify.TopicAnswers, tok}, {"ana", notify.TopicAnswers, tok[:len(tok)-1] + "A"}, {"ana", "nothing", tok}} {
		if err := f.n.Unsubscribe(ctx, bad.user, bad.topic, bad.tok); !errors.Is(err, notify.ErrBadToken) {
			t.Errorf("unsubscribe %+v: %v", bad, err)
		}
	}
	if p, _ := f.n.Prefs(ctx, "ana"); p.Mode(notify.TopicAnswers) != notify.Now {
		t.Fatalf("a refused link changed the choice: %v", p.Mode(notify.TopicAnswers))
	}
	if err := f.n.Unsubscribe(ctx, "ana", notify.TopicAnswers, tok); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.n.Prefs(ctx, "ana"); p.Mode(notify.TopicAnswers) != notify.Off || p.Mode(notify.TopicReceived) != notify.Digest {
		t.Errorf("after unsubscribe: %+v", p.Modes)
	}
}

func TestRetriesAndGivingUp(t *testing.T) {
	f := newFixture(t, subjectsOf{"r": {Worker: "bram", Side: "sender"}})
	ctx := context.Background()
	f.mail.setFail(errors.New("dial tcp: connection refused"))
	if err := f.n.AddEvents(ctx, notify.Event{ID: "a", Kind: notify.ReferralAnswered, Referral: "r", At: f.now}); err != nil {
		t.Fatal(err)
	}
	f.pass(t)
	q, failed, err := f.n.Mails(ctx, 10)
	if err != nil || len(q) != 1 || len(failed) != 0 || q[0].Attempts != 1 || !q[0].NextAt.Equal(f.now.Add(time.Minute)) {
		t.Fatalf("after one failure: %+v %+v %v", q, failed, err)
	}
	f.now = f.now.Add(time.Minute)
	f.pass(t)
	if q, _, _ := f.n.Mails(ctx, 10); len(q) != 1 || q[0].Attempts != 2 || !q[0].NextAt.Equal(f.now.Add(2*time.Minute)) {
		t.Fatalf("the wait doubles: %+v", q)
	}
	f.mail.setFail(nil)
	f.now = f.now.Add(2 * time.Minute)
	f.pass(t)
	f.pass(t)
	if got := f.mail.to(); len(got) != 1 {
		t.Errorf("sent once the server is back: %q", got)
	}
	if q, _, _ := f.n.Mails(ctx, 10); len(q) != 0 {
		t.Errorf("still queued: %+v", q)
	}

	// A refused address is given up at once; a server down for longer
	// than GiveUpAfter too. Both show on the admin's page.
	f.mail.setFail(fmt.Errorf("550 no such user: %w", notify.ErrPermanent))
	if err := f.n.AddEvents(ctx, notify.Event{ID: "b", Kind: notify.ReferralAnswered, Referral: "r", At: f.now}); err != nil {
		t.Fatal(err)
	}
	f.pass(t)
	f.mail.setFail(errors.New("timeout"))
	if err := f.n.AddEvents(ctx, notify.Event{ID: "c", Kind: notify.ReferralAnswered, Referral: "r", At: f.now}); err != nil {
		t.Fatal(err)
	}
	f.pass(t)
	f.now = f.now.Add(2 * time.Hour)
	f.pass(t)
	q, failed, err = f.n.Mails(ctx, 10)
	if err != nil || len(q) != 0 || len(failed) != 2 {
		t.Fatalf("given up: queued %+v failed %+v %v", q, failed, err)
	}
	for _, m := range failed {
		if m.LastError == "" || m.Failed.IsZero() {
			t.Errorf("a failed mail says nothing: %+v", m)
		}
	}
}

func TestDigestTimeFollowsBrussels(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ now, want string }{
		{"2026-12-07T07:30:00Z", "2026-12-07T07:00:00Z"}, // winter: 8:00 is 07:00 UTC
		{"2026-12-07T06:30:00Z", "2026-12-06T07:00:00Z"}, // before the hour: yesterday's
		{"2026-07-07T06:30:00Z", "2026-07-07T06:00:00Z"}, // summer: 8:00 is 06:00 UTC
		{"2026-03-29T06:30:00Z", "2026-03-29T06:00:00Z"}, // the day clocks go forward
	} {
		now, _ := time.Parse(time.RFC3339, c.now)
		if got := notify.LastDigestTime(now, 8, loc).UTC().Format(time.RFC3339); got != c.want {
			t.Errorf("LastDigestTime(%s, 8) = %s, want %s", c.now, got, c.want)
		}
	}
}

func TestPrefsValidation(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for _, p := range []notify.Prefs{
		{User: "ana", Lang: "de"},
		{User: "ana", DigestHour: 24},
		{User: "ana", DigestHour: -1},
		{User: "ana", Modes: map[notify.Topic]notify.Mode{"everything": notify.Now}},
		{User: "ana", Modes: map[notify.Topic]notify.Mode{notify.TopicAnswers: "sometimes"}},
		{User: ""},
	} {
		if err := f.n.SetPrefs(ctx, &p); err == nil {
			t.Errorf("SetPrefs(%+v) accepted", p)
		}
	}
	if p, _ := f.n.Prefs(ctx, "ana"); p.DigestHour != 8 || p.Mode(notify.TopicReviews) != notify.Digest || p.Mode(notify.TopicReceived) != notify.Now {
		t.Errorf("defaults changed by refused choices: %+v", p)
	}
}
