package federation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// Referrals travel point to point (PROTOCOL.md, "Referrals"): every
// activity and object names the other node's actor alone in "to", with no
// "cc", "bto", "bcc", Public or followers; a node never forwards or
// announces one.

// Extension types of referral objects.
const (
	typeOffer           = "Offer"
	typeReferral        = "Referral"
	typeReferralStatus  = "ReferralStatus"
	typeReferralErasure = "ReferralErasure"
)

// maxSealed bounds a referral's sealed payload.
const maxSealed = 256 << 10

// ReferralObject is a referral as it travels in an Offer: the service,
// the consent summary (no personal data) and the payload sealed to the
// recipient.
type ReferralObject struct {
	ID           string                  `json:"id"`
	Type         asType                  `json:"type"`
	AttributedTo string                  `json:"attributedTo"`
	To           iriList                 `json:"to"`
	Service      string                  `json:"service"`
	Consent      referral.ConsentSummary `json:"consent"`
	Sealed       []byte                  `json:"sealed"` // base64 in JSON
}

// ReferralStatus is what travels back from the recipient: a state, a
// reason or outcome code, or that its copy was erased. Never notes.
type ReferralStatus struct {
	Type     asType         `json:"type"`
	Referral string         `json:"referral"`
	State    referral.State `json:"state,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Erased   bool           `json:"erased,omitempty"`
	// Suggestion is the service the recipient suggests instead, with the
	// reason referred-elsewhere only: its address and public names.
	Suggestion *SuggestedService `json:"suggestion,omitempty"`
}

// SuggestedService is a service named in a status report.
type SuggestedService struct {
	ID       string  `json:"id"`
	Type     string  `json:"type"` // Service
	NameMap  LangMap `json:"nameMap"`
	Provider string  `json:"provider,omitempty"` // the association's name
}

// Names returns the suggested service's names in fr, nl and en, each cut
// to 1,000 bytes (the referral package bounds them further).
func (g *SuggestedService) Names() directory.Text {
	t := directory.Text{}
	for _, v := range knownLangs(g.NameMap, 1000) {
		if l, ok := directory.ParseLang(v.Lang); ok {
			t.Set(l, v.Value)
		}
	}
	return t
}

// ReferralErasure asks the recipient to erase a referral's data.
type ReferralErasure struct {
	Type     asType `json:"type"`
	Referral string `json:"referral"`
}

// Referrals handles the referral activities that reach this node; cmd
// wires it to the referral package. Errors wrapping referral.ErrRefused or
// referral.ErrTransition are answered 403 and 409.
type Referrals interface {
	Offered(ctx context.Context, from string, partner bool, obj *ReferralObject) error
	StatusReported(ctx context.Context, from string, st *ReferralStatus) error
	ErasureRequested(ctx context.Context, from string, e *ReferralErasure) error
}

// pointToPoint checks that an activity is addressed to us alone.
func (f *Federator) pointToPoint(a *Activity) error {
	if len(a.To) != 1 || a.To[0] != f.actorID || len(a.Cc) > 0 {
		return refuse(http.StatusForbidden, "addressing", errors.New("a referral activity must be addressed to this node alone"))
	}
	return nil
}

// parseReferralObject reads and checks the object of a referral Offer
// sent by actor to us.
func (f *Federator) parseReferralObject(raw json.RawMessage, actor string) (*ReferralObject, error) {
	var o ReferralObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("referral object: %w", err)
	}
	var p []string
	if o.Type != typeReferral {
		p = append(p, "type must be Referral")
	}
	if !validIRI(o.ID) || hostOf(o.ID) != hostOf(actor) {
		p = append(p, "id must be an IRI on the sender's host")
	}
	if o.AttributedTo != actor {
		p = append(p, "attributedTo must be the sending actor")
	}
	if len(o.To) != 1 || o.To[0] != f.actorID {
		p = append(p, "to must name this node alone")
	}
	if !validIRI(o.Service) || hostOf(o.Service) != hostOf(f.actorID) {
		p = append(p, "service must be one of this node's services")
	}
	if len(o.Sealed) == 0 || len(o.Sealed) > maxSealed {
		p = append(p, fmt.Sprintf("sealed must hold between 1 byte and %d KiB", maxSealed>>10))
	}
	for _, c := range o.Consent.Categories {
		if !slices.Contains(directory.DataCategories, c) {
			p = append(p, "consent names an unknown data category")
			break
		}
	}
	if len(p) > 0 {
		return nil, fmt.Errorf("referral object: %s", strings.Join(p, "; "))
	}
	return &o, nil
}

// parseReferralStatus reads a status report from actor: about one of our
// referrals, from its recipient, or the cancellation of one of actor's
// referrals, from its sender.
func (f *Federator) parseReferralStatus(raw json.RawMessage, actor string) (*ReferralStatus, error) {
	var st ReferralStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("referral status: %w", err)
	}
	ours := strings.HasPrefix(st.Referral, f.base+"/referrals/")
	theirs := validIRI(st.Referral) && hostOf(st.Referral) == hostOf(actor) && st.State == referral.Cancelled && !st.Erased
	if st.Type != typeReferralStatus || !(ours || theirs) {
		return nil, errors.New("referral status: must name one of this node's referrals, or cancel one of the sender's")
	}
	if st.State != "" && !st.State.Valid() {
		return nil, errors.New("referral status: unknown state")
	}
	if st.State == "" && !st.Erased {
		return nil, errors.New("referral status: needs a state or erased")
	}
	if st.Suggestion != nil && (!ours || st.Reason != referral.ReferredElsewhere || st.Suggestion.Type != "Service") {
		return nil, errors.New("referral status: a suggested Service goes only with referred-elsewhere, from a referral's recipient")
	}
	return &st, nil
}

// onReferral handles the referral activities; handled is false for any
// other activity, which the caller handles as before.
func (f *Federator) onReferral(ctx context.Context, a *Activity) (handled bool, err error) {
	kind := typeOf(a.Object)
	switch {
	case a.Type == typeOffer && kind == typeReferral:
	case (a.Type == typeAccept || a.Type == typeReject || a.Type == typeUpdate) && kind == typeReferralStatus:
	case a.Type == typeDelete && kind == typeReferralErasure:
	case a.Type == typeAdd && kind == typeReferralDocument: // referral_docs.go
	case a.Type == typeCreate && kind == typeReferralMessage:
	default:
		return false, nil
	}
	if f.o.Referrals == nil {
		return true, refuse(http.StatusForbidden, "referral", errors.New("this node takes no referrals"))
	}
	if err := f.pointToPoint(a); err != nil {
		return true, err
	}
	switch kind {
	case typeReferral:
		o, err := f.parseReferralObject(a.Object, a.Actor)
		if err != nil {
			return true, refuse(http.StatusBadRequest, "payload", err)
		}
		r, err := f.cachedRelation(ctx, a.Actor)
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			return true, err
		}
		partner := err == nil && r.IsPartner()
		return true, referralError(f.o.Referrals.Offered(ctx, a.Actor, partner, o))
	case typeReferralStatus:
		st, err := f.parseReferralStatus(a.Object, a.Actor)
		if err != nil {
			return true, refuse(http.StatusBadRequest, "payload", err)
		}
		return true, referralError(f.o.Referrals.StatusReported(ctx, a.Actor, st))
	case typeReferralDocument, typeReferralMessage:
		return true, f.onReferralPart(ctx, a, kind)
	default:
		var e ReferralErasure
		if err := json.Unmarshal(a.Object, &e); err != nil || !validIRI(e.Referral) || hostOf(e.Referral) != hostOf(a.Actor) {
			return true, refuse(http.StatusBadRequest, "payload", errors.New("referral erasure: must name one of the sender's referrals"))
		}
		return true, referralError(f.o.Referrals.ErasureRequested(ctx, a.Actor, &e))
	}
}

// referralError maps the referral package's refusals to answers; their
// messages name rules, never a resident's data.
func referralError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, referral.ErrNotYet), errors.Is(err, referral.ErrFlood):
		e, _ := partError(err) // referral_docs.go
		return e
	case errors.Is(err, referral.ErrRefused):
		return refuse(http.StatusForbidden, "referral", err)
	case errors.Is(err, referral.ErrTransition):
		return refuse(http.StatusConflict, "referral", err)
	case errors.Is(err, referral.ErrOutcome):
		return refuse(http.StatusBadRequest, "payload", err)
	case errors.Is(err, directory.ErrNotFound):
		return refuse(http.StatusNotFound, "referral", err)
	}
	return err
}

// sendTo queues an activity for one actor's own inbox (never a shared
// inbox: a referral is for that actor alone).
func (f *Federator) sendTo(ctx context.Context, actor, typ string, object any) error {
	doc, err := f.FetchActor(ctx, actor, false)
	if err != nil {
		return err
	}
	a := Activity{Context: ldContext, ID: f.activityID(), Type: typ, Actor: f.actorID, Object: mustJSON(object), To: []string{actor}}
	return f.queue.enqueue(ctx, mustJSON(a), []string{doc.Inbox})
}

// SendReferral offers a referral to its recipient.
func (f *Federator) SendReferral(ctx context.Context, r *referral.Referral, sealed referral.Sealed) error {
	o := ReferralObject{ID: r.ID, Type: typeReferral, AttributedTo: f.actorID, To: []string{r.Recipient},
		Service: r.Service, Consent: r.Consent, Sealed: sealed}
	return f.sendTo(ctx, r.Recipient, typeOffer, o)
}

// SendReferralStatus reports a transition to the other node: the
// recipient's (or its erasure) to the sender, with Accept and Reject for
// those states and Update otherwise; the sender's cancellation to the
// recipient, with Update.
func (f *Federator) SendReferralStatus(ctx context.Context, r *referral.Referral, erased bool) error {
	st := ReferralStatus{Type: typeReferralStatus, Referral: r.ID, Erased: erased}
	typ := typeUpdate
	if !erased {
		st.State, st.Reason = r.State, r.Reason
		if g := r.Suggestion; g != nil && r.Side == referral.Recipient && r.Reason == referral.ReferredElsewhere {
			st.Suggestion = &SuggestedService{ID: g.Service, Type: "Service", NameMap: langMap(g.Name, func(v string) string { return v }), Provider: g.Provider}
		}
		switch r.State {
		case referral.Accepted:
			typ = typeAccept
		case referral.Rejected:
			typ = typeReject
		}
	}
	to := r.Sender
	if r.Side == referral.Sender {
		to = r.Recipient
	}
	return f.sendTo(ctx, to, typ, st)
}

// SendErasure asks a referral's recipient to erase its data.
func (f *Federator) SendErasure(ctx context.Context, r *referral.Referral) error {
	return f.sendTo(ctx, r.Recipient, typeDelete, ReferralErasure{Type: typeReferralErasure, Referral: r.ID})
}

// IsPartner reports whether actor and this node follow each other.
func (f *Federator) IsPartner(ctx context.Context, actor string) (bool, error) {
	r, err := f.cachedRelation(ctx, actor)
	if errors.Is(err, directory.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return r.IsPartner(), nil
}

// SealingKeyOf returns the sealing public key an actor publishes.
func (f *Federator) SealingKeyOf(ctx context.Context, actor string) ([]byte, error) {
	doc, err := f.FetchActor(ctx, actor, false)
	if err != nil {
		return nil, err
	}
	if doc.SealingKey == nil {
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(doc.SealingKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("federation: %s publishes a malformed sealing key", actor)
	}
	return key, nil
}
