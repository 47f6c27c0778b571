package referral_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/maillage/maillage/referral"
)

// auditActions lists a store's audit log as "action detail" lines.
func auditActions(t *testing.T, f *fixture) []string {
	t.Helper()
	var out []string
	if err := f.st.ForEachAudit(f.ctx, func(e *referral.AuditEntry) error {
		out = append(out, strings.TrimSpace(e.Action+" "+e.Detail))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func owing(t *testing.T, f *fixture, svc *referral.Service) map[string]*referral.Outbox {
	t.Helper()
	rs, err := svc.Owing(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*referral.Outbox{}
	for _, r := range rs {
		m[r.ID] = r.Outbox
	}
	return m
}

// Every change that owes the other node a message records it in the
// same write, and it stays owed until Delivered: a node killed in
// between finds it at its next start.
func TestOutboxRecordedWithTheChange(t *testing.T) {
	p := newPair(t)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	id := out.ID
	// The sender owes the offer, sealed to the recipient (not its own copy).
	o := owing(t, p.a, p.a.svc)[id]
	if o == nil || o.Offer == nil || bytes.Equal(o.Offer, out.Sealed) {
		t.Fatalf("the new referral owes %+v, want the offer", o)
	}
	stored, _ := p.a.st.Referral(p.a.ctx, id)
	if _, err := p.a.st.Consent(p.a.ctx, stored.Consent.ID); err != nil {
		t.Fatalf("the consent was not recorded with the referral: %v", err)
	}
	if got := auditActions(t, p.a); len(got) != 1 || got[0] != "created requested" {
		t.Fatalf("sender's audit = %q", got)
	}
	if err := p.a.svc.Delivered(p.a.ctx, id, *o); err != nil {
		t.Fatal(err)
	}
	if len(owing(t, p.a, p.a.svc)) != 0 {
		t.Fatal("the offer is still owed once delivered")
	}
	if r, _ := p.a.st.Referral(p.a.ctx, id); r.Outbox != nil {
		t.Fatalf("outbox kept after delivery: %+v", r.Outbox)
	}

	// The recipient owes a status for the reception, then for each of its
	// transitions; one delivered late does not clear a newer one.
	got, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local)
	if err != nil {
		t.Fatal(err)
	}
	received := *got.Outbox
	if received.Status != len(got.History) {
		t.Fatalf("reception owes %+v", received)
	}
	moved, err := p.bSvc.Transition(p.a.ctx, id, referral.Accepted, referral.Recipient, "b-worker", "")
	if err != nil {
		t.Fatal(err)
	}
	if moved.Outbox.Status != len(moved.History) || moved.Outbox.Status == received.Status {
		t.Fatalf("the transition owes %+v", moved.Outbox)
	}
	if err := p.bSvc.Delivered(p.a.ctx, id, received); err != nil {
		t.Fatal(err)
	}
	if o := owing(t, p.b, p.bSvc)[id]; o == nil || o.Status != moved.Outbox.Status {
		t.Fatalf("delivering the older status cleared the newer: %+v", o)
	}
	if err := p.bSvc.Delivered(p.a.ctx, id, *moved.Outbox); err != nil {
		t.Fatal(err)
	}
	if len(owing(t, p.b, p.bSvc)) != 0 {
		t.Fatal("statuses still owed once delivered")
	}
	// A transition of the system (retention) owes the sender nothing.
	if r, err := p.bSvc.Transition(p.a.ctx, id, referral.Cancelled, referral.System, "system", ""); err != nil || !r.Outbox.Empty() {
		t.Fatalf("system transition: %v, owes %+v", err, r.Outbox)
	}
}

// The same offer twice (its sender queued it again after a crash) is
// taken once: one referral, one audit line, the first one's state.
func TestReceiveTwiceTakesOnce(t *testing.T) {
	p := newPair(t)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.bSvc.Transition(p.a.ctx, first.ID, referral.Accepted, referral.Recipient, "b-worker", ""); err != nil {
		t.Fatal(err)
	}
	again, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local)
	if err != nil {
		t.Fatalf("the same offer again: %v", err)
	}
	if again.State != referral.Accepted {
		t.Errorf("the offer again reset the referral to %s", again.State)
	}
	if got := auditActions(t, p.b); strings.Join(got, "|") != "received received|transition received → accepted" {
		t.Errorf("recipient's audit = %q, want one reception", got)
	}
	// Another sender cannot take the id over.
	in := incoming(out)
	in.Sender = "https://c.example/actor"
	if _, err := p.bSvc.Receive(p.a.ctx, in, p.local); err == nil {
		t.Error("another sender's offer with a taken id was accepted")
	}
}

// A withdrawal records the withdrawal, the cancellation, the erasure and
// the request owed to the recipient in one write; an offer never sent
// goes with the rest of the data.
func TestWithdrawalOwesErasure(t *testing.T) {
	p := newPair(t)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	id := out.ID
	r, err := p.a.svc.Withdraw(p.a.ctx, id, "a-worker")
	if err != nil {
		t.Fatal(err)
	}
	if r.Outbox == nil || !r.Outbox.Erasure || r.Outbox.Offer != nil || r.Sealed != nil {
		t.Fatalf("withdrawn referral: outbox %+v, sealed %d bytes", r.Outbox, len(r.Sealed))
	}
	ws, err := p.a.st.Withdrawals(p.a.ctx, r.Consent.ID)
	if err != nil || len(ws) != 1 {
		t.Fatalf("withdrawals = %v, %v", ws, err)
	}
	want := []string{"created requested", "withdrawn", "transition → cancelled", "erased withdrawn"}
	if got := auditActions(t, p.a); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sender's audit = %q, want %q", got, want)
	}
	// Once acknowledged, a second withdrawal owes nothing more.
	if err := p.a.svc.Delivered(p.a.ctx, id, *r.Outbox); err != nil {
		t.Fatal(err)
	}
	if _, err := p.a.svc.ErasureAcknowledged(p.a.ctx, id, r.Recipient); err != nil {
		t.Fatal(err)
	}
	if r, err := p.a.svc.Withdraw(p.a.ctx, id, "a-worker"); err != nil || !r.Outbox.Empty() {
		t.Errorf("withdrawn again after the acknowledgement: %v, owes %+v", err, r.Outbox)
	}
}
