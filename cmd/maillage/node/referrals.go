package node

import (
	"context"
	"errors"
	"strings"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
)

// referrals connects the referral package to federation: what arrives in
// the inbox goes to the referral Service, and what the Service decides
// is sent through the durable queue.
type referrals struct {
	n *Node
}

var _ federation.Referrals = referrals{}

// Offered receives a referral and tells its sender it arrived.
func (rr referrals) Offered(ctx context.Context, from string, partner bool, o *federation.ReferralObject) error {
	n := rr.n
	local := referral.Local{Partner: partner}
	if id, ok := strings.CutPrefix(o.Service, n.ID.BaseURL+"/services/"); ok {
		if s, err := n.Catalog.Service(ctx, id); err == nil {
			local.Policy = s.Referral
		} else if !errors.Is(err, directory.ErrNotFound) {
			return err
		}
	}
	r, err := n.Referrals.Receive(ctx, referral.Incoming{ID: o.ID, Sender: from, Recipient: n.Fed.ActorID(), Service: o.Service,
		Consent: o.Consent, Sealed: o.Sealed}, local)
	if err != nil {
		return err
	}
	if r.Outbox.Empty() {
		// An offer taken before: its sender did not hear of it.
		return n.Fed.SendReferralStatus(ctx, r, false)
	}
	return n.deliver(ctx, r)
}

// StatusReported mirrors the recipient's report on the sender's node.
func (rr referrals) StatusReported(ctx context.Context, from string, st *federation.ReferralStatus) error {
	if st.Erased {
		_, err := rr.n.Referrals.ErasureAcknowledged(ctx, st.Referral, from)
		return err
	}
	var suggestion *referral.Suggestion
	if g := st.Suggestion; g != nil {
		suggestion = &referral.Suggestion{Service: g.ID, Name: g.Names(), Provider: g.Provider}
	}
	_, err := rr.n.Referrals.RemoteWith(ctx, st.Referral, from, st.State, st.Reason, suggestion)
	return err
}

// ErasureRequested erases a received referral's data and acknowledges.
func (rr referrals) ErasureRequested(ctx context.Context, from string, e *federation.ReferralErasure) error {
	r, err := rr.n.Referrals.EraseRequested(ctx, e.Referral, from)
	if err != nil {
		return err
	}
	return rr.n.deliver(ctx, r)
}

