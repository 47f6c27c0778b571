package referral

import (
	"context"
	"fmt"
	"time"
)

// Notice is something this node's staff are to be told about a
// referral. A change records its notices in the same write as itself
// (Writes), and the node's notifications tell the people concerned: the
// receiving service's team, or the worker who sent the referral. A
// notice names the referral, its service, the other association and
// states: never anything of the resident.
type Notice struct {
	// ID is stable for what happened: a notice recorded again (a
	// message the other node sent twice) is told once.
	ID       string     `json:"id"`
	Kind     NoticeKind `json:"kind"`
	Referral string     `json:"referral"`
	Service  string     `json:"service"`
	Partner  string     `json:"partner"` // the other association's actor
	State    State      `json:"state"`
	Reason   string     `json:"reason,omitempty"`
	At       time.Time  `json:"at"`
	Due      time.Time  `json:"due,omitzero"` // when the referral expires (expiry warnings)
}

// NoticeKind is what a notice tells.
type NoticeKind string

// The notices a referral gives.
const (
	NoticeReceived  NoticeKind = "received"  // a referral arrived (recipient)
	NoticeAnswered  NoticeKind = "answered"  // the recipient accepted, rejected, put on hold, completed or failed it (sender)
	NoticeCancelled NoticeKind = "cancelled" // the sender cancelled it (recipient)
	NoticeWithdrawn NoticeKind = "withdrawn" // consent withdrawn: the data here is erased (recipient)
	NoticeErased    NoticeKind = "erased"    // the recipient erased its copy after a withdrawal (sender)
	NoticeReminder  NoticeKind = "reminder"  // still unanswered after the reminder delay (recipient)
	NoticeExpiring  NoticeKind = "expiring"  // unanswered and expiring soon (both sides)
	NoticeMessage   NoticeKind = "message"   // the other side wrote in the thread, or a document arrived (both sides)
)

// answered are the recipient's states its sender is told of.
var answered = map[State]bool{Accepted: true, Rejected: true, OnHold: true, Completed: true, Failed: true}

// notice builds r's notice of kind at now, its id made of the referral's
// handle, the kind and what distinguishes a second one of that kind.
func (r *Referral) notice(kind NoticeKind, now time.Time, distinct string) Notice {
	partner := r.Sender
	if r.Side == Sender {
		partner = r.Recipient
	}
	id := string(kind) + "/" + Handle(r.ID)
	if distinct != "" {
		id += "/" + distinct
	}
	return Notice{ID: id, Kind: kind, Referral: r.ID, Service: r.Service, Partner: partner,
		State: r.State, Reason: r.Reason, At: now}
}

// Reminders say when the staff are reminded of unanswered referrals.
type Reminders struct {
	// After is how long after it arrived an unanswered referral is
	// recalled to the receiving team (default 10 days).
	After time.Duration
	// Before is how long before an unanswered referral expires both
	// sides are warned (default 3 days).
	Before time.Duration
}

func (m Reminders) withDefaults() Reminders {
	if m.After <= 0 {
		m.After = 10 * 24 * time.Hour
	}
	if m.Before <= 0 {
		m.Before = 3 * 24 * time.Hour
	}
	return m
}

// unanswered reports whether r still waits for the recipient's answer.
func (r *Referral) unanswered() bool { return r.State == Requested || r.State == Received }

// Remind records the reminders and expiry warnings that are due: once
// each per referral, whatever the number of sweeps. It returns how many
// notices it recorded.
func (s *Service) Remind(ctx context.Context, m Reminders, t Timing) (int, error) {
	m, t = m.withDefaults(), t.withDefaults()
	now := s.Now()
	type due struct {
		id   string
		kind NoticeKind
	}
	var todo []due
	err := s.Store.ForEachReferral(ctx, func(r *Referral) error {
		if !r.unanswered() {
			return nil
		}
		expires := r.Created.Add(t.ExpireAfter)
		if r.Side == Recipient && r.Reminded.IsZero() && !now.Before(r.Created.Add(m.After)) && now.Before(expires.Add(-m.Before)) {
			todo = append(todo, due{r.ID, NoticeReminder})
		}
		if r.Warned.IsZero() && !now.Before(expires.Add(-m.Before)) && now.Before(expires) {
			todo = append(todo, due{r.ID, NoticeExpiring})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	told := 0
	for _, d := range todo {
		_, err := s.Store.UpdateReferral(ctx, d.id, func(r *Referral) (Writes, error) {
			if !r.unanswered() {
				return Writes{}, nil
			}
			n := r.notice(d.kind, now, "")
			switch d.kind {
			case NoticeReminder:
				if !r.Reminded.IsZero() {
					return Writes{}, nil
				}
				r.Reminded = now
			case NoticeExpiring:
				if !r.Warned.IsZero() {
					return Writes{}, nil
				}
				r.Warned = now
				n.Due = r.Created.Add(t.ExpireAfter)
			}
			told++
			return Writes{Notices: []Notice{n}}, nil
		})
		if err != nil {
			return told, fmt.Errorf("referral: remind: %w", err)
		}
	}
	return told, nil
}
