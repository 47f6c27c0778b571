package referral_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

const noteMarker = "NOTE-Zineb-0475-11-22-33"

// The recipient rejects a referral as referred elsewhere, with a note
// and a suggested service: the note is sealed in its record (never in
// clear, never in the audit), opens for its workers, and is erased with
// the data; the suggestion reaches the sender with the state, cleaned.
func TestOutcomeNoteAndSuggestion(t *testing.T) {
	p := newPair(t)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local)
	if err != nil {
		t.Fatal(err)
	}
	g := &referral.Suggestion{Service: "https://c.example/services/fle", Name: directory.Text{directory.FR: "Cours de\x00 français", "de": "Deutschkurs"}, Provider: "École Babel"}
	rb, err := p.bSvc.TransitionWith(p.a.ctx, got.ID, referral.Rejected, referral.Recipient, "b-worker",
		referral.Outcome{Reason: referral.ReferredElsewhere, Note: noteMarker, Suggestion: g})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Suggestion == nil || rb.Suggestion.Name[directory.FR] != "Cours de  français" || rb.Suggestion.Name["de"] != "" {
		t.Errorf("suggestion kept as %+v", rb.Suggestion)
	}
	stored, err := p.b.st.Referral(p.a.ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(stored)
	if strings.Contains(string(raw), noteMarker) || len(stored.Notes) != 1 {
		t.Errorf("note in clear in the record, or not kept: %d notes", len(stored.Notes))
	}
	if notes := p.bSvc.Notes(stored); notes[len(stored.History)] != noteMarker {
		t.Errorf("notes open as %v", notes)
	}
	// Another node's keys do not open it.
	if notes := p.a.svc.Notes(stored); len(notes) != 0 {
		t.Errorf("the sender's keys open the recipient's note: %v", notes)
	}
	p.b.st.ForEachAudit(p.a.ctx, func(e *referral.AuditEntry) error {
		if strings.Contains(e.Detail, noteMarker) {
			t.Error("the audit holds the note")
		}
		return nil
	})
	// The sender hears the state and the suggestion, never the note.
	ra, err := p.a.svc.RemoteWith(p.a.ctx, out.ID, out.Recipient, referral.Rejected, referral.ReferredElsewhere, rb.Suggestion)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Suggestion == nil || ra.Suggestion.Service != g.Service || len(ra.Notes) != 0 {
		t.Errorf("sender: suggestion %+v, %d notes", ra.Suggestion, len(ra.Notes))
	}
	// Erased with the data.
	rb, err = p.bSvc.EraseOnRequest(p.a.ctx, got.ID, "b-admin")
	if err != nil {
		t.Fatal(err)
	}
	if len(rb.Notes) != 0 {
		t.Errorf("%d notes left after erasure", len(rb.Notes))
	}
}

// What cannot go with a step is refused with ErrOutcome and changes
// nothing: a suggestion with another reason, from the sender, or without
// an http(s) address or a name; a note too long.
func TestOutcomeRefusals(t *testing.T) {
	p := newPair(t)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local)
	if err != nil {
		t.Fatal(err)
	}
	good := func() *referral.Suggestion {
		return &referral.Suggestion{Service: "https://c.example/services/fle", Name: directory.T(directory.FR, "Cours de français")}
	}
	for name, o := range map[string]referral.Outcome{
		"another reason":  {Reason: "no-capacity", Suggestion: good()},
		"no address":      {Reason: referral.ReferredElsewhere, Suggestion: &referral.Suggestion{Service: "javascript:alert(1)", Name: directory.T(directory.FR, "x")}},
		"no name":         {Reason: referral.ReferredElsewhere, Suggestion: &referral.Suggestion{Service: "https://c.example/services/fle", Name: directory.Text{"de": "Kurs"}}},
		"a note too long": {Reason: "no-capacity", Note: strings.Repeat("é", referral.MaxNoteLen+1)},
	} {
		if _, err := p.bSvc.TransitionWith(p.a.ctx, got.ID, referral.Rejected, referral.Recipient, "b-worker", o); !errors.Is(err, referral.ErrOutcome) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if r, _ := p.b.st.Referral(p.a.ctx, got.ID); r.State != referral.Received || r.Suggestion != nil || len(r.Notes) != 0 {
		t.Errorf("after refusals: %s, %+v, %d notes", r.State, r.Suggestion, len(r.Notes))
	}
	// The sender suggests nothing: cancelling with a suggestion.
	if _, err := p.a.svc.TransitionWith(p.a.ctx, out.ID, referral.Cancelled, referral.Sender, "a-worker",
		referral.Outcome{Suggestion: good()}); err == nil {
		t.Error("the sender suggested a service")
	}
	// A report naming a suggestion with another reason is refused.
	if _, err := p.a.svc.RemoteWith(p.a.ctx, out.ID, out.Recipient, referral.Rejected, "no-capacity", good()); !errors.Is(err, referral.ErrOutcome) {
		t.Errorf("report with a suggestion and another reason: %v", err)
	}
	// The new reasons are on the fixed lists.
	for _, to := range []referral.State{referral.Rejected, referral.Failed} {
		if err := referral.CheckReason(to, referral.ReferredElsewhere); err != nil {
			t.Errorf("%s: %v", to, err)
		}
	}
}
