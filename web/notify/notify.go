package notify

import (
	"context"
	"slices"
	"time"
)

// Kind is what happened.
type Kind string

// The kinds of events people are told about. Referral events name the
// referral and its state, never anything of the resident.
const (
	ReferralReceived  Kind = "referral-received"  // to the receiving service's team
	ReferralAnswered  Kind = "referral-answered"  // accepted, rejected, on hold, completed, failed: to the sending worker
	ReferralCancelled Kind = "referral-cancelled" // the sender cancelled: to the receiving team
	ReferralReminder  Kind = "referral-reminder"  // unanswered for N days: to the receiving team
	ReferralExpiring  Kind = "referral-expiring"  // expires soon: the team on the recipient's side, the worker on the sender's
	ReferralWithdrawn Kind = "referral-withdrawn" // consent withdrawn, data erased here: to the receiving team
	ReferralErased    Kind = "referral-erased"    // the partner erased its copy: to the sending worker
	ReferralMessage   Kind = "referral-message"   // the partner wrote in the thread or sent a document: the team on the recipient's side, the worker on the sender's
	PartnerRequested  Kind = "partner-requested"  // to the admins
	PartnerAccepted   Kind = "partner-accepted"
	PartnerEnded      Kind = "partner-ended"
	ServiceStale      Kind = "service-stale" // not reviewed for N months: to the admins
)

// Kinds lists every kind, in the order pages show them.
var Kinds = []Kind{ReferralReceived, ReferralAnswered, ReferralCancelled, ReferralReminder, ReferralExpiring,
	ReferralWithdrawn, ReferralErased, ReferralMessage, PartnerRequested, PartnerAccepted, PartnerEnded, ServiceStale}

// Topic groups kinds for people's choices: one setting per topic.
type Topic string

// The topics.
const (
	TopicReceived     Topic = "received"     // a referral arrives, or its sender cancels it
	TopicAnswers      Topic = "answers"      // what the partner did with a referral sent
	TopicMessages     Topic = "messages"     // the partner wrote about a referral, or sent a document
	TopicReminders    Topic = "reminders"    // unanswered and expiring referrals
	TopicWithdrawals  Topic = "withdrawals"  // consent withdrawn, data erased
	TopicPartnerships Topic = "partnerships" // requests, new and ended partnerships
	TopicReviews      Topic = "reviews"      // services to review
)

// Topics lists every topic, in the order the settings page shows them.
var Topics = []Topic{TopicReceived, TopicAnswers, TopicMessages, TopicReminders, TopicWithdrawals, TopicPartnerships, TopicReviews}

