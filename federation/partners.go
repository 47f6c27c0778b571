package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// Errors of partnership operations.
var (
	ErrBadActor = errors.New("federation: not a reachable actor")
	ErrState    = errors.New("federation: not possible in the relation's current state")
)

// Why an actor could not be used, as ActorError.Kind.
const (
	ActorInvalid        = "invalid"         // neither @handle@host nor an actor URL
	ActorNotFound       = "not-found"       // its server knows no such account
	ActorUnreachable    = "unreachable"     // its server did not answer usefully
	ActorNotAssociation = "not-association" // a person or a bot, not a Maillage association
	ActorSelf           = "self"            // this node's own actor
	ActorBlocked        = "blocked"         // its host is on the blocklist
)

// ActorError says why an actor could not be resolved or asked for a
// partnership, in words an admin can act on; it is an ErrBadActor.
type ActorError struct {
	Kind  string
	Who   string // as the admin wrote it
	cause error
}

func (e *ActorError) Error() string {
	switch e.Kind {
	case ActorInvalid:
		return fmt.Sprintf("%q is not a network address: write @name@server (or the actor's URL)", e.Who)
	case ActorNotFound:
		return fmt.Sprintf("no account %s: its server does not know it; check the spelling", e.Who)
	case ActorUnreachable:
		return fmt.Sprintf("the server of %s did not answer as a fediverse server; check the address or try again later", e.Who)
	case ActorNotAssociation:
		return fmt.Sprintf("%s is a fediverse account, not an association's Maillage node: partnerships and referrals are between associations; this account can follow the association instead", e.Who)
	case ActorSelf:
		return "this is the node's own address: a node cannot partner with itself"
	case ActorBlocked:
		return fmt.Sprintf("the server of %s is on the blocklist", e.Who)
	}
	return "the actor cannot be used"
}

// Unwrap lets errors.Is find ErrBadActor and the cause.
func (e *ActorError) Unwrap() []error { return []error{ErrBadActor, e.cause} }

func actorError(kind, who string, cause error) error {
	return &ActorError{Kind: kind, Who: who, cause: cause}
}

// fetchFailure classifies why fetching a peer's document failed.
func fetchFailure(who string, err error) error {
	var se *StatusError
	if errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone) {
		return actorError(ActorNotFound, who, err)
	}
	return actorError(ActorUnreachable, who, err)
}

// activityID returns a new id for an activity of ours.
func (f *Federator) activityID() string { return f.base + "/activities/" + directory.NewID() }

// Resolve turns "@handle@host", "handle@host" or an actor URL into the
// actor's document, through WebFinger for handles.
func (f *Federator) Resolve(ctx context.Context, who string) (*ActorDoc, error) {
	who = strings.TrimSpace(who)
	if strings.HasPrefix(who, "http://") || strings.HasPrefix(who, "https://") {
		a, err := f.FetchActor(ctx, who, true)
		if err != nil {
			return nil, fetchFailure(who, err)
		}
		return a, nil
	}
	handle, host, ok := strings.Cut(strings.TrimPrefix(who, "@"), "@")
	if !ok || handle == "" || host == "" || strings.ContainsAny(host, "/?#@ ") || len(who) > 300 {
		return nil, actorError(ActorInvalid, who, nil)
	}
	who = "@" + handle + "@" + host
	iri, err := f.webfinger(ctx, handle, host)
	if err != nil {
		return nil, fetchFailure(who, err)
	}
	a, err := f.FetchActor(ctx, iri, true)
	if err != nil {
		return nil, fetchFailure(who, err)
	}
	return a, nil
}

// IsAssociation reports whether an actor is a Maillage association: an
// Organization that publishes a sealing key. Only associations become
// partners and exchange referrals; anyone else may follow.
func (a *ActorDoc) IsAssociation() bool { return a.Type == "Organization" && a.SealingKey != nil }

