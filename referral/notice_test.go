package referral_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/referral"
)

// kindsPending lists the kinds of the events a store holds for the
// notifications, sorted, and checks none names the resident.
func kindsPending(t *testing.T, f *fixture) []string {
	t.Helper()
	evs, err := f.st.PendingEvents(f.ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, string(ev.Kind)+":"+ev.State)
		if strings.Contains(ev.ID+ev.Reason+ev.State, marker) {
			t.Errorf("event %+v names the resident", ev)
		}
	}
	slices.Sort(out)
	return out
}

// Each change that people are told about records its event with itself;
// a message that comes twice records it once.
func TestChangesRecordTheirNotices(t *testing.T) {
	p := newPair(t)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	if got := kindsPending(t, p.a); len(got) != 0 {
		t.Errorf("creating a referral tells its sender's node %q", got)
	}
	got, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local); err != nil {
		t.Fatal(err)
	}
	if k := kindsPending(t, p.b); !slices.Equal(k, []string{"referral-received:received"}) {
		t.Errorf("B after receiving twice: %q", k)
	}
	if _, err := p.a.svc.Remote(p.a.ctx, out.ID, got.Recipient, referral.Received, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.a.svc.Remote(p.a.ctx, out.ID, got.Recipient, referral.Accepted, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.a.svc.Remote(p.a.ctx, out.ID, got.Recipient, referral.Accepted, ""); err != nil {
		t.Fatal(err)
	}
	if k := kindsPending(t, p.a); !slices.Equal(k, []string{"referral-answered:accepted"}) {
		t.Errorf("A after the recipient's reports: %q (its arrival is no news, its acceptance once)", k)
	}
	if _, err := p.a.svc.Withdraw(p.a.ctx, out.ID, "worker-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.bSvc.EraseRequested(p.a.ctx, out.ID, out.Sender); err != nil {
		t.Fatal(err)
	}
	if _, err := p.a.svc.ErasureAcknowledged(p.a.ctx, out.ID, got.Recipient); err != nil {
		t.Fatal(err)
	}
	if k := kindsPending(t, p.b); !slices.Equal(k, []string{"referral-received:received", "referral-withdrawn:cancelled"}) {
		t.Errorf("B after the withdrawal: %q", k)
	}
	if k := kindsPending(t, p.a); !slices.Equal(k, []string{"referral-answered:accepted", "referral-erased:cancelled"}) {
		t.Errorf("A after B erased: %q", k)
	}
}

// Reminders come once each, on time: the recipient's after 10 days, both
// sides' warnings 3 days before the referral expires (30 days).
func TestRemindersOnce(t *testing.T) {
	p := newPair(t)
	now := t0
	clock := func() time.Time { return now }
	p.a.svc.Now, p.bSvc.Now = clock, clock
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local); err != nil {
		t.Fatal(err)
	}
	remind := func(svc *referral.Service) int {
		k, err := svc.Remind(p.a.ctx, referral.Reminders{}, referral.Timing{})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	for _, step := range []struct {
		at   time.Duration
		a, b int
	}{
		{0, 0, 0},
		{10*24*time.Hour - time.Minute, 0, 0},
		{10 * 24 * time.Hour, 0, 1}, // B's team is reminded
		{11 * 24 * time.Hour, 0, 0}, // once
		{27*24*time.Hour - time.Minute, 0, 0},
		{27 * 24 * time.Hour, 1, 1}, // both sides warned
		{29 * 24 * time.Hour, 0, 0}, // once
	} {
		now = t0.Add(step.at)
		if a, b := remind(p.a.svc), remind(p.bSvc); a != step.a || b != step.b {
			t.Errorf("after %v: A recorded %d, B %d; want %d, %d", step.at, a, b, step.a, step.b)
		}
	}
	if k := kindsPending(t, p.b); !slices.Equal(k, []string{"referral-expiring:received", "referral-received:received", "referral-reminder:received"}) {
		t.Errorf("B: %q", k)
	}
	evs, _ := p.a.st.PendingEvents(p.a.ctx, 10)
	if len(evs) != 1 || evs[0].Kind != "referral-expiring" || !evs[0].Due.Equal(out.Created.Add(30*24*time.Hour)) {
		t.Errorf("A's warning: %+v", evs)
	}
}
