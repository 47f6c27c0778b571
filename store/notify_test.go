package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/web/account"
	"github.com/maillage/maillage/web/notify"
)

// A relation's change records the partnership events the admins are
// told of, in its own transaction: asked, begun, ended; nothing for a
// person following the association or a change that is no news.
func TestPartnershipEvents(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	kinds := func() []string {
		evs, err := s.PendingEvents(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range evs {
			out = append(out, string(ev.Kind))
		}
		slices.Sort(out)
		return out
	}
	const actor = "https://b.example/actor"
	r := &federation.Relation{ID: "r1", Actor: actor, Kind: federation.KindAssociation, Theirs: federation.StateRequested, TheirFollow: "f1"}
	if err := s.PutRelation(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRelation(ctx, r); err != nil { // stored again: no news
		t.Fatal(err)
	}
	if got := kinds(); !slices.Equal(got, []string{"partner-requested"}) {
		t.Errorf("after their request: %q", got)
	}
	r.Theirs, r.Ours = federation.StateAccepted, federation.StateAccepted
	if err := s.PutRelation(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRelation(ctx, actor); err != nil {
		t.Fatal(err)
	}
	if got := kinds(); !slices.Equal(got, []string{"partner-accepted", "partner-ended", "partner-requested"}) {
		t.Errorf("after the partnership began and ended: %q", got)
	}
	sub := &federation.Relation{ID: "r2", Actor: "https://social.example/users/ana", Kind: federation.KindSubscriber, Theirs: federation.StateAccepted}
	if err := s.PutRelation(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if got := len(kinds()); got != 3 {
		t.Errorf("a follower made %d events", got-3)
	}
}

// Deleting an account deletes its notifications, digest entries and
// choices; a mail queued twice under one id waits once.
func TestNotificationsGoWithTheAccount(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	u := &account.User{ID: "u1", Email: "ana@example.org", Role: account.RoleWorker}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	ev := notify.Event{ID: "e1", Kind: notify.ReferralReceived, At: at, Referral: "r"}
	if err := s.AddEvents(ctx, ev); err != nil {
		t.Fatal(err)
	}
	n := notify.Notification{User: u.ID, Event: ev}
	if err := s.Dispatch(ctx, ev, []notify.Notification{n}, nil, []notify.Notification{n}); err != nil {
		t.Fatal(err)
	}
	p := notify.DefaultPrefs(u.ID)
	p.Lang = "nl"
	if err := s.PutPrefs(ctx, &p); err != nil {
		t.Fatal(err)
	}
	m := &notify.Mail{ID: "m1", Kind: notify.MailTest, User: u.ID, Created: at, NextAt: at}
	for range 2 {
		if err := s.QueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if q, _, _ := s.Mails(ctx, 0); len(q) != 1 {
		t.Errorf("%d mails queued under one id", len(q))
	}
	if err := s.DeleteUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if list, unread, err := s.Notifications(ctx, u.ID, 10); err != nil || len(list)+unread != 0 {
		t.Errorf("notifications after deleting the account: %v %d %v", list, unread, err)
	}
	if users, err := s.DigestUsers(ctx); err != nil || len(users) != 0 {
		t.Errorf("digest entries after deleting the account: %v %v", users, err)
	}
	if got, err := s.Prefs(ctx, u.ID); err != nil || got.Lang != "" {
		t.Errorf("choices after deleting the account: %+v %v", got, err)
	}
}

// The reminders of every service imported on one day fall due together:
// thousands of events, more than one Badger transaction takes, are all
// recorded, each once when recorded again.
func TestManyEventsAtOnce(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	evs := make([]notify.Event, 5000)
	for i := range evs {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		evs[i] = notify.Event{ID: fmt.Sprintf("service-stale/%s/%d", id, at.Unix()), Kind: notify.ServiceStale, At: at, Service: id}
	}
	for range 2 {
		if err := s.AddEvents(ctx, evs...); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PendingEvents(ctx, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(evs) {
		t.Errorf("%d events pending, want %d", len(got), len(evs))
	}
}

// putDigest writes n digest entries for user, events a second apart from
// at, in transactions Badger takes.
func putDigest(t *testing.T, s *Store, user string, at time.Time, n int) {
	t.Helper()
	for start := 0; start < n; start += 500 {
		err := s.update(func(txn *badger.Txn) error {
			for i := start; i < min(n, start+500); i++ {
				when := at.Add(time.Duration(i) * time.Second)
				svc := fmt.Sprintf("%08x-0000-4000-8000-%012x", when.Unix(), i)
				ev := notify.Event{ID: fmt.Sprintf("service-stale/%s/%d", svc, when.Unix()), Kind: notify.ServiceStale, At: when, Service: svc}
				if err := set(txn, digestKey(user, ev.ID), notify.Notification{User: user, Event: ev}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A digest of thousands of entries, more removals than one transaction
// takes, is queued as one mail and every entry it took is removed; a
// crash after the mail leaves a mark, and the next digest takes none of
// the entries already mailed. The account then goes with its backlog.
func TestLargeDigest(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	u := &account.User{ID: "3f2c9a4e-8b1d-4c7e-9f60-2a5b7c8d9e01", Email: "ana@example.org", Role: account.RoleAdmin}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	putDigest(t, s, u.ID, t0, 7000)
	mail := func(items []notify.Notification) *notify.Mail {
		evs := make([]notify.Event, len(items))
		for i, it := range items {
			evs[i] = it.Event
		}
		return &notify.Mail{ID: fmt.Sprintf("digest/%s/%d", u.ID, len(items)), Kind: notify.MailDigest, User: u.ID, Events: evs, Created: t0, NextAt: t0}
	}
	if err := s.TakeDigest(ctx, u.ID, t0.Add(24*time.Hour), mail); err != nil {
		t.Fatal(err)
	}
	q, _, err := s.Mails(ctx, 0)
	if err != nil || len(q) != 1 || len(q[0].Events) != 7000 {
		t.Fatalf("mails queued: %d (err %v), want one of 7000 events", len(q), err)
	}
	taken := 0
	if err := s.TakeDigest(ctx, u.ID, t0.Add(24*time.Hour), func(items []notify.Notification) *notify.Mail { taken = len(items); return nil }); err != nil || taken != 0 {
		t.Fatalf("entries left after the digest: %d (err %v)", taken, err)
	}

	// A crash after the mail: its mark, and the entries it took (before
	// t1) still there beside newer ones.
	t1 := t0.Add(48 * time.Hour)
	putDigest(t, s, u.ID, t1.Add(-2500*time.Second), 3000)
	if err := s.update(func(txn *badger.Txn) error { return set(txn, digestTakenKey(u.ID), t1) }); err != nil {
		t.Fatal(err)
	}
	if err := s.TakeDigest(ctx, u.ID, t1.Add(time.Hour), func(items []notify.Notification) *notify.Mail {
		taken = len(items)
		for _, it := range items {
			if it.Event.At.Before(t1) {
				t.Fatalf("an entry the crashed digest mailed is mailed again: %v", it.Event.At)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if taken != 500 {
		t.Errorf("the next digest took %d entries, want the 500 newer ones", taken)
	}

	putDigest(t, s, u.ID, t1.Add(24*time.Hour), 7000)
	if err := s.DeleteUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(txn *badger.Txn) error {
		if n := len(keysUnder(txn, pDigest+u.ID+"/")); n != 0 {
			t.Errorf("%d digest entries outlived the account", n)
		}
		if ok, _ := exists(txn, digestTakenKey(u.ID)); ok {
			t.Error("the digest mark outlived the account")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// An event for 600 people, each with a notification and a mail, is more
// than one transaction takes: it is recorded a group at a time, and a
// dispatch a crash interrupted after its first group, done again, queues
// no mail twice. Marking 500 notifications read, all a person keeps, goes
// through too.
func TestDispatchToManyPeople(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	ev := notify.Event{ID: "referral/https://maison-de-quartier-midi.example.be/referrals/3f2c9a4e-8b1d-4c7e-9f60-2a5b7c8d9e01/received",
		Kind: notify.ReferralReceived, At: at, Referral: "https://maison-de-quartier-midi.example.be/referrals/3f2c9a4e-8b1d-4c7e-9f60-2a5b7c8d9e01",
		Service: "https://maison-de-quartier-midi.example.be/services/5f1c7e0a-2b3c-4d5e-8f90-123456789abc"}
	if err := s.AddEvents(ctx, ev); err != nil {
		t.Fatal(err)
	}
	var ns []notify.Notification
	var mails []*notify.Mail
	for i := range 600 {
		u := fmt.Sprintf("a%07d-8b1d-4c7e-9f60-2a5b7c8d9e01", i)
		ns = append(ns, notify.Notification{User: u, Event: ev})
		mails = append(mails, &notify.Mail{ID: ev.ID + "/" + u, Kind: notify.MailEvent, User: u, Events: []notify.Event{ev}, Created: at, NextAt: at})
	}
	// A crash after the first group: its people have their mail queued.
	if err := s.update(func(txn *badger.Txn) error {
		group := map[string]bool{}
		for _, n := range ns[:dispatchPerTxn] {
			group[n.User] = true
		}
		return dispatchTo(txn, ev, group, true, ns, mails, nil)
	}); err != nil {
		t.Fatal(err)
	}
	later := make([]*notify.Mail, len(mails))
	for i, m := range mails {
		c := *m
		c.NextAt = at.Add(time.Minute) // queued again, at another time
		later[i] = &c
	}
	if err := s.Dispatch(ctx, ev, ns, later, nil); err != nil {
		t.Fatal(err)
	}
	if q, _, err := s.Mails(ctx, 0); err != nil || len(q) != 600 {
		t.Fatalf("%d mails queued (%v), want 600, one each", len(q), err)
	}
	if pending, err := s.PendingEvents(ctx, 10); err != nil || len(pending) != 0 {
		t.Fatalf("the event is still pending: %d %v", len(pending), err)
	}
	if _, unread, err := s.Notifications(ctx, ns[599].User, 10); err != nil || unread != 1 {
		t.Fatalf("the last person's notifications: %d unread, %v", unread, err)
	}

	// 500 notifications of one person, all unread, marked read at once.
	u := ns[0].User
	for i := range 500 {
		e := ev
		e.ID = fmt.Sprintf("%s/%03d", ev.ID, i)
		if err := s.AddEvents(ctx, e); err != nil {
			t.Fatal(err)
		}
		if err := s.Dispatch(ctx, e, []notify.Notification{{User: u, Event: e}}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, unread, err := s.Notifications(ctx, u, 10); err != nil || unread != 500 {
		t.Fatalf("%d notifications unread, want the 500 a person keeps (%v)", unread, err)
	}
	if err := s.MarkRead(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	if _, unread, err := s.Notifications(ctx, u, 10); err != nil || unread != 0 {
		t.Fatalf("%d notifications unread after marking all read (%v)", unread, err)
	}
}
