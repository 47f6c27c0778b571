package referral

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// A referral's parts are what its two workers add to it besides the
// resident's data: documents (documents.go) and the messages of their
// thread (thread.go). Each is sealed like the payload, to the other node
// and to this one, bound to the referral, both actors and the part's own
// id (Binding.partInfo); each is recorded with the referral's change
// that adds it, in one write, with what the node owes the other about
// it (Outbox); each is erased with the referral's data, whatever erases
// it: a withdrawal, the retention sweep, an erasure on request.

// Parts are the documents and messages a referral's change records, or
// erases, with it in one transaction.
type Parts struct {
	Blobs    []Blob    // sealed copies of documents, stored as given
	Messages []Message // thread messages; one recorded before (by id) is kept as it is
	// EraseOf, when set, is a referral whose every document copy and
	// message the write deletes.
	EraseOf string
}

// Empty reports whether p writes nothing.
func (p Parts) Empty() bool { return len(p.Blobs) == 0 && len(p.Messages) == 0 && p.EraseOf == "" }

// Copy names one of a document's sealed copies.
type Copy string

// The copies of a document: this node's own, which its workers open, and,
// on the sender's node, the one sealed to the recipient, which only the
// recipient fetches.
const (
	CopyOwn Copy = "own"
	CopyOut Copy = "out"
)

// Blob is one sealed copy of a document.
type Blob struct {
	Referral string
	Document string
	Copy     Copy
	Sealed   Sealed
}

// PartStore keeps the parts of referrals. A document's copies are
// written whole or not at all, with the referral's change (Writes.Parts).
type PartStore interface {
	// Blob returns a sealed copy of a document (directory.ErrNotFound
	// when there is none).
	Blob(ctx context.Context, referral, document string, c Copy) (Sealed, error)
	// Messages returns a referral's thread messages, in no set order.
	Messages(ctx context.Context, referral string) ([]Message, error)
}

// ErrNotYet reports a document or a message about a referral this node
// has not received yet, from the node that sends it: its offer is still
// on the way, and the other node is to try again later.
var ErrNotYet = errors.New("referral: not received yet")

// ErrFlood reports a thread message beyond the rate a side may write:
// the other node is to try again later.
var ErrFlood = errors.New("referral: too many messages")

// partBinding is what r's documents and messages are bound to, with
// their own ids.
func partBinding(r *Referral) Binding {
	return Binding{Referral: r.ID, Sender: r.Sender, Recipient: r.Recipient}
}

// erasePartsOf makes w erase r's documents and messages with its data,
// and drops what r still owed the other node about them: never sent, it
// goes with the rest.
func erasePartsOf(r *Referral, w *Writes) {
	w.Parts.EraseOf = r.ID
	r.Documents = nil
	if r.Outbox != nil {
		r.Outbox.Documents, r.Outbox.Messages = nil, nil
	}
}

// delivered clears from o the documents and messages of d, which are in
// the delivery queue.
func (o *Outbox) delivered(d Outbox) {
	o.Documents = slices.DeleteFunc(o.Documents, func(x Document) bool {
		return slices.ContainsFunc(d.Documents, func(y Document) bool { return y.ID == x.ID })
	})
	o.Messages = slices.DeleteFunc(o.Messages, func(x OutMessage) bool {
		return slices.ContainsFunc(d.Messages, func(y OutMessage) bool { return y.ID == x.ID })
	})
	if len(o.Documents) == 0 {
		o.Documents = nil
	}
	if len(o.Messages) == 0 {
		o.Messages = nil
	}
}

// onHostOf reports whether id lives on the host of actor.
func onHostOf(id, actor string) bool {
	return strings.HasPrefix(id, strings.TrimSuffix(actorBase(actor), "/")+"/")
}
