package store

import (
	"context"
	"slices"
	"testing"
	"time"

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
