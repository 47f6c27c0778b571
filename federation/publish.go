package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

var _ directory.Publisher = (*Federator)(nil)

// ServiceChanged sends Create, Update or Delete of a local service to
// every follower, one copy per shared inbox.
func (f *Federator) ServiceChanged(ctx context.Context, an directory.Announcement, s *directory.Service) error {
	var act Activity
	change := an.Change
	switch change {
	case directory.Created, directory.Updated:
		page, err := f.pageOf(ctx, s)
		if err != nil {
			return err
		}
		verb := typeCreate
		if change == directory.Updated {
			verb = typeUpdate
		}
		act = Activity{ID: f.announcementID(an), Type: verb, Actor: f.actorID, Object: mustJSON(page)}
	case directory.Deleted:
		// Its time of deletion, later than every version sent before
		// (a partner keeps no version older than it: store's
		// WithdrawPartnerService). s holds only its id when the deletion
		// is announced again after a stop.
		deleted := f.now().UTC()
		if !deleted.After(s.Updated) {
			deleted = s.Updated.UTC().Add(time.Nanosecond)
		}
		tomb := map[string]string{"id": f.serviceURI(s.ID), "type": "Tombstone", "formerType": typeNote,
			"deleted": deleted.Format(time.RFC3339Nano)}
		act = Activity{ID: f.announcementID(an), Type: typeDelete, Actor: f.actorID, Object: mustJSON(tomb)}
	default:
		return fmt.Errorf("federation: unknown change %v", change)
	}
	act.Context = ldContext
	act.To = []string{Public}
	act.Cc = []string{f.base + "/followers"}
	inboxes, err := f.followerInboxes(ctx)
	if err != nil {
		return err
	}
	return f.queue.enqueue(ctx, mustJSON(act), inboxes)
}

// announcementID is the id of the activity announcing a change: the same
// however many times the change is announced, so that partners apply it
// once.
func (f *Federator) announcementID(an directory.Announcement) string {
	if !directory.IsUUID(an.Activity) {
		return f.activityID()
	}
	return f.base + "/activities/" + an.Activity
}

// OrganizationChanged sends an Update of the node's actor to every
// follower, so that partners learn the association's new name or
// enterprise number.
func (f *Federator) OrganizationChanged(ctx context.Context, _ *directory.Organization) error {
	doc, err := f.Actor(ctx)
	if err != nil {
		return err
	}
	doc.Context = nil
	act := Activity{Context: ldContext, ID: f.activityID(), Type: typeUpdate, Actor: f.actorID, Object: mustJSON(doc),
		To: []string{Public}, Cc: []string{f.base + "/followers"}}
	inboxes, err := f.followerInboxes(ctx)
	if err != nil {
		return err
	}
	return f.queue.enqueue(ctx, mustJSON(act), inboxes)
}

func (f *Federator) pageOf(ctx context.Context, s *directory.Service) (*ServicePage, error) {
	locs := map[string]*directory.Location{}
	for _, id := range s.Locations {
		if l, err := f.o.Catalog.Location(ctx, id); err == nil {
			locs[id] = l
		}
	}
	return f.servicePage(s, locs), nil
}

// followerInboxes returns the inboxes of accepted followers, using a
// shared inbox once for every follower on that server.
func (f *Federator) followerInboxes(ctx context.Context) ([]string, error) {
	rels, err := f.o.Store.Relations(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rels {
		if r.Theirs != StateAccepted {
			continue
		}
		in := r.Inbox
		if r.SharedInbox != "" {
			in = r.SharedInbox
		}
		if !seen[in] {
			seen[in] = true
			out = append(out, in)
		}
	}
	return out, nil
}

// progressEvery is how often a long task logs how far it has gone.
const progressEvery = 5 * time.Second

// perSecond is n per second over d, rounded.
func perSecond(n int, d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(float64(n) / d.Seconds())
}

// backfills is how many partners' outboxes are copied at once: a node
// started after an upgrade, or a hub whose partners came back, may owe
// hundreds.
const backfills = 4

// owesBackfill reports whether the node follows r's association and has
// not yet copied its services since that follow was accepted.
func owesBackfill(r *Relation) bool {
	return r.Ours == StateAccepted && r.Kind == KindAssociation && r.Outbox != "" && r.BackfilledAt.IsZero()
}

// syncPartner copies a partner's services from its outbox, trying again
// with the deliveries' backoff until one copy completes. Services that the
// partner sent before our follow was accepted were not kept (onUpsert):
// one failed copy (the partner restarting, a network fault) would leave
// them out until they change. The relation records the completed copy
// (BackfilledAt), and a node stopped before it resumes at its next start
// (resumeBackfills).
func (f *Federator) syncPartner(ctx context.Context, actor string) {
	f.mu.Lock()
	if f.syncing[actor] {
		f.mu.Unlock()
		return
	}
	f.syncing[actor] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.syncing, actor)
		f.mu.Unlock()
	}()
	for attempt := 1; ; attempt++ {
		r, err := f.o.Store.Relation(ctx, actor)
		if err != nil || !owesBackfill(r) {
			return
		}
		select {
		case f.backfilling <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n, err := f.backfill(ctx, r.Actor, r.Name, maps.Clone(r.Names), r.Outbox)
		<-f.backfilling
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			f.backfilled(ctx, actor)
			return
		}
		wait := backoff(f.o.FirstRetry, attempt)
		f.log.Warn("backfill stopped; it will be tried again", "partner", actor, "services", n, "attempt", attempt,
			"in", wait.Round(time.Second).String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backfilled records a completed copy, unless the relation changed
// meanwhile (the follow ended, or was accepted again and owes another).
func (f *Federator) backfilled(ctx context.Context, actor string) {
	f.relMu.Lock()
	defer f.relMu.Unlock()
	r, err := f.o.Store.Relation(ctx, actor)
	if err != nil || !owesBackfill(r) {
		return
	}
	r.BackfilledAt = f.now().UTC()
	if err := f.saveRelation(ctx, r); err != nil {
		f.log.Error("record a completed backfill", "partner", actor, "err", err)
	}
}

// resumeBackfills starts the copies owed at start: those a stop or a
// failure interrupted, and, once after an upgrade, one for every partner
// whose relation predates BackfilledAt (which also brings back services
// an earlier interrupted copy left out).
func (f *Federator) resumeBackfills(ctx context.Context) {
	rels, err := f.o.Store.Relations(ctx)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Error("backfills owed", "err", err)
		}
		return
	}
	for _, r := range rels {
		if owesBackfill(r) {
			actor := r.Actor
			f.spawn(func(ctx context.Context) { f.syncPartner(ctx, actor) })
		}
	}
}