// Refer creates a referral to a partner's service (its ActivityPub id)
// and sends it.
func (n *Node) Refer(ctx context.Context, service string, req referral.Request) (*referral.Referral, error) {
	serviceURI := service
	if !strings.HasPrefix(service, "https://") && !strings.HasPrefix(service, "http://") {
		// A service id as the network list shows it: find its URI.
		serviceURI = ""
		err := n.Store.ForEachPartnerService(ctx, func(ps *directory.PartnerService) error {
			if ps.Service != nil && ps.Service.ID == service {
				serviceURI = ps.URI
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	ps, err := n.Store.PartnerService(ctx, serviceURI)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, referral.Refused("service", referral.CodeNoPartnerService, "no known partner service")
	}
	if err != nil {
		return nil, err
	}
	partner, err := n.Fed.IsPartner(ctx, ps.Actor)
	if err != nil {
		return nil, err
	}
	key, err := n.Fed.SealingKeyOf(ctx, ps.Actor)
	if err != nil {
		return nil, err
	}
	r, err := n.Referrals.Create(ctx, referral.Target{Service: ps.URI, Recipient: ps.Actor, Policy: ps.Service.Referral,
		SealingKey: key, Partner: partner}, req)
	if err != nil {
		return nil, err
	}
	return r, n.deliver(ctx, r)
}

// MoveReferral makes a transition on this node's side and, on the
// recipient's side, reports it to the sender.
func (n *Node) MoveReferral(ctx context.Context, id string, to referral.State, reason, worker string) (*referral.Referral, error) {
	return n.MoveReferralWith(ctx, id, to, referral.Outcome{Reason: reason}, worker)
}

// MoveReferralWith applies a worker's transition with its note (kept
// here) and, from the recipient, a suggested service (sent with it).
func (n *Node) MoveReferralWith(ctx context.Context, id string, to referral.State, o referral.Outcome, worker string) (*referral.Referral, error) {
	r, err := n.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	r, err = n.Referrals.TransitionWith(ctx, id, to, r.Side, worker, o)
	if err != nil {
		return nil, err
	}
	return r, n.deliver(ctx, r)
}

// WithdrawReferral records a withdrawn consent, erases the data here and
// asks the recipient to erase its copy.
func (n *Node) WithdrawReferral(ctx context.Context, id, worker string) (*referral.Referral, error) {
	r, err := n.Referrals.Withdraw(ctx, id, worker)
	if err != nil {
		return nil, err
	}
	return r, n.deliver(ctx, r)
}

// EraseReferral erases the data of a closed referral now, at the
// resident's request; the other node is not asked.
func (n *Node) EraseReferral(ctx context.Context, id, who string) (*referral.Referral, error) {
	return n.Referrals.EraseOnRequest(ctx, id, who)
}

// deliver queues what r owes the other node (its Outbox, recorded with
// the change that owes it), then records it as queued. A node killed in
// between queues it again at start (see sendOwed); the other node takes
// each message once.
func (n *Node) deliver(ctx context.Context, r *referral.Referral) error {
	o := r.Outbox
	if o.Empty() {
		return nil
	}
	var err error
	switch {
	case o.Offer != nil:
		err = n.Fed.SendReferral(ctx, r, o.Offer)
	case o.Erasure && r.Side == referral.Sender:
		err = n.Fed.SendErasure(ctx, r)
	case o.Erasure:
		err = n.Fed.SendReferralStatus(ctx, r, true)
	}
	if err == nil && o.Status != 0 {
		err = n.Fed.SendReferralStatus(ctx, r, false)
	}
	if err == nil {
		err = n.deliverParts(ctx, r) // documents and thread messages (referral_parts.go)
	}
	if err != nil {
		return err
	}
	return n.Referrals.Delivered(ctx, r.ID, *o)
}

// sendOwed queues again every message a referral owes the other node
// and that was not queued: the node stopped (or the other node's actor
// could not be fetched) between the change and its message.
func (n *Node) sendOwed(ctx context.Context) (sent int, err error) {
	owing, err := n.Referrals.Owing(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, r := range owing {
		if err := n.deliver(ctx, r); err != nil {
			errs = append(errs, err)
			continue
		}
		sent++
	}
	// Documents of received referrals not fetched yet: their sender was
	// down, or this node stopped before it had them (referral_parts.go).
	if _, err := n.fetchDocuments(ctx, ""); err != nil {
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}

// ReferralByHandle returns a referral by its handle in this node's URLs.
func (n *Node) ReferralByHandle(ctx context.Context, handle string) (*referral.Referral, error) {
	return n.Store.ReferralByHandle(ctx, handle)
}

// OpenReferral opens a referral's resident data for a worker (audited).
func (n *Node) OpenReferral(ctx context.Context, id, worker string) (referral.Resident, error) {
	return n.Referrals.Open(ctx, id, worker)
}

// ForEachReferral calls fn for every referral of this node.
func (n *Node) ForEachReferral(ctx context.Context, fn func(*referral.Referral) error) error {
	return n.Store.ForEachReferral(ctx, fn)
}

// ForEachAudit calls fn for every entry of the audit log.
func (n *Node) ForEachAudit(ctx context.Context, fn func(*referral.AuditEntry) error) error {
	return n.Store.ForEachAudit(ctx, fn)
}

// ReferralNotes opens this node's notes on a referral, by step.
func (n *Node) ReferralNotes(r *referral.Referral) map[int]string { return n.Referrals.Notes(r) }
