package referral

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maillage/maillage/directory"
)

// Referral is one referral as a node keeps it, on either side. It holds
// no personal data in clear: the resident's data is Sealed, to this node.
type Referral struct {
	ID        string         `json:"id"`   // ActivityPub id, minted by the sender
	Side      Side           `json:"side"` // this node's side: sender or recipient
	Sender    string         `json:"sender"`
	Recipient string         `json:"recipient"`
	Service   string         `json:"service"` // the service's ActivityPub id
	State     State          `json:"state"`
	Reason    string         `json:"reason,omitempty"` // reason or outcome code of the last transition
	Consent   ConsentSummary `json:"consent"`
	Sealed    Sealed         `json:"sealed,omitempty"` // nil once erased
	Erasure   *Erasure       `json:"erasure,omitempty"`
	// RemoteErasure is the recipient's acknowledgement that it erased its
	// copy (sender side only).
	RemoteErasure *Erasure `json:"remote_erasure,omitempty"`
	// Outbox is what this node still owes the other node about the
	// referral (nil: nothing).
	Outbox  *Outbox `json:"outbox,omitempty"`
	History []Event `json:"history"`
	// Documents are the files attached to the referral (documents.go):
	// what each is, never its name or content (nil once erased).
	Documents []Document `json:"documents,omitempty"`
	// Notes are this node's workers' notes on its steps, sealed to this
	// node; they never travel and are erased with the data.
	Notes []Note `json:"notes,omitempty"`
	// Suggestion is the service the recipient suggested instead, when it
	// referred the person elsewhere (public data: address and names).
	Suggestion *Suggestion `json:"suggestion,omitempty"`
	CreatedBy  string      `json:"created_by,omitempty"` // the sender's worker (sender side only)
	// Reminded and Warned are when this node reminded its staff of the
	// referral unanswered, and warned them that it expires soon.
	Reminded time.Time `json:"reminded,omitzero"`
	Warned   time.Time `json:"warned,omitzero"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// ConsentSummary is what travels and is shown of a consent: no personal
// data, enough for the recipient to check it covers what it receives.
type ConsentSummary struct {
	ID            string                   `json:"id"`
	Method        Method                   `json:"method"`
	Categories    []directory.DataCategory `json:"categories"`
	Special       bool                     `json:"special"`
	NoticeVersion string                   `json:"notice_version"`
	GivenAt       time.Time                `json:"given_at"`
	ExpiresAt     time.Time                `json:"expires_at"`
	// Reference is the sender's short name of the referral, printed on
	// the resident's receipt and read out over the phone (MQM-12); it
	// travels so that both nodes speak of it the same way.
	Reference string `json:"reference,omitempty"`
	// NoticeLang is the language of the notice the resident read, the
	// language of their receipt.
	NoticeLang string `json:"notice_lang,omitempty"`
}

// Event is one transition, timestamped on the node that records it.
type Event struct {
	At     time.Time `json:"at"`
	From   State     `json:"from,omitempty"`
	To     State     `json:"to"`
	By     Side      `json:"by"`
	Reason string    `json:"reason,omitempty"`
}

// Erasure records that a referral's personal data was erased.
type Erasure struct {
	At  time.Time `json:"at"`
	By  string    `json:"by"`  // a worker, "retention", or the remote node's actor
	Why string    `json:"why"` // withdrawn, retention, expired, request
}

// Outbox is what a node owes the other node about a referral: a change
// records it in the same write as itself, and it is cleared once the
// message is in the delivery queue (see Delivered). A node killed between
// the two sends it again at its next start (see Owing), so no change is
// recorded here and lost on the way; the other node takes each message
// once, however many times it comes.
type Outbox struct {
	// Offer is the resident's data sealed to the recipient, kept on the
	// sender's side until the offer is queued (nil once erased).
	Offer Sealed `json:"offer,omitempty"`
	// Status is the length of the history whose last state this node
	// owes the other (0: none): each of the recipient's steps, the
	// sender's cancellation.
	Status int `json:"status,omitempty"`
	// Erasure is, on the sender's side, a request for the recipient to
	// erase its copy, and on the recipient's, the acknowledgement that it
	// did.
	Erasure bool `json:"erasure,omitempty"`
	// Documents are the sender's documents not yet announced to the
	// recipient (documents.go), and Messages the thread messages this
	// node wrote, sealed to the other node, not yet queued (thread.go).
	Documents []Document   `json:"documents,omitempty"`
	Messages  []OutMessage `json:"messages,omitempty"`
}

// Empty reports whether nothing is owed.
func (o *Outbox) Empty() bool {
	return o == nil || (o.Offer == nil && o.Status == 0 && !o.Erasure && len(o.Documents) == 0 && len(o.Messages) == 0)
}

// Writes are what a change of a referral records with it, in the same
// transaction: a new referral's consent, a withdrawal, audit entries, and
// what the node's staff are to be told.
type Writes struct {
	Consent    *Consent
	Withdrawal *Withdrawal // a second withdrawal of the same consent is ignored
	Audit      []AuditEntry
	Notices    []Notice // a notice recorded before (by id) is ignored
	// Parts are the referral's documents and thread messages recorded
	// with the change, or erased with its data (parts.go).
	Parts Parts
}

// AuditEntry is one line of the append-only audit log: who did what to
// which referral, never with personal data.
type AuditEntry struct {
	At       time.Time `json:"at"`
	Who      string    `json:"who"`    // a worker's account id, "system" or a remote actor
	Action   string    `json:"action"` // created, sent, received, opened, transition, withdrawn, erased
	Referral string    `json:"referral"`
	Detail   string    `json:"detail,omitempty"` // states and codes only
}

// Store keeps referrals, consents and the audit log. Consents and
// withdrawals are only ever added, and the audit log only appended to.
// A referral and what its change writes (Writes) are recorded in one
// transaction: after a crash, either all of it is there or none.
type Store interface {
	Consent(ctx context.Context, id string) (*Consent, error)
	Withdrawals(ctx context.Context, consentID string) ([]Withdrawal, error)
	// AddReferral records a new referral with w; it fails with
	// directory.ErrConflict when the id is taken.
	AddReferral(ctx context.Context, r *Referral, w Writes) error
	// UpdateReferral applies fn to the stored referral and records it with
	// the writes fn returns, atomically; fn may run more than once.
	UpdateReferral(ctx context.Context, id string, fn func(*Referral) (Writes, error)) (*Referral, error)
	Referral(ctx context.Context, id string) (*Referral, error)
	ForEachReferral(ctx context.Context, fn func(*Referral) error) error
	AppendAudit(ctx context.Context, e *AuditEntry) error
	ForEachAudit(ctx context.Context, fn func(*AuditEntry) error) error
	PartStore // documents and thread messages (parts.go)
}

// Target is the receiving end of a referral as the sender knows it: the
// service's published policy and the node's sealing key.
type Target struct {
	Service    string // ActivityPub id
	Recipient  string // the providing node's actor
	Policy     *directory.ReferralPolicy
	SealingKey []byte // from the recipient's actor
	Partner    bool   // whether the recipient is a partner of this node
}

// Request is a worker's referral: the resident's data and consent.
type Request struct {
	Resident json.RawMessage
	Consent  ConsentInput
	Special  bool // the resident's data includes special-category data, consented explicitly
	Worker   string
	// Association is the sending association's name: its initials start
	// the referral's short reference.
	Association string
}

// ConsentInput is the consent as the worker records it.
type ConsentInput struct {
	Method        Method                   `json:"method"`
	Categories    []directory.DataCategory `json:"categories"`
	NoticeVersion string                   `json:"notice_version"`
	NoticeHash    string                   `json:"notice_hash"`
	NoticeLang    string                   `json:"notice_lang"`
	Attestation   string                   `json:"attestation"`
	GivenAt       time.Time                `json:"given_at"`
	ExpiresAt     time.Time                `json:"expires_at"` // zero: DefaultConsentDays after given_at
	Resident      string                   `json:"resident"`   // pseudonymous id; minted when empty
}

// ErrRefused wraps every reason a referral cannot be created; its message
// lists them, naming fields, never values.
var ErrRefused = errors.New("referral refused")

// Service runs a node's referrals.
type Service struct {
	Store Store
	Keys  *Keyring
	Actor string // this node's actor
	Base  string // this node's base URL, for referral ids
	Now   func() time.Time
	// refs serialises the choice of a new short reference with the
	// referral that takes it, so that two referrals never share one.
	refs sync.Mutex
}

// Create records a referral from a worker's request: it checks the
// target takes referrals from this node, that the consent is complete,
// active and covers the recipient, the service and every category of the
// resident's data, and that the data is only what the service needs; then
// seals the data to the recipient (and a copy to this node), and records
// the consent, the referral (requested) and the audit entries. The offer
// to deliver, sealed to the recipient, is in the referral's Outbox.
func (s *Service) Create(ctx context.Context, t Target, req Request) (*Referral, error) {
	now := s.Now()
	var p directory.Problems
	switch {
	case t.Policy == nil || !t.Policy.Accepts:
		p.Rule("service", CodeNotAccepting, "the service does not accept referrals")
	case t.Policy.From != directory.FromNetwork && !t.Partner:
		p.Rule("service", CodePartnersOnly, "the service accepts referrals from its partners only")
	}
	if len(t.SealingKey) == 0 {
		p.Rule("service", CodeNoSealingKey, "the recipient publishes no sealing key")
	}
	resident, rp := parseResident(req.Resident)
	if len(rp) > 0 {
		return nil, refuse(rp)
	}
	cats := resident.Categories()
	if t.Policy != nil {
		for _, c := range cats {
			if !slices.Contains(t.Policy.Categories, c) {
				p.Rule("resident", CodeNotNeeded, "the service does not need %s data: leave it out", c)
			}
		}
	}
	if slices.Contains(cats, directory.DataSpecial) && !req.Special {
		p.Rule("special_categories", CodeSpecialFlag, "special-category data needs special_categories set to true")
	}
	id := s.Base + "/referrals/" + directory.NewID()
	c := &Consent{
		ID: directory.NewID(), Resident: req.Consent.Resident, Purpose: id, Recipient: t.Recipient, Service: t.Service,
		Categories: req.Consent.Categories, Special: req.Special, Method: req.Consent.Method, Attestation: req.Consent.Attestation,
		NoticeVersion: req.Consent.NoticeVersion, NoticeHash: req.Consent.NoticeHash, NoticeLang: req.Consent.NoticeLang,
		GivenAt: req.Consent.GivenAt, ExpiresAt: req.Consent.ExpiresAt, CollectedBy: req.Worker,
	}
	if c.Resident == "" {
		c.Resident = pseudonym()
	}
	if c.ExpiresAt.IsZero() && !c.GivenAt.IsZero() {
		c.ExpiresAt = c.GivenAt.Add(DefaultConsentDays * 24 * time.Hour)
	}
	p = append(p, c.allows(t.Recipient, t.Service, cats, nil, now)...)
	if err := refuse(p); err != nil {
		return nil, err
	}
	payload, err := resident.Payload(c.Categories)
	if err != nil {
		return nil, Refused("consent.categories", CodeNothingToSend, strings.TrimPrefix(err.Error(), ErrResident.Error()+": "))
	}
	bind := Binding{Referral: id, Sender: s.Actor, Recipient: t.Recipient}
	out, err := Seal(t.SealingKey, bind, payload)
	if err != nil {
		return nil, err
	}
	own, err := Seal(s.Keys.Public(), bind, payload)
	if err != nil {
		return nil, err
	}
	r := &Referral{
		ID: id, Side: Sender, Sender: s.Actor, Recipient: t.Recipient, Service: t.Service, State: Requested,
		Sealed: own, CreatedBy: req.Worker, Created: now, Updated: now,
		History: []Event{{At: now, To: Draft, By: Sender}, {At: now, From: Draft, To: Requested, By: Sender}},
		Outbox:  &Outbox{Offer: out},
	}
	if err := s.addWithReference(ctx, r, c, req); err != nil {
		return nil, err
	}
	return r, nil
}

// addWithReference gives r and its consent the next short reference of
// this node and records them.
func (s *Service) addWithReference(ctx context.Context, r *Referral, c *Consent, req Request) error {
	s.refs.Lock()
	defer s.refs.Unlock()
	ref, err := s.nextReference(ctx, ReferencePrefix(req.Association))
	if err != nil {
		return err
	}
	c.Reference = ref
	r.Consent = c.Summary()
	w := Writes{Consent: c, Audit: []AuditEntry{entry(r.Created, req.Worker, "created", r.ID, "requested")}}
	return s.Store.AddReferral(ctx, r, w)
}

// Summary is what of c travels with a referral.
func (c *Consent) Summary() ConsentSummary {
	return ConsentSummary{ID: c.ID, Method: c.Method, Categories: slices.Clone(c.Categories), Special: c.Special,
		NoticeVersion: c.NoticeVersion, GivenAt: c.GivenAt, ExpiresAt: c.ExpiresAt, Reference: c.Reference, NoticeLang: c.NoticeLang}
}

// Open returns the resident's data of a referral to an authorised worker
// of this node, and records that they saw it.
func (s *Service) Open(ctx context.Context, id, worker string) (Resident, error) {
	r, err := s.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Sealed == nil {
		why := ""
		if r.Erasure != nil {
			why = r.Erasure.Why
		}
		return nil, fmt.Errorf("%w (%s)", ErrErased, why)
	}
	pt, err := s.Keys.Open(r.Sealed, Binding{Referral: r.ID, Sender: r.Sender, Recipient: r.Recipient})
	if err != nil {
		return nil, err
	}
	var res Resident
	if err := json.Unmarshal(pt, &res); err != nil {
		return nil, ErrSeal
	}
	e := entry(s.Now(), worker, "opened", id, "")
	if err := s.Store.AppendAudit(ctx, &e); err != nil {
		return nil, err // no audit line, no data
	}
	return res, nil
}

// Transition moves a referral to another state, as this node's side (or
// the system), with a reason code where one is needed.
func (s *Service) Transition(ctx context.Context, id string, to State, by Side, who, reason string) (*Referral, error) {
	return s.TransitionWith(ctx, id, to, by, who, Outcome{Reason: reason})
}

// entry is an audit log line.
func entry(at time.Time, who, action, id, detail string) AuditEntry {
	return AuditEntry{At: at, Who: who, Action: action, Referral: id, Detail: strings.TrimSpace(detail)}
}

// owe returns r's outbox, made when r owed nothing.
func (r *Referral) owe() *Outbox {
	if r.Outbox == nil {
		r.Outbox = &Outbox{}
	}
	return r.Outbox
}

// Owing lists the referrals that owe the other node a message, for the
// caller to queue it again (at start, and periodically).
func (s *Service) Owing(ctx context.Context) ([]*Referral, error) {
	var out []*Referral
	err := s.Store.ForEachReferral(ctx, func(r *Referral) error {
		if !r.Outbox.Empty() {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Delivered records that what o owed is in the delivery queue: each part
// is cleared unless a later change owes it again (a newer status, a new
// erasure).
func (s *Service) Delivered(ctx context.Context, id string, o Outbox) error {
	_, err := s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		if r.Outbox == nil {
			return Writes{}, nil
		}
		if o.Offer != nil {
			r.Outbox.Offer = nil
		}
		if o.Status != 0 && r.Outbox.Status == o.Status {
			r.Outbox.Status = 0
		}
		if o.Erasure {
			r.Outbox.Erasure = false
		}
		r.Outbox.delivered(o) // documents and messages (parts.go)
		if r.Outbox.Empty() {
			r.Outbox = nil
		}
		return Writes{}, nil
	})
	return err
}

// pseudonym mints a resident id that says nothing about the resident.
func pseudonym() string {
	b := make([]byte, 12)
	rand.Read(b)
	return fmt.Sprintf("res-%x", b)
}

// Handle is the short, opaque name of a referral in this node's URLs: its
// ids are other nodes' URLs, and any sender chooses its own.
func Handle(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// ErrErased reports a referral whose resident data was erased.
var ErrErased = errors.New("referral: the resident's data was erased")
