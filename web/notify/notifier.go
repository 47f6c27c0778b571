package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maillage/maillage/web/account"
)

// Message is one e-mail as the Mailer sends it: rendered, addressed.
type Message struct {
	ID      string // stable Message-ID local part: the same mail sent again carries the same id
	To      string
	Subject string
	Text    string // the plain-text part
	HTML    string // the HTML part
	// Unsubscribe, when set, is the one-click unsubscribe URL
	// (List-Unsubscribe and List-Unsubscribe-Post headers).
	Unsubscribe string
	Attachments []Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Mailer sends messages. Errors wrapping ErrPermanent are not retried.
type Mailer interface {
	Send(ctx context.Context, m *Message) error
}

// ErrPermanent marks a sending error that will not go away by retrying
// (an address the server refuses, a message it will never take).
var ErrPermanent = errors.New("permanent failure")

// ErrDrop tells the sender that a mail has nothing left to send (its
// account or its referral's data is gone): it leaves the queue unsent.
var ErrDrop = errors.New("nothing to send")

// Renderer turns a queued mail into a message for its recipient, in
// their language. It returns ErrDrop when there is nothing to send.
type Renderer interface {
	Render(ctx context.Context, m *Mail, to *account.User, p *Prefs) (*Message, error)
}

// People are the node's staff accounts, as notifications need them.
type People interface {
	Users(ctx context.Context) ([]*account.User, error)
	User(ctx context.Context, id string) (*account.User, error)
}

// Subject says, for an event, who on this node it concerns beyond the
// roles: the worker who sent a referral and the service it is for.
type Subject struct {
	Worker  string // the sending worker's account (sender side), or ""
	Service string // the service the referral is for, or ""
	Side    string // "sender" or "recipient"
}

// Subjects looks up what an event is about (a referral, by its id).
type Subjects interface {
	Subject(ctx context.Context, ev *Event) (Subject, error)
}

// Options configure a Notifier.
type Options struct {
	Store    Store
	People   People
	Subjects Subjects
	// Mailer sends e-mails; nil: e-mail is off, notifications only show
	// in the app.
	Mailer   Mailer
	Renderer Renderer
	// Key signs unsubscribe links (32 bytes or more).
	Key    []byte
	Logger *slog.Logger
	Now    func() time.Time
	// Location is the time zone of digest hours (default Europe/Brussels).
	Location *time.Location
	// Every is how often the queue is looked at without a wake-up
	// (default 2 s); FirstRetry the wait after a first failure, doubling
	// up to 6 hours (default 1 minute); GiveUpAfter how long a mail is
	// tried (default 3 days).
	Every       time.Duration
	FirstRetry  time.Duration
	GiveUpAfter time.Duration
	// Registry, when set, receives the notifications' metrics.
	Registry prometheus.Registerer
}

// Notifier turns events into notifications and e-mails: it dispatches
// pending events to the people they concern, sends queued mails with
// retries, and the daily digests.
type Notifier struct {
	o    Options
	wake chan struct{}
	m    metrics
	mu   sync.Mutex // one pass at a time
}

type metrics struct {
	events  *prometheus.CounterVec
	sent    *prometheus.CounterVec
	retried prometheus.Counter
	failed  prometheus.Counter
}

// New returns a Notifier.
func New(o Options) (*Notifier, error) {
	if o.Store == nil || o.People == nil || o.Subjects == nil {
		return nil, errors.New("notify: a store, people and subjects are needed")
	}
	if o.Mailer != nil && o.Renderer == nil {
		return nil, errors.New("notify: a mailer needs a renderer")
	}
	if len(o.Key) < 32 {
		return nil, errors.New("notify: the unsubscribe key must have 32 bytes or more")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		loc, err := time.LoadLocation("Europe/Brussels")
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		o.Location = loc
	}
	if o.Every <= 0 {
		o.Every = 2 * time.Second
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = time.Minute
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = 72 * time.Hour
	}
	n := &Notifier{o: o, wake: make(chan struct{}, 1)}
	n.m = metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "maillage_notification_events_total",
			Help: "Events dispatched to the people they concern, by kind."}, []string{"kind"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "maillage_mail_sent_total",
			Help: "E-mails sent, by kind."}, []string{"kind"}),
		retried: prometheus.NewCounter(prometheus.CounterOpts{Name: "maillage_mail_retries_total",
			Help: "Failed attempts to send an e-mail that will be tried again."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "maillage_mail_failed_total",
			Help: "E-mails given up after failing (see the admin's e-mail page)."}),
	}
	if o.Registry != nil {
		queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "maillage_mail_queued",
			Help: "E-mails waiting to be sent."}, func() float64 {
			q, _, err := o.Store.Mails(context.Background(), 0)
			if err != nil {
				return -1
			}
			return float64(len(q))
		})
		for _, c := range []prometheus.Collector{n.m.events, n.m.sent, n.m.retried, n.m.failed, queued} {
			if err := o.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("notify: metrics: %w", err)
			}
		}
	}
	return n, nil
}

