package referral_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// pair is a sender A and a recipient B, each with its own store and keys.
type pair struct {
	a, b  *fixture
	bSvc  *referral.Service
	local referral.Local
}

func newPair(t *testing.T) *pair {
	a := newFixture(t)
	b := newFixture(t) // B's own store; its keyring is A's "theirs"
	bSvc := &referral.Service{Store: b.st, Keys: a.theirs, Actor: "https://b.example/actor", Base: "https://b.example", Now: a.svc.Now}
	return &pair{a: a, b: b, bSvc: bSvc, local: referral.Local{Policy: a.target.Policy, Partner: true}}
}

func incoming(r *referral.Referral) referral.Incoming {
	return referral.Incoming{ID: r.ID, Sender: r.Sender, Recipient: r.Recipient, Service: r.Service, Consent: r.Consent, Sealed: r.Outbox.Offer}
}

func TestClosedLoop(t *testing.T) {
	p := newPair(t)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != referral.Received || got.Side != referral.Recipient {
		t.Fatalf("received = %+v", got)
	}
	if res, err := p.bSvc.Open(p.a.ctx, got.ID, "b-worker"); err != nil || res["name"] != marker {
		t.Fatalf("B opens %v, %v", res, err)
	}
	for _, step := range []struct {
		to     referral.State
		reason string
	}{{referral.Accepted, ""}, {referral.InProgress, ""}, {referral.OnHold, ""}, {referral.InProgress, ""}, {referral.Completed, "service-provided"}} {
		if _, err := p.bSvc.Transition(p.a.ctx, got.ID, step.to, referral.Recipient, "b-worker", step.reason); err != nil {
			t.Fatalf("→ %s: %v", step.to, err)
		}
	}
	// The sender cannot make the recipient's transitions on its node.
	if _, err := p.a.svc.Transition(p.a.ctx, got.ID, referral.Accepted, referral.Recipient, "a-worker", ""); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("sender accepted its own referral: %v", err)
	}
	r, _ := p.b.st.Referral(p.a.ctx, got.ID)
	if r.State != referral.Completed || r.Reason != "service-provided" || len(r.History) != 7 {
		t.Errorf("B's referral = %s %s, %d events", r.State, r.Reason, len(r.History))
	}
}

func TestReceiveRefusals(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *pair, in *referral.Incoming)
		want   string
	}{
		{"addressed to another node", func(p *pair, in *referral.Incoming) { in.Recipient = "https://c.example/actor" }, "another node"},
		{"id on another host", func(p *pair, in *referral.Incoming) { in.ID = "https://evil.example/referrals/1" }, "sender's host"},
		{"not a partner", func(p *pair, in *referral.Incoming) { p.local.Partner = false }, "partners only"},
		{"service takes none", func(p *pair, in *referral.Incoming) { p.local.Policy = nil }, "does not accept"},
		{"consent expired", func(p *pair, in *referral.Incoming) { in.Consent.ExpiresAt = t0.Add(-time.Second) }, "expired"},
		{"consent narrower than the data", func(p *pair, in *referral.Incoming) {
			in.Consent.Categories = []directory.DataCategory{directory.DataIdentity}
		}, "does not cover contact"},
		{"service asks for less", func(p *pair, in *referral.Incoming) {
			p.local.Policy = &directory.ReferralPolicy{Accepts: true, From: directory.FromNetwork, Categories: []directory.DataCategory{directory.DataIdentity}}
		}, "does not ask for contact"},
		{"tampered ciphertext", func(p *pair, in *referral.Incoming) {
			in.Sealed = bytes.Clone(in.Sealed)
			in.Sealed[len(in.Sealed)-3] ^= 1
		}, "cannot be opened"},
		{"payload of another referral", func(p *pair, in *referral.Incoming) {
			other, err := p.a.create()
			if err != nil {
				panic(err)
			}
			in.Sealed = other.Outbox.Offer
		}, "cannot be opened"},
		{"consent summary incomplete", func(p *pair, in *referral.Incoming) { in.Consent.Method = "" }, "incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t)
			out, err := p.a.create()
			if err != nil {
				t.Fatal(err)
			}
			in := incoming(out)
			tt.change(p, &in)
			_, err = p.bSvc.Receive(p.a.ctx, in, p.local)
			if !errors.Is(err, referral.ErrRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrRefused mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), marker) {
				t.Errorf("error echoes resident data: %v", err)
			}
			n := 0
			p.b.st.ForEachReferral(p.a.ctx, func(*referral.Referral) error { n++; return nil })
			if n != 0 {
				t.Errorf("a refused referral was stored on the recipient")
			}
		})
	}
}

