package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// Errors of partnership operations.
var (
	ErrBadActor = errors.New("federation: not a reachable actor")
	ErrState    = errors.New("federation: not possible in the relation's current state")
)

// activityID returns a new id for an activity of ours.
func (f *Federator) activityID() string { return f.base + "/activities/" + directory.NewID() }

// Resolve turns "@handle@host", "handle@host" or an actor URL into the
// actor's document, through WebFinger for handles.
func (f *Federator) Resolve(ctx context.Context, who string) (*ActorDoc, error) {
	who = strings.TrimSpace(who)
	if strings.HasPrefix(who, "http://") || strings.HasPrefix(who, "https://") {
		a, err := f.FetchActor(ctx, who, true)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadActor, err)
		}
		return a, nil
	}
	handle, host, ok := strings.Cut(strings.TrimPrefix(who, "@"), "@")
	if !ok || handle == "" || host == "" || strings.ContainsAny(host, "/?#@ ") {
		return nil, fmt.Errorf("%w: %q is neither @handle@host nor an actor URL", ErrBadActor, who)
	}
	iri, err := f.webfinger(ctx, handle, host)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadActor, err)
	}
	a, err := f.FetchActor(ctx, iri, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadActor, err)
	}
	return a, nil
}

// Follow asks actor to become a partner: our Follow, which its admin
// approves.
func (f *Federator) Follow(ctx context.Context, who string) (*Relation, error) {
	a, err := f.Resolve(ctx, who)
	if err != nil {
		return nil, err
	}
	if a.ID == f.actorID {
		return nil, fmt.Errorf("%w: a node cannot partner with itself", ErrBadActor)
	}
	if f.isBlocked(hostOf(a.ID)) {
		return nil, fmt.Errorf("%w: %s is blocked", ErrBadActor, hostOf(a.ID))
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
	if a.Type == "Organization" && a.SealingKey != nil {
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