// MailOn reports whether the node sends e-mail.
func (n *Notifier) MailOn() bool { return n.o.Mailer != nil }

// Wake asks for a pass soon (after a change that owes events or mails).
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run dispatches events and sends mails until ctx is done. Its first
// pass tries every queued mail at once, whatever its next attempt: a
// node restarted (its SMTP settings fixed, or after a crash) does not
// wait out the backoff of mails that failed before.
func (n *Notifier) Run(ctx context.Context) {
	tick := time.NewTicker(n.o.Every)
	defer tick.Stop()
	for first := true; ; first = false {
		if err := n.pass(ctx, first); err != nil && ctx.Err() == nil {
			n.o.Logger.Error("notifications", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-n.wake:
		}
	}
}

// Pass does once what Run repeats: dispatch pending events, queue the
// digests that are due, send the mails that are due.
func (n *Notifier) Pass(ctx context.Context) error { return n.pass(ctx, false) }

func (n *Notifier) pass(ctx context.Context, all bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.dispatch(ctx); err != nil {
		return err
	}
	if n.o.Mailer == nil {
		return nil
	}
	if err := n.digests(ctx); err != nil {
		return err
	}
	return n.send(ctx, all)
}

// dispatch turns each pending event into notifications for the people
// it concerns, and their e-mails as they chose.
func (n *Notifier) dispatch(ctx context.Context) error {
	for {
		evs, err := n.o.Store.PendingEvents(ctx, 100)
		if err != nil || len(evs) == 0 {
			return err
		}
		users, err := n.o.People.Users(ctx)
		if err != nil {
			return err
		}
		prefs := map[string]*Prefs{}
		for _, u := range users {
			if prefs[u.ID], err = n.o.Store.Prefs(ctx, u.ID); err != nil {
				return err
			}
		}
		for i := range evs {
			ev := evs[i]
			to, err := n.recipients(ctx, &ev, users, prefs)
			if err != nil {
				return fmt.Errorf("notify: recipients of %s: %w", ev.Kind, err)
			}
			var ns, digest []Notification
			var mails []*Mail
			for _, u := range to {
				nt := Notification{User: u.ID, Event: ev}
				ns = append(ns, nt)
				if n.o.Mailer == nil || u.PasswordHash == "" {
					continue // e-mail off, or an invitation not yet taken up
				}
				switch prefs[u.ID].Mode(ev.Kind.Topic()) {
				case Now:
					now := n.o.Now().UTC()
					mails = append(mails, &Mail{ID: ev.ID + "/" + u.ID, Kind: MailEvent, User: u.ID,
						Events: []Event{ev}, Created: now, NextAt: now})
				case Digest:
					digest = append(digest, nt)
				}
			}
			if err := n.o.Store.Dispatch(ctx, ev, ns, mails, digest); err != nil {
				return err
			}
			n.m.events.WithLabelValues(string(ev.Kind)).Inc()
		}
	}
}

// recipients returns the staff an event concerns: the receiving
// service's team, the worker who sent a referral, or the admins.
func (n *Notifier) recipients(ctx context.Context, ev *Event, users []*account.User, prefs map[string]*Prefs) ([]*account.User, error) {
	active := func(keep func(*account.User) bool) []*account.User {
		var out []*account.User
		for _, u := range users {
			if !u.Disabled && keep(u) {
				out = append(out, u)
			}
		}
		return out
	}
	admins := func() []*account.User {
		return active(func(u *account.User) bool { return u.Role == account.RoleAdmin })
	}
	var s Subject
	if ev.Referral != "" {
		var err error
		if s, err = n.o.Subjects.Subject(ctx, ev); err != nil {
			return nil, err
		}
	}
	team := func() []*account.User {
		named := active(func(u *account.User) bool { return slices.Contains(prefs[u.ID].Services, s.Service) })
		if len(named) > 0 {
			return named
		}
		if w := active(func(u *account.User) bool { return u.Role == account.RoleWorker }); len(w) > 0 {
			return w
		}
		return admins()
	}
	worker := func() []*account.User {
		if w := active(func(u *account.User) bool { return u.ID == s.Worker }); len(w) > 0 {
			return w
		}
		return admins() // the worker left: someone must hear of it
	}
	switch ev.Kind {
	case ReferralReceived, ReferralCancelled, ReferralReminder, ReferralWithdrawn:
		return team(), nil
	case ReferralAnswered, ReferralErased:
		return worker(), nil
	case ReferralExpiring, ReferralMessage:
		if s.Side == "sender" {
			return worker(), nil
		}
		return team(), nil
	}
	return admins(), nil
}

// digests queues each person's digest when their hour has passed since
// the entries were written.
func (n *Notifier) digests(ctx context.Context) error {
	users, err := n.o.Store.DigestUsers(ctx)
	if err != nil {
		return err
	}
	now := n.o.Now()
	for _, id := range users {
		p, err := n.o.Store.Prefs(ctx, id)
		if err != nil {
			return err
		}
		before := LastDigestTime(now, p.DigestHour, n.o.Location)
		err = n.o.Store.TakeDigest(ctx, id, before, func(items []Notification) *Mail {
			if len(items) == 0 {
				return nil
			}
			evs := make([]Event, len(items))
			for i, it := range items {
				evs[i] = it.Event
			}
			at := now.UTC()
			return &Mail{ID: fmt.Sprintf("digest/%s/%s", id, before.UTC().Format("20060102T15")), Kind: MailDigest,
				User: id, Events: evs, Created: at, NextAt: at}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// LastDigestTime is the latest time not after now when the clock in loc
// read hour:00.
func LastDigestTime(now time.Time, hour int, loc *time.Location) time.Time {
	t := now.In(loc)
	d := time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, loc)
	if d.After(now) {
		d = time.Date(t.Year(), t.Month(), t.Day()-1, hour, 0, 0, 0, loc)
	}
	return d
}

// send sends the mails that are due, retrying failures with backoff.
func (n *Notifier) send(ctx context.Context, all bool) error {
	until := n.o.Now()
	if all {
		until = time.Unix(0, 1<<63-1) // the last time a key can hold
	}
	for {
		due, err := n.o.Store.DueMails(ctx, until, 20)
		if err != nil || len(due) == 0 {
			return err
		}
		for _, m := range due {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			err := n.sendOne(ctx, m)
			switch {
			case err == nil || errors.Is(err, ErrDrop):
				if err := n.o.Store.DeleteMail(ctx, m); err != nil {
					return err
				}
				if err == nil {
					n.m.sent.WithLabelValues(string(m.Kind)).Inc()
				}
			default:
				next := *m
				next.Attempts++
				next.LastError = err.Error()
				now := n.o.Now().UTC()
				if errors.Is(err, ErrPermanent) || now.Sub(m.Created) >= n.o.GiveUpAfter {
					next.Failed = now
					n.m.failed.Inc()
					n.o.Logger.Warn("e-mail given up", "kind", m.Kind, "attempts", next.Attempts, "err", err)
				} else {
					wait := n.o.FirstRetry << min(next.Attempts-1, 20)
					next.NextAt = now.Add(min(wait, 6*time.Hour))
					n.m.retried.Inc()
					n.o.Logger.Info("e-mail not sent, will retry", "kind", m.Kind, "attempts", next.Attempts, "err", err)
				}
				if err := n.o.Store.RescheduleMail(ctx, m, &next); err != nil {
					return err
				}
				if !next.Failed.IsZero() {
					continue
				}
				// The server is likely down: the rest waits for the next pass.
				return nil
			}
		}
	}
}

func (n *Notifier) sendOne(ctx context.Context, m *Mail) error {
	var u *account.User
	p := &Prefs{}
	if m.User != "" {
		var err error
		if u, err = n.o.People.User(ctx, m.User); err != nil {
			return ErrDrop // the account is gone
		}
		if u.Disabled && m.Kind != MailReceipt {
			return ErrDrop
		}
		if p, err = n.o.Store.Prefs(ctx, m.User); err != nil {
			return err
		}
	}
	msg, err := n.o.Renderer.Render(ctx, m, u, p)
	if err != nil {
		return err
	}
	if msg.ID == "" {
		msg.ID = m.ID
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return n.o.Mailer.Send(sctx, msg)
}

// QueueMail queues a mail that no event owes (a reset link, an
// invitation, a receipt, a test). It fails when e-mail is off.
func (n *Notifier) QueueMail(ctx context.Context, m *Mail) error {
	if n.o.Mailer == nil {
		return ErrMailOff
	}
	now := n.o.Now().UTC()
	if m.Created.IsZero() {
		m.Created = now
	}
	if m.NextAt.IsZero() {
		m.NextAt = now
	}
	if err := n.o.Store.QueueMail(ctx, m); err != nil {
		return err
	}
	n.Wake()
	return nil
}

// ErrMailOff is returned when a mail is asked of a node without SMTP.
var ErrMailOff = errors.New("notify: e-mail is not configured on this node")

// UnsubscribeToken signs "stop e-mails of this topic" for one person.
func (n *Notifier) UnsubscribeToken(user string, t Topic) string {
	mac := hmac.New(sha256.New, n.o.Key)
	fmt.Fprintf(mac, "unsubscribe\x00%s\x00%s", user, t)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// Unsubscribe turns a topic's e-mails off for a person, given a token
// from UnsubscribeToken; it needs no login.
func (n *Notifier) Unsubscribe(ctx context.Context, user string, t Topic, token string) error {
	if !t.Valid() || !hmac.Equal([]byte(token), []byte(n.UnsubscribeToken(user, t))) {
		return ErrBadToken
	}
	if _, err := n.o.People.User(ctx, user); err != nil {
		return ErrBadToken
	}
	p, err := n.o.Store.Prefs(ctx, user)
	if err != nil {
		return err
	}
	if p.Modes == nil {
		p.Modes = map[Topic]Mode{}
	}
	p.Modes[t] = Off
	return n.o.Store.PutPrefs(ctx, p)
}

// ErrBadToken is the answer to an unsubscribe link that was altered.
var ErrBadToken = errors.New("notify: this link is not valid")

// Prefs returns a person's choices.
func (n *Notifier) Prefs(ctx context.Context, user string) (*Prefs, error) {
	return n.o.Store.Prefs(ctx, user)
}

// SetPrefs validates and records a person's choices.
func (n *Notifier) SetPrefs(ctx context.Context, p *Prefs) error {
	if p.User == "" {
		return errors.New("notify: prefs of nobody")
	}
	if p.Lang != "" && p.Lang != "fr" && p.Lang != "nl" && p.Lang != "en" {
		return fmt.Errorf("notify: language %q is not fr, nl or en", p.Lang)
	}
	if p.DigestHour < 0 || p.DigestHour > 23 {
		return fmt.Errorf("notify: digest hour %d is not between 0 and 23", p.DigestHour)
	}
	for t, m := range p.Modes {
		if !t.Valid() || !slices.Contains(Modes, m) {
			return fmt.Errorf("notify: %q: %q is not a topic and a mode", t, m)
		}
	}
	if len(p.Services) > 1000 {
		return errors.New("notify: too many services")
	}
	return n.o.Store.PutPrefs(ctx, p)
}

// Notifications returns a person's latest notifications and the unread count.
func (n *Notifier) Notifications(ctx context.Context, user string, limit int) ([]Notification, int, error) {
	return n.o.Store.Notifications(ctx, user, limit)
}

// Unread returns how many of a person's notifications are unread.
func (n *Notifier) Unread(ctx context.Context, user string) (int, error) {
	_, k, err := n.o.Store.Notifications(ctx, user, 0)
	return k, err
}

// MarkRead marks notifications read (all when ids is empty).
func (n *Notifier) MarkRead(ctx context.Context, user string, ids []string) error {
	return n.o.Store.MarkRead(ctx, user, ids)
}

// Mails returns the queue and the failed mails, for the admin's page.
func (n *Notifier) Mails(ctx context.Context, limit int) (queued, failed []*Mail, err error) {
	return n.o.Store.Mails(ctx, limit)
}

// AddEvents records events that no store change carries (reminders
// computed by a sweep) and wakes the dispatcher.
func (n *Notifier) AddEvents(ctx context.Context, evs ...Event) error {
	if err := n.o.Store.AddEvents(ctx, evs...); err != nil {
		return err
	}
	n.Wake()
	return nil
}