func TestWithdrawalErasesOnBothSides(t *testing.T) {
	p := newPair(t)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	id := out.ID
	if _, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local); err != nil {
		t.Fatal(err)
	}
	if _, err := p.bSvc.Withdraw(p.a.ctx, id, "b-worker"); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("the recipient withdrew the sender's consent: %v", err)
	}
	r, err := p.a.svc.Withdraw(p.a.ctx, id, "a-worker")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != referral.Cancelled || r.Sealed != nil || r.Erasure == nil || r.Erasure.Why != "withdrawn" {
		t.Errorf("sender after withdrawal: %+v", r)
	}
	if w, _ := p.a.st.Withdrawals(p.a.ctx, r.Consent.ID); len(w) != 1 {
		t.Errorf("withdrawals = %v", w)
	}
	if _, err := p.a.svc.Open(p.a.ctx, id, "a-worker"); err == nil {
		t.Error("the sender still opens withdrawn data")
	}
	// Only the sender may ask the recipient to erase.
	if _, err := p.bSvc.EraseRequested(p.a.ctx, id, "https://c.example/actor"); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("erasure asked by a third node: %v", err)
	}
	for range 2 { // a repeated request changes nothing more
		rb, err := p.bSvc.EraseRequested(p.a.ctx, id, "https://a.example/actor")
		if err != nil {
			t.Fatal(err)
		}
		if rb.State != referral.Cancelled || rb.Sealed != nil || rb.Erasure == nil {
			t.Errorf("recipient after erasure: %+v", rb)
		}
	}
	var actions []string
	p.b.st.ForEachAudit(p.a.ctx, func(e *referral.AuditEntry) error { actions = append(actions, e.Action); return nil })
	if !slices.Equal(actions, []string{"received", "transition", "erased"}) {
		t.Errorf("recipient's audit = %v", actions)
	}
	raw, _ := json.Marshal(actions)
	if bytes.Contains(raw, []byte(marker)) {
		t.Error("audit holds resident data")
	}
}

