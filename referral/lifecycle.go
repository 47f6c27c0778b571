package referral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// Incoming is a referral as another node sent it.
type Incoming struct {
	ID        string
	Sender    string // the sending node's actor, as verified by federation
	Recipient string // whom it is addressed to: must be this node
	Service   string
	Consent   ConsentSummary
	Sealed    Sealed
}

// Local is what the recipient knows of its own service and of the sender.
type Local struct {
	Policy  *directory.ReferralPolicy // nil when the service is unknown or takes none
	Partner bool                      // whether the sender is a partner
}

// Receive checks and records a referral sent to this node: addressed to
// it, from a sender its service accepts, for a service that takes
// referrals, with a consent still active that covers every category of the
// resident's data, which must be only what the service asks for and open
// with this node's key under the referral's binding. Anything else is
// refused with ErrRefused and nothing is recorded.
func (s *Service) Receive(ctx context.Context, in Incoming, l Local) (*Referral, error) {
	now := s.Now()
	var p []string
	if in.Recipient != s.Actor {
		p = append(p, "the referral is addressed to another node")
	}
	if !strings.HasPrefix(in.ID, strings.TrimSuffix(actorBase(in.Sender), "/")+"/") {
		p = append(p, "the referral's id is not on its sender's host")
	}
	switch {
	case l.Policy == nil || !l.Policy.Accepts:
		p = append(p, "the service does not accept referrals")
	case l.Policy.From != directory.FromNetwork && !l.Partner:
		p = append(p, "the service accepts referrals from its partners only")
	}
	c := in.Consent
	if !now.Before(c.ExpiresAt) {
		p = append(p, "the consent has expired")
	}
	if c.GivenAt.IsZero() || c.GivenAt.After(now.Add(maxClockSkew)) || c.ID == "" || !slices.Contains(Methods, c.Method) || c.NoticeVersion == "" {
		p = append(p, "the consent summary is incomplete")
	}
	if c.Reference != "" && !referenceShape.MatchString(c.Reference) {
		p = append(p, "the consent's reference is not a short reference (2 to 4 capitals, a dash, a number)")
	}
	if c.NoticeLang != "" && !slices.Contains(directory.Langs, directory.Lang(c.NoticeLang)) {
		p = append(p, "the consent's notice_lang is not fr, nl or en")
	}
	var res Resident
	pt, err := s.Keys.Open(in.Sealed, Binding{Referral: in.ID, Sender: in.Sender, Recipient: in.Recipient})
	if err != nil {
		p = append(p, "the sealed data cannot be opened")
	} else if res, err = ParseResident(json.RawMessage(pt)); err != nil {
		p = append(p, "the resident's data is not valid")
	} else {
		for _, cat := range res.Categories() {
			if !slices.Contains(c.Categories, cat) {
				p = append(p, fmt.Sprintf("the consent does not cover %s data", cat))
			}
			if l.Policy != nil && !slices.Contains(l.Policy.Categories, cat) {
				p = append(p, fmt.Sprintf("the service does not ask for %s data", cat))
			}
			if cat == directory.DataSpecial && !c.Special {
				p = append(p, "special-category data without its explicit consent")
			}
		}
	}
	if len(p) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrRefused, strings.Join(p, "; "))
	}
	r := &Referral{
		ID: in.ID, Side: Recipient, Sender: in.Sender, Recipient: in.Recipient, Service: in.Service,
		State: Received, Consent: c, Sealed: in.Sealed, Created: now, Updated: now,
		History: []Event{{At: now, To: Requested, By: Sender}, {At: now, From: Requested, To: Received, By: System}},
	}
	r.owe().Status = len(r.History)
	err = s.Store.AddReferral(ctx, r, Writes{Audit: []AuditEntry{entry(now, in.Sender, "received", r.ID, "received")},
		Notices: []Notice{r.notice(NoticeReceived, now, "")}})
	if errors.Is(err, directory.ErrConflict) {
		// The same offer again: its sender queued it again after a crash.
		// The referral is taken once; its state is reported again.
		if old, e := s.Store.Referral(ctx, in.ID); e == nil && old.Side == Recipient && old.Sender == in.Sender {
			return old, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// actorBase is the scheme and host of an actor id.
func actorBase(actor string) string {
	rest, ok := strings.CutPrefix(actor, "https://")
	scheme := "https://"
	if !ok {
		rest, ok = strings.CutPrefix(actor, "http://")
		scheme = "http://"
	}
	if !ok {
		return "\x00" // matches nothing
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + host
}

// Withdraw records a resident's withdrawal of the consent of a referral
// sent from this node: the referral is cancelled and its data erased
// here. The caller then sends the erasure request to the recipient.
func (s *Service) Withdraw(ctx context.Context, id, worker string) (*Referral, error) {
	r, err := s.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Side != Sender {
		return nil, fmt.Errorf("%w: consent is withdrawn on the node that collected it", ErrTransition)
	}
	return s.erase(ctx, id, worker, "withdrawn", true)
}

// EraseOnRequest erases now the data of a closed referral, on either
// side, before its retention delay: at the resident's request (GDPR
// art. 17) or by the association's decision. An open referral is closed
// first (or its consent withdrawn, on the sender's side). The other node
// is not asked: its copy follows its own rules, or the withdrawal.
func (s *Service) EraseOnRequest(ctx context.Context, id, who string) (*Referral, error) {
	r, err := s.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.State.Terminal() {
		return nil, fmt.Errorf("%w: the referral is %s: close it before erasing its data", ErrTransition, r.State)
	}
	return s.erase(ctx, id, who, "request", false)
}

// EraseRequested erases a received referral's data at its sender's
// request (a withdrawn consent), cancelling it if still open. from must
// be the referral's sender.
func (s *Service) EraseRequested(ctx context.Context, id, from string) (*Referral, error) {
	r, err := s.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Side != Recipient || r.Sender != from {
		return nil, fmt.Errorf("%w: only the sender of a referral may ask for its erasure", ErrRefused)
	}
	return s.erase(ctx, id, from, "withdrawn", true)
}

// erase drops a referral's sealed data, records the erasure, and cancels
// the referral if asked and still open. A withdrawal (why "withdrawn")
// is recorded with it, and owes the other node its message: the sender's
// request to erase, or the recipient's acknowledgement. Erasing twice
// changes nothing, but a withdrawal asks again.
func (s *Service) erase(ctx context.Context, id, by, why string, cancel bool) (*Referral, error) {
	now := s.Now()
	return s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		var w Writes
		if why == "withdrawn" && r.Side == Sender {
			w.Withdrawal = &Withdrawal{Consent: r.Consent.ID, At: now, By: by}
			w.Audit = append(w.Audit, entry(now, by, "withdrawn", id, ""))
		}
		if cancel && !r.State.Terminal() {
			r.History = append(r.History, Event{At: now, From: r.State, To: Cancelled, By: System})
			r.State, r.Reason, r.Updated = Cancelled, "", now
			w.Audit = append(w.Audit, entry(now, "system", "transition", id, "→ cancelled"))
		}
		if r.Erasure == nil {
			if why == "withdrawn" && r.Side == Recipient {
				w.Notices = append(w.Notices, r.notice(NoticeWithdrawn, now, ""))
			}
			r.Sealed, r.Notes = nil, nil
			r.Erasure = &Erasure{At: now, By: by, Why: why}
			r.Updated = now
			w.Audit = append(w.Audit, entry(now, by, "erased", id, why))
		}
		if r.Outbox != nil {
			r.Outbox.Offer = nil // never sent: the data goes with the rest
		}
		erasePartsOf(r, &w) // its documents and thread messages (parts.go)
		if why == "withdrawn" && (r.Side == Recipient || r.RemoteErasure == nil) {
			r.owe().Erasure = true
		}
		if r.Outbox.Empty() {
			r.Outbox = nil
		}
		return w, nil
	})
}

// Timing of the sweep.
type Timing struct {
	ExpireAfter time.Duration // unanswered referrals expire (default 30 days)
	EraseAfter  time.Duration // data of closed referrals is erased (default 180 days)
}

func (t Timing) withDefaults() Timing {
	if t.ExpireAfter <= 0 {
		t.ExpireAfter = 30 * 24 * time.Hour
	}
	if t.EraseAfter <= 0 {
		t.EraseAfter = 180 * 24 * time.Hour
	}
	return t
}

// Due is what a sweep would do now.
type Due struct {
	Expire []string // referrals to expire
	Erase  []string // referrals whose data to erase
}

// DueNow lists what the retention rules ask for at this moment, for the
// admin to see and for Sweep to do.
func (s *Service) DueNow(ctx context.Context, t Timing) (Due, error) {
	t = t.withDefaults()
	now := s.Now()
	var d Due
	err := s.Store.ForEachReferral(ctx, func(r *Referral) error {
		switch {
		case (r.State == Requested || r.State == Received) && !now.Before(r.Created.Add(t.ExpireAfter)):
			d.Expire = append(d.Expire, r.ID)
		case r.State.Terminal() && r.Erasure == nil && (r.State == Expired || !now.Before(r.Updated.Add(t.EraseAfter))):
			d.Erase = append(d.Erase, r.ID)
		}
		return nil
	})
	return d, err
}

// Sweep expires unanswered referrals and erases the data of those closed
// long enough (at once for expired ones). It returns what it did.
func (s *Service) Sweep(ctx context.Context, t Timing) (Due, error) {
	d, err := s.DueNow(ctx, t)
	if err != nil {
		return d, err
	}
	for _, id := range d.Expire {
		if _, err := s.Transition(ctx, id, Expired, System, "system", ""); err != nil && !errors.Is(err, ErrTransition) {
			return d, err
		}
		if _, err := s.erase(ctx, id, "retention", "expired", false); err != nil {
			return d, err
		}
	}
	for _, id := range d.Erase {
		if _, err := s.erase(ctx, id, "retention", "retention", false); err != nil {
			return d, err
		}
	}
	return d, nil
}

// Remote records on the recipient's node that the sender cancelled a
// referral, and on the sender's node what the recipient did, as its node
// reported it: a state of the recipient's side (or "received" from its
// node). Reports may arrive out of order: one that skips states the
// recipient went through is applied along the way (each step recorded),
// one about a state already passed changes nothing, and one the state
// machine cannot reach is refused. from must be the recipient.
func (s *Service) Remote(ctx context.Context, id, from string, to State, reason string) (*Referral, error) {
	return s.RemoteWith(ctx, id, from, to, reason, nil)
}

// RemoteWith is Remote with the service the recipient suggests instead,
// when it referred the person elsewhere (nil: none).
func (s *Service) RemoteWith(ctx context.Context, id, from string, to State, reason string, suggestion *Suggestion) (*Referral, error) {
	if err := CheckReason(to, reason); err != nil {
		return nil, err
	}
	if suggestion != nil {
		if reason != ReferredElsewhere {
			return nil, fmt.Errorf("%w: a suggested service goes only with %s", ErrOutcome, ReferredElsewhere)
		}
		if err := suggestion.Clean(); err != nil {
			return nil, err
		}
	}
	now := s.Now()
	return s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		if r.Side == Recipient && r.Sender == from && to == Cancelled {
			// The sender cancelled it: the recipient's workers stop.
			if r.State.Terminal() {
				return Writes{}, nil
			}
			prev := r.State
			r.History = append(r.History, Event{At: now, From: prev, To: Cancelled, By: Sender})
			r.State, r.Reason, r.Updated = Cancelled, "", now
			return Writes{Audit: []AuditEntry{entry(now, from, "transition", id, fmt.Sprintf("%s → %s", prev, Cancelled))},
				Notices: []Notice{r.notice(NoticeCancelled, now, "")}}, nil
		}
		if r.Side != Sender || r.Recipient != from {
			return Writes{}, fmt.Errorf("%w: only the recipient of a referral reports on it, and its sender cancels it", ErrRefused)
		}
		if r.State == to || path(to, r.State, Recipient, System) != nil {
			return Writes{}, nil // known already, or a report overtaken by a later one
		}
		steps := path(r.State, to, Recipient, System)
		if steps == nil {
			return Writes{}, CheckTransition(r.State, to, Recipient)
		}
		prev := r.State
		for _, st := range steps {
			by := Recipient
			if !transitions[edge{r.State, st, Recipient}] {
				by = System
			}
			ev := Event{At: now, From: r.State, To: st, By: by}
			if st == to {
				ev.Reason = reason
			}
			r.History = append(r.History, ev)
			r.State = st
		}
		r.Reason, r.Updated = reason, now
		if suggestion != nil {
			r.Suggestion = suggestion
		}
		w := Writes{Audit: []AuditEntry{entry(now, from, "transition", id, fmt.Sprintf("%s → %s %s", prev, to, reason))}}
		if answered[to] {
			w.Notices = []Notice{r.notice(NoticeAnswered, now, fmt.Sprint(len(r.History)))}
		}
		return w, nil
	})
}

// ErasureAcknowledged records on the sender's node that the recipient
// erased a referral's data. from must be the recipient; a repeated
// acknowledgement changes nothing.
func (s *Service) ErasureAcknowledged(ctx context.Context, id, from string) (*Referral, error) {
	now := s.Now()
	return s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		if r.Side != Sender || r.Recipient != from {
			return Writes{}, fmt.Errorf("%w: only the recipient of a referral acknowledges its erasure", ErrRefused)
		}
		if r.RemoteErasure != nil {
			return Writes{}, nil
		}
		r.RemoteErasure = &Erasure{At: now, By: from, Why: "withdrawn"}
		r.Updated = now
		return Writes{Audit: []AuditEntry{entry(now, from, "erased", id, "at the recipient")},
			Notices: []Notice{r.notice(NoticeErased, now, "")}}, nil
	})
}