// Follow asks actor to become a partner: our Follow, which its admin
// approves. Only an association can be asked.
func (f *Federator) Follow(ctx context.Context, who string) (*Relation, error) {
	a, err := f.Resolve(ctx, who)
	if err != nil {
		return nil, err
	}
	if a.ID == f.actorID {
		return nil, actorError(ActorSelf, who, nil)
	}
	if f.isBlocked(hostOf(a.ID)) {
		return nil, actorError(ActorBlocked, who, nil)
	}
	if !a.IsAssociation() {
		return nil, actorError(ActorNotAssociation, strings.TrimSpace(who), fmt.Errorf("actor of type %q", a.Type))
	}
	f.relMu.Lock()
	defer f.relMu.Unlock()
	r, err := f.relationFor(ctx, a)
	if err != nil {
		return nil, err
	}
	if r.Ours == StateAccepted || r.Ours == StateRequested {
		return r, nil
	}
	return r, f.sendFollow(ctx, r)
}

func (f *Federator) sendFollow(ctx context.Context, r *Relation) error {
	r.OurFollowID = f.activityID()
	r.Ours = StateRequested
	r.EndedAt = time.Time{}
	r.Updated = f.now().UTC()
	if err := f.saveRelation(ctx, r); err != nil {
		return err
	}
	follow := Activity{Context: ldContext, ID: r.OurFollowID, Type: typeFollow, Actor: f.actorID, Object: mustJSON(r.Actor), To: []string{r.Actor}}
	return f.queue.enqueue(ctx, mustJSON(follow), []string{r.Inbox})
}

// relationFor returns the relation with a, creating it, and refreshes what
// the actor document says.
func (f *Federator) relationFor(ctx context.Context, a *ActorDoc) (*Relation, error) {
	r, err := f.o.Store.Relation(ctx, a.ID)
	if errors.Is(err, directory.ErrNotFound) {
		r = &Relation{ID: directory.NewID(), Actor: a.ID}
	} else if err != nil {
		return nil, err
	}
	r.Name = a.Name
	if r.Name == "" {
		r.Name = a.PreferredUsername
	}
	r.Names = a.Names()
	r.Handle = "@" + a.PreferredUsername + "@" + hostOf(a.ID)
	r.Identifiers = a.Identifiers()
	r.Inbox = a.Inbox
	r.Outbox = a.Outbox
	r.Following = a.Following
	r.SharedInbox = ""
	if a.Endpoints != nil {
		r.SharedInbox = a.Endpoints.SharedInbox
	}
	r.Kind = KindSubscriber
	if a.IsAssociation() {
		r.Kind = KindAssociation
	}
	return r, nil
}

// Relations lists every relation.
func (f *Federator) Relations(ctx context.Context) ([]*Relation, error) {
	return f.o.Store.Relations(ctx)
}