// Topic returns the topic a kind belongs to.
func (k Kind) Topic() Topic {
	switch k {
	case ReferralReceived, ReferralCancelled:
		return TopicReceived
	case ReferralAnswered:
		return TopicAnswers
	case ReferralMessage:
		return TopicMessages
	case ReferralReminder, ReferralExpiring:
		return TopicReminders
	case ReferralWithdrawn, ReferralErased:
		return TopicWithdrawals
	case PartnerRequested, PartnerAccepted, PartnerEnded:
		return TopicPartnerships
	}
	return TopicReviews
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Valid reports whether t is a known topic.
func (t Topic) Valid() bool { return slices.Contains(Topics, t) }

// Event is one thing that happened that people are to be told about. It
// is written in the same transaction as the change that owes it, and
// holds identifiers and codes only: a referral's id and state, a
// service's id, a partner's actor.
type Event struct {
	// ID is stable for the event: a second event with the same id is
	// ignored, so an event recorded again after a crash is told once.
	ID   string    `json:"id"`
	Kind Kind      `json:"kind"`
	At   time.Time `json:"at"`
	// Referral is the referral's id (referral events).
	Referral string `json:"referral,omitempty"`
	// State and Reason are the referral's state and its reason or outcome
	// code when the event happened.
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Service is a service's id: the node's own (stale services) or the
	// one a referral is for.
	Service string `json:"service,omitempty"`
	// Partner is the other association's actor.
	Partner string `json:"partner,omitempty"`
	// Due is when a referral expires (expiry warnings).
	Due time.Time `json:"due,omitzero"`
}

// Mode is how a person wants to hear of a topic by e-mail.
type Mode string

// The modes.
const (
	Now    Mode = "now"    // one e-mail per event
	Digest Mode = "digest" // one e-mail a day, at the chosen hour
	Off    Mode = "off"    // no e-mail (the list in the app still shows it)
)

// Modes lists the modes.
var Modes = []Mode{Now, Digest, Off}

// Prefs are one staff account's choices. The notifications page lists
// every event that concerns the person whatever the mode: modes choose
// the e-mails.
type Prefs struct {
	User  string         `json:"user"`
	Lang  string         `json:"lang,omitempty"` // fr, nl or en; empty: the node's default
	Modes map[Topic]Mode `json:"modes,omitempty"`
	// DigestHour is the hour, Brussels time, the daily digest is sent.
	DigestHour int `json:"digest_hour"`
	// Services are the node's services the person handles: referrals
	// for them reach the person. None: the person is told of referrals
	// for services nobody named.
	Services []string `json:"services,omitempty"`
}

// DefaultPrefs are the settings of someone who chose nothing: every
// referral event at once, service reviews in the daily digest at 8:00.
func DefaultPrefs(user string) Prefs {
	return Prefs{User: user, DigestHour: 8, Modes: map[Topic]Mode{TopicReviews: Digest}}
}

// Mode returns the mode of a topic (Now when unset).
func (p *Prefs) Mode(t Topic) Mode {
	if m, ok := p.Modes[t]; ok && slices.Contains(Modes, m) {
		return m
	}
	return Now
}

// Notification is one event as one person's list shows it.
type Notification struct {
	User  string `json:"user"`
	Event Event  `json:"event"`
	Read  bool   `json:"read,omitempty"`
}

// MailKind is what a queued e-mail is.
type MailKind string

// The kinds of mail.
const (
	MailEvent   MailKind = "event"   // one event, to one person
	MailDigest  MailKind = "digest"  // the day's events, to one person
	MailReset   MailKind = "reset"   // a password reset link
	MailInvite  MailKind = "invite"  // an invitation to set a password
	MailReceipt MailKind = "receipt" // a consent receipt to the resident who asked for it
	MailTest    MailKind = "test"    // the admin's test message
)

// Mail is an e-mail owed, in the queue until it is sent or given up. It
// holds ids only: the address, the language and the text are read when
// it is sent, so a person's changed address or language applies.
type Mail struct {
	ID       string    `json:"id"`
	Kind     MailKind  `json:"kind"`
	User     string    `json:"user,omitempty"`     // the staff account it is for
	Events   []Event   `json:"events,omitempty"`   // event and digest mails
	Token    string    `json:"token,omitempty"`    // reset and invite mails: the token's id, never its secret
	Referral string    `json:"referral,omitempty"` // receipt mails: the referral whose receipt it is
	Created  time.Time `json:"created"`
	NextAt   time.Time `json:"next_at"`
	Attempts int       `json:"attempts,omitempty"`
	// LastError says why the last attempt failed, without any address.
	LastError string `json:"last_error,omitempty"`
	// Failed is when the node gave up sending it (zero: still queued).
	Failed time.Time `json:"failed,omitzero"`
}

// Store is what notifications need from persistence. Every write is one
// transaction.
type Store interface {
	// AddEvents records events; those seen before (by id) are ignored.
	AddEvents(ctx context.Context, evs ...Event) error
	// PendingEvents returns up to limit events not yet dispatched.
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
	// Dispatch records what an event gives (notifications, mails, digest
	// entries) and removes it from the pending events, in one
	// transaction.
	Dispatch(ctx context.Context, ev Event, ns []Notification, mails []*Mail, digest []Notification) error

	// Notifications returns up to limit of a person's notifications,
	// newest first, and how many are unread.
	Notifications(ctx context.Context, user string, limit int) ([]Notification, int, error)
	// MarkRead marks a person's notifications read: those with the
	// given event ids, or all when ids is empty.
	MarkRead(ctx context.Context, user string, ids []string) error

	// Prefs returns a person's choices (DefaultPrefs when none).
	Prefs(ctx context.Context, user string) (*Prefs, error)
	PutPrefs(ctx context.Context, p *Prefs) error

	// QueueMail adds a mail to the queue.
	QueueMail(ctx context.Context, m *Mail) error
	// DueMails returns up to limit queued mails due at now, oldest first.
	DueMails(ctx context.Context, now time.Time, limit int) ([]*Mail, error)
	// RescheduleMail replaces old by next (its new attempt time), or, when
	// next.Failed is set, moves it to the failed mails.
	RescheduleMail(ctx context.Context, old, next *Mail) error
	// DeleteMail removes a sent mail from the queue.
	DeleteMail(ctx context.Context, m *Mail) error
	// Mails returns the queued mails and the failed ones (newest first,
	// up to limit).
	Mails(ctx context.Context, limit int) (queued []*Mail, failed []*Mail, err error)

	// DigestUsers lists the people with digest entries waiting.
	DigestUsers(ctx context.Context) ([]string, error)
	// TakeDigest queues a digest mail built by fn from a person's digest
	// entries of events before the given time and removes them, in one
	// transaction; fn returning nil
	// queues nothing and keeps them.
	TakeDigest(ctx context.Context, user string, before time.Time, fn func([]Notification) *Mail) error
}
