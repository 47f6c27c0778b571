package node

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
)

// A referral's documents and thread between the referral package and
// federation (referral/parts.go, federation/referral_docs.go). The
// sender's documents are announced to the recipient through the durable
// queue; the recipient fetches each at once in the background, a few
// times with growing waits, and then at every referral sweep (at start,
// and hourly) until it has it, the referral closes and its data is
// erased, or the sender answers that it no longer has it.

var _ federation.ReferralParts = referrals{}

// localPolicy is the referral policy of one of this node's services
// (nil when unknown or taking none).
func (n *Node) localPolicy(ctx context.Context, uri string) (*directory.ReferralPolicy, error) {
	id, ok := strings.CutPrefix(uri, n.ID.BaseURL+"/services/")
	if !ok {
		return nil, nil
	}
	s, err := n.Catalog.Service(ctx, id)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.Referral, nil
}

// DocumentOffered records a document the sender announces and fetches it.
func (rr referrals) DocumentOffered(ctx context.Context, from string, d *federation.ReferralDocument) error {
	n := rr.n
	var policy *directory.ReferralPolicy
	if r, err := n.Store.Referral(ctx, d.Referral); err == nil {
		if policy, err = n.localPolicy(ctx, r.Service); err != nil {
			return err
		}
	}
	r, err := n.Referrals.DocumentsOffered(ctx, from, d.Referral, []referral.Document{{ID: d.ID, Number: d.Number, Size: d.Size, SHA256: d.SHA256}}, policy)
	if err != nil {
		return err
	}
	n.fetchSoon(r.ID)
	return nil
}

// MessageReceived records a thread message from the other node.
func (rr referrals) MessageReceived(ctx context.Context, from string, m *federation.ReferralMessage) error {
	return rr.n.Referrals.ReceiveMessage(ctx, from, referral.IncomingMessage{ID: m.ID, Referral: m.Referral, At: m.Published, Sealed: m.Sealed})
}

// DocumentRequested serves a document's copy sealed to the recipient.
func (rr referrals) DocumentRequested(ctx context.Context, requester, ref, doc string) ([]byte, error) {
	return rr.n.Referrals.OutgoingDocument(ctx, ref, doc, requester)
}

// deliverParts queues the documents and messages r owes the other node.
func (n *Node) deliverParts(ctx context.Context, r *referral.Referral) error {
	for _, d := range r.Outbox.Documents {
		if err := n.Fed.SendReferralDocument(ctx, r, d); err != nil {
			return err
		}
	}
	for _, m := range r.Outbox.Messages {
		if err := n.Fed.SendReferralMessage(ctx, r, m); err != nil {
			return err
		}
	}
	return nil
}

// AddDocuments adds files to a referral sent from this node and
// announces them to the recipient.
func (n *Node) AddDocuments(ctx context.Context, id, worker string, files []referral.File) (*referral.Referral, error) {
	r, err := n.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	var key []byte
	if r.Side == referral.Sender {
		if key, err = n.Fed.SealingKeyOf(ctx, r.Recipient); err != nil {
			return nil, err
		}
	}
	r, err = n.Referrals.AddDocuments(ctx, id, worker, files, key, n.DocumentPolicy(ctx, r))
	if err != nil {
		return nil, err
	}
	return r, n.deliver(ctx, r)
}

// DocumentPolicy is the policy of the service a referral is for, as its
// node publishes it now: the partner's, for a referral sent from here.
func (n *Node) DocumentPolicy(ctx context.Context, r *referral.Referral) *directory.ReferralPolicy {
	if r.Side == referral.Recipient {
		p, _ := n.localPolicy(ctx, r.Service)
		return p
	}
	ps, err := n.Store.PartnerService(ctx, r.Service)
	if err != nil || ps.Service == nil {
		return nil
	}
	return ps.Service.Referral
}

// OpenDocument opens a referral's document for a worker (audited).
func (n *Node) OpenDocument(ctx context.Context, id, doc, worker string) (*referral.DocumentFile, error) {
	return n.Referrals.OpenDocument(ctx, id, doc, worker)
}

// WriteMessage records a thread message a worker writes and sends it to
// the referral's other node.
func (n *Node) WriteMessage(ctx context.Context, id, worker, text string) (*referral.Referral, error) {
	r, err := n.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	other := r.Recipient
	if r.Side == referral.Recipient {
		other = r.Sender
	}
	var key []byte
	if referral.ThreadOpen(r) {
		if key, err = n.Fed.SealingKeyOf(ctx, other); err != nil {
			return nil, err
		}
	}
	r, err = n.Referrals.WriteMessage(ctx, id, worker, text, key)
	if err != nil {
		return nil, err
	}
	return r, n.deliver(ctx, r)
}

// Thread opens a referral's thread for a worker (audited).
func (n *Node) Thread(ctx context.Context, id, worker string) ([]referral.ThreadEntry, error) {
	return n.Referrals.Thread(ctx, id, worker)
}

// fetching holds the documents being fetched, so that the background
// fetch and the sweep never fetch one twice at once.
var fetching sync.Map

// fetchDocuments fetches the documents this node still lacks, of one
// referral (only) or of all: it returns how many are left to fetch.
// A document the sender no longer serves, or that is not the one
// announced, is dropped.
func (n *Node) fetchDocuments(ctx context.Context, only string) (left int, err error) {
	pending, err := n.Referrals.PendingDocuments(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	down := map[string]bool{} // senders that failed in this pass: tried again next time
	for _, p := range pending {
		if only != "" && p.Referral != only {
			continue
		}
		key := n.ID.BaseURL + " " + p.Document.ID
		if down[p.Sender] {
			left++
			continue
		}
		if _, busy := fetching.LoadOrStore(key, true); busy {
			left++
			continue
		}
		err := n.fetchDocument(ctx, p)
		fetching.Delete(key)
		if err != nil {
			left++
			down[p.Sender] = true
			errs = append(errs, err)
		}
	}
	return left, errors.Join(errs...)
}

func (n *Node) fetchDocument(ctx context.Context, p referral.PendingDocument) error {
	if !strings.HasPrefix(p.Document.ID, p.Referral+"/documents/") {
		return n.Referrals.DropDocument(ctx, p.Referral, p.Document.ID, "invalid")
	}
	body, err := n.Fed.FetchReferralDocument(ctx, p.Document.ID, p.Document.Size)
	switch {
	case errors.Is(err, federation.ErrDocumentGone):
		return n.Referrals.DropDocument(ctx, p.Referral, p.Document.ID, "gone")
	case err != nil:
		return err
	}
	if err := n.Referrals.StoreDocument(ctx, p.Referral, p.Document.ID, body); errors.Is(err, referral.ErrDocument) {
		n.cfg.Logger.Warn("referral document dropped: not the one announced", "sender", p.Sender)
		return nil
	} else if err != nil {
		return err
	}
	return nil
}

// fetchSoon fetches a received referral's documents in the background:
// at once, then after 15 s, 30 s, 1, 2, 4 and 8 minutes while some are
// missing; after that, the referral sweep tries again.
func (n *Node) fetchSoon(id string) {
	n.Fed.Spawn(func(ctx context.Context) {
		wait := time.Duration(0)
		for range 7 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			left, err := n.fetchDocuments(ctx, id)
			if left == 0 {
				return
			}
			if err != nil && ctx.Err() == nil {
				n.cfg.Logger.Info("referral documents not fetched yet", "left", left, "err", err)
			}
			wait = max(15*time.Second, 2*wait)
		}
	})
}