// Accept approves a pending follow; the partnership becomes mutual as our
// node follows back, which the other node accepts since it asked.
func (f *Federator) Accept(ctx context.Context, id string) (*Relation, error) {
	f.relMu.Lock()
	defer f.relMu.Unlock()
	r, err := f.pendingRelation(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := f.answerFollow(ctx, r, typeAccept); err != nil {
		return nil, err
	}
	if r.Kind == KindAssociation && r.Ours != StateAccepted && r.Ours != StateRequested {
		if err := f.sendFollow(ctx, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// pendingRelation returns the relation id whose follow awaits approval.
func (f *Federator) pendingRelation(ctx context.Context, id string) (*Relation, error) {
	r, err := f.o.Store.RelationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Theirs != StateRequested {
		return nil, fmt.Errorf("%w: no follow awaits approval", ErrState)
	}
	return r, nil
}

// Decline refuses a pending follow.
func (f *Federator) Decline(ctx context.Context, id string) (*Relation, error) {
	f.relMu.Lock()
	defer f.relMu.Unlock()
	r, err := f.pendingRelation(ctx, id)
	if err != nil {
		return nil, err
	}
	return r, f.answerFollow(ctx, r, typeReject)
}

func (f *Federator) answerFollow(ctx context.Context, r *Relation, verb string) error {
	r.Theirs = StateAccepted
	if verb == typeReject {
		r.Theirs = StateNone
	}
	r.Updated = f.now().UTC()
	if err := f.saveRelation(ctx, r); err != nil {
		return err
	}
	answer := Activity{Context: ldContext, ID: f.activityID(), Type: verb, Actor: f.actorID, Object: mustJSON(Activity{ID: r.TheirFollow, Type: typeFollow, Actor: r.Actor, Object: mustJSON(f.actorID)}), To: []string{r.Actor}}
	return f.queue.enqueue(ctx, mustJSON(answer), []string{r.Inbox})
}

// End ends a relation: Undo of our follow and Reject of theirs. The
// partner's services leave the replica after the grace period.
func (f *Federator) End(ctx context.Context, id string) (*Relation, error) {
	f.relMu.Lock()
	defer f.relMu.Unlock()
	r, err := f.o.Store.RelationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	if r.Ours == StateAccepted || r.Ours == StateRequested {
		out = append(out, mustJSON(Activity{Context: ldContext, ID: f.activityID(), Type: typeUndo, Actor: f.actorID,
			Object: mustJSON(Activity{ID: r.OurFollowID, Type: typeFollow, Actor: f.actorID, Object: mustJSON(r.Actor)}), To: []string{r.Actor}}))
	}
	if r.Theirs == StateAccepted || r.Theirs == StateRequested {
		out = append(out, mustJSON(Activity{Context: ldContext, ID: f.activityID(), Type: typeReject, Actor: f.actorID,
			Object: mustJSON(Activity{ID: r.TheirFollow, Type: typeFollow, Actor: r.Actor, Object: mustJSON(f.actorID)}), To: []string{r.Actor}}))
	}
	r.Ours, r.Theirs = StateNone, StateNone
	r.EndedAt = f.now().UTC()
	r.Updated = r.EndedAt
	if err := f.saveRelation(ctx, r); err != nil {
		return nil, err
	}
	for _, a := range out {
		if err := f.queue.enqueue(ctx, a, []string{r.Inbox}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// sweepEnded removes the services of former partners once the grace
// period has passed.
func (f *Federator) sweepEnded(ctx context.Context) {
	f.relMu.Lock()
	defer f.relMu.Unlock()
	rels, err := f.o.Store.Relations(ctx)
	if err != nil {
		return
	}
	for _, r := range rels {
		if r.EndedAt.IsZero() || r.Ours == StateAccepted || f.now().Sub(r.EndedAt) < f.o.EndGrace {
			continue
		}
		if err := f.dropServicesOf(ctx, r.Actor); err != nil {
			f.log.Error("drop former partner's services", "err", err)
			continue
		}
		r.EndedAt = time.Time{}
		f.saveRelation(ctx, r)
	}
}

func (f *Federator) dropServicesOf(ctx context.Context, actor string) error {
	if err := f.o.Store.DeletePartnerNeeds(ctx, actor); err != nil {
		return err
	}
	var uris []string
	err := f.o.Store.ForEachPartnerService(ctx, func(s *directory.PartnerService) error {
		if s.Actor == actor {
			uris = append(uris, s.URI)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, u := range uris {
		if err := f.o.Store.DeletePartnerService(ctx, u); err != nil && !errors.Is(err, directory.ErrNotFound) {
			return err
		}
	}
	return nil
}

// EndGrace is how long a former partner's services stay in the replica
// after the partnership ends, for pages that tell the admin before.
func (f *Federator) EndGrace() time.Duration { return f.o.EndGrace }

// SweepNow runs the upkeep at once (tests, admin).
func (f *Federator) SweepNow(ctx context.Context) { f.sweepEnded(ctx) }

// Discovered is an association known through a partner.
type Discovered struct {
	Actor string   `json:"actor"`
	Via   []string `json:"via"`
}

// PartnersOfPartners lists associations that our partners follow and we
// have no relation with yet.
func (f *Federator) PartnersOfPartners(ctx context.Context) ([]Discovered, error) {
	rels, err := f.o.Store.Relations(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{f.actorID: true}
	for _, r := range rels {
		if r.Ours != StateNone || r.Theirs != StateNone {
			known[r.Actor] = true
		}
	}
	via := map[string][]string{}
	var order []string
	for _, r := range rels {
		if !r.IsPartner() || r.Following == "" {
			continue
		}
		items, err := f.collectionItems(ctx, r.Following, 10)
		if err != nil {
			f.log.Info("partner's following collection", "partner", r.Actor, "err", err)
			continue
		}
		for _, a := range items {
			if known[a] || !validIRI(a) {
				continue
			}
			if _, seen := via[a]; !seen {
				order = append(order, a)
			}
			via[a] = append(via[a], r.Actor)
		}
	}
	out := make([]Discovered, 0, len(order))
	for _, a := range order {
		out = append(out, Discovered{Actor: a, Via: via[a]})
	}
	return out, nil
}