func TestSweepExpiresAndErases(t *testing.T) {
	now := t0
	p := newPair(t)
	p.a.svc.Now = func() time.Time { return now }
	p.bSvc.Now = p.a.svc.Now
	unanswered, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	done, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.bSvc.Receive(p.a.ctx, incoming(done), p.local); err != nil {
		t.Fatal(err)
	}
	for _, to := range []referral.State{referral.Accepted, referral.InProgress} {
		p.bSvc.Transition(p.a.ctx, done.ID, to, referral.Recipient, "b", "")
	}
	p.bSvc.Transition(p.a.ctx, done.ID, referral.Failed, referral.Recipient, "b", "resident-unreachable")
	timing := referral.Timing{}

	now = t0.Add(29 * 24 * time.Hour)
	if d, _ := p.a.svc.DueNow(p.a.ctx, timing); len(d.Expire)+len(d.Erase) != 0 {
		t.Errorf("due after 29 days: %+v", d)
	}
	now = t0.Add(30 * 24 * time.Hour)
	d, err := p.a.svc.Sweep(p.a.ctx, timing)
	if err != nil {
		t.Fatal(err)
	}
	// A's copy of the referral sent to B is still "requested" on A (no
	// federation here): both of A's referrals expire.
	if len(d.Expire) != 2 {
		t.Errorf("expired on A = %v", d.Expire)
	}
	r, _ := p.a.st.Referral(p.a.ctx, unanswered.ID)
	if r.State != referral.Expired || r.Sealed != nil || r.Erasure == nil || r.Erasure.Why != "expired" {
		t.Errorf("expired referral = %+v", r)
	}
	// On B the failed referral keeps its data until the retention period.
	if d, _ := p.bSvc.Sweep(p.a.ctx, timing); len(d.Erase) != 0 {
		t.Errorf("B erased early: %+v", d)
	}
	now = t0.Add(180*24*time.Hour + time.Minute)
	if d, _ := p.bSvc.Sweep(p.a.ctx, timing); len(d.Erase) != 1 {
		t.Errorf("B's sweep after 180 days = %+v", d)
	}
	rb, _ := p.b.st.Referral(p.a.ctx, done.ID)
	if rb.Sealed != nil || rb.Erasure == nil || rb.Erasure.Why != "retention" || rb.State != referral.Failed {
		t.Errorf("B after retention: %+v", rb)
	}
	if d, _ := p.bSvc.DueNow(p.a.ctx, timing); len(d.Erase)+len(d.Expire) != 0 {
		t.Errorf("still due after the sweep: %+v", d)
	}
}

// The sender's node mirrors what the recipient reports, checked against
// the state machine, from the recipient only.
func TestSenderMirrorsTheRecipient(t *testing.T) {
	p := newPair(t)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	id, b := out.ID, "https://b.example/actor"
	if _, err := p.a.svc.Remote(p.a.ctx, id, "https://c.example/actor", referral.Received, ""); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("a third node reported: %v", err)
	}
	// Reports overtaking each other: "accepted" before "received" goes
	// through received; the late "received" then changes nothing.
	r, err := p.a.svc.Remote(p.a.ctx, id, b, referral.Accepted, "")
	if err != nil || r.State != referral.Accepted || len(r.History) != 4 || r.History[2].To != referral.Received {
		t.Fatalf("accepted before received: %+v, %v", r, err)
	}
	if r, err := p.a.svc.Remote(p.a.ctx, id, b, referral.Received, ""); err != nil || r.State != referral.Accepted || len(r.History) != 4 {
		t.Errorf("late received: %+v, %v", r, err)
	}
	if _, err := p.a.svc.Remote(p.a.ctx, id, b, referral.Rejected, "no-capacity"); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("rejected after accepted: %v", err)
	}
	for _, st := range []struct {
		to     referral.State
		reason string
	}{{referral.InProgress, ""}, {referral.Failed, "resident-unreachable"}} {
		if _, err := p.a.svc.Remote(p.a.ctx, id, b, st.to, st.reason); err != nil {
			t.Fatalf("→ %s: %v", st.to, err)
		}
	}
	if _, err := p.a.svc.Remote(p.a.ctx, id, b, referral.Completed, "service-provided"); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("left a final state: %v", err)
	}
	if _, err := p.a.svc.ErasureAcknowledged(p.a.ctx, id, "https://c.example/actor"); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("a third node acknowledged erasure: %v", err)
	}
	for range 2 {
		r, err := p.a.svc.ErasureAcknowledged(p.a.ctx, id, b)
		if err != nil || r.RemoteErasure == nil || r.RemoteErasure.By != b {
			t.Fatalf("acknowledgement: %+v, %v", r, err)
		}
	}
	var erased int
	p.a.st.ForEachAudit(p.a.ctx, func(e *referral.AuditEntry) error {
		if e.Action == "erased" {
			erased++
		}
		return nil
	})
	if erased != 1 {
		t.Errorf("%d erasure lines in the audit, want 1", erased)
	}
}