// backfill copies a partner's services from its outbox once, logging how
// far it has gone every few seconds, and returns how many it copied.
func (f *Federator) backfill(ctx context.Context, actor, name string, names directory.Text, outbox string) (int, error) {
	n := 0
	start := time.Now()
	last := start
	f.log.Info("backfill started", "partner", actor)
	err := f.walkCollection(ctx, outbox, 200, func(raw json.RawMessage) error {
		var a Activity
		if json.Unmarshal(raw, &a) != nil || (a.Type != typeCreate && a.Type != typeUpdate) || !isServiceType(typeOf(a.Object)) {
			return nil
		}
		if a.Actor != actor {
			return nil
		}
		ps, err := f.partnerService(a.Object, actor, name)
		if err != nil {
			f.log.Info("backfill skipped a service", "partner", actor, "err", err)
			return nil
		}
		ps.ProviderNames = names
		n++
		if now := time.Now(); now.Sub(last) >= progressEvery {
			last = now
			f.log.Info("backfill going on", "partner", actor, "services", n, "per_second", perSecond(n, now.Sub(start)))
		}
		_, err = f.o.Store.PutPartnerService(ctx, ps)
		return err
	})
	if err != nil {
		return n, err
	}
	f.log.Info("backfill done", "partner", actor, "services", n, "took", time.Since(start).Round(time.Millisecond).String())
	return n, nil
}

// walkCollection calls fn for every item of an (Ordered)Collection, page
// by page, following first and next links on the collection's host, at
// most maxPages pages.
func (f *Federator) walkCollection(ctx context.Context, iri string, maxPages int, fn func(json.RawMessage) error) error {
	host := hostOf(iri)
	type page struct {
		Type         string                `json:"type"`
		First        json.RawMessage       `json:"first"`
		Next         json.RawMessage       `json:"next"`
		Items        many[json.RawMessage] `json:"items"`
		OrderedItems many[json.RawMessage] `json:"orderedItems"`
	}
	next := iri
	visited := map[string]bool{}
	for pages := 0; next != "" && pages < maxPages; pages++ {
		if visited[next] || hostOf(next) != host {
			return nil
		}
		visited[next] = true
		data, err := f.client.Get(ctx, next, true)
		if err != nil {
			return err
		}
		if err := checkDepth(data, maxJSONDepth); err != nil {
			return err
		}
		var p page
		if err := json.Unmarshal(data, &p); err != nil {
			return fmt.Errorf("federation: collection page: %w", err)
		}
		for _, it := range append(p.OrderedItems, p.Items...) {
			if err := fn(it); err != nil {
				return err
			}
		}
		switch {
		case len(p.First) > 0 && pages == 0 && len(p.OrderedItems)+len(p.Items) == 0:
			next = idOf(p.First)
			if next == "" { // an embedded first page
				var first page
				if json.Unmarshal(p.First, &first) == nil {
					for _, it := range append(first.OrderedItems, first.Items...) {
						if err := fn(it); err != nil {
							return err
						}
					}
				}
				next = idOf(first.Next)
			}
		default:
			next = idOf(p.Next)
		}
	}
	return nil
}

// collectionItems returns the ids of up to maxPages pages of a collection.
func (f *Federator) collectionItems(ctx context.Context, iri string, maxPages int) ([]string, error) {
	var out []string
	err := f.walkCollection(ctx, iri, maxPages, func(raw json.RawMessage) error {
		if id := idOf(raw); id != "" {
			out = append(out, id)
		}
		return nil
	})
	return out, err
}

// webfinger resolves handle@host to an actor IRI.
func (f *Federator) webfinger(ctx context.Context, handle, host string) (string, error) {
	scheme := "https"
	if f.o.AllowPrivate && strings.HasPrefix(f.base, "http://") {
		scheme = "http" // closed networks and tests run without TLS
	}
	u := scheme + "://" + host + "/.well-known/webfinger?resource=" + url.QueryEscape("acct:"+handle+"@"+host)
	data, err := f.client.GetJRD(ctx, u)
	if err != nil {
		return "", err
	}
	var jrd struct {
		Subject string `json:"subject"`
		Links   []struct {
			Rel  string `json:"rel"`
			Type string `json:"type"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := json.Unmarshal(data, &jrd); err != nil {
		return "", fmt.Errorf("federation: webfinger answer: %w", err)
	}
	for _, l := range jrd.Links {
		if l.Rel == "self" && (l.Type == ContentType || strings.HasPrefix(l.Type, "application/ld+json")) && validIRI(l.Href) {
			return l.Href, nil
		}
	}
	return "", errors.New("federation: webfinger gives no ActivityPub actor")
}
