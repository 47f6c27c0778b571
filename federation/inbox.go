package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"time"

	"github.com/maillage/maillage/directory"
)

const (
	maxInboxBody = 1 << 20
	seenTTL      = 30 * 24 * time.Hour
)

// inboxError carries the status and the safe text answered to the peer.
type inboxError struct {
	code   int
	reason string
	err    error
}

func (e *inboxError) Error() string { return e.reason + ": " + e.err.Error() }

func refuse(code int, reason string, err error) error {
	return &inboxError{code: code, reason: reason, err: err}
}

// inbox receives activities: verify, decode, check, apply once, answer.
// Nothing is changed unless every check passed.
func (f *Federator) inbox(w http.ResponseWriter, r *http.Request) {
	err := f.receive(r)
	var ie *inboxError
	switch {
	case err == nil:
		w.WriteHeader(http.StatusAccepted)
	case errors.As(err, &ie):
		f.o.Metrics.Refused.WithLabelValues(ie.reason).Inc()
		f.log.Info("inbox refused", "reason", ie.reason, "err", ie.err)
		if ie.code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "10")
		}
		http.Error(w, ie.reason, ie.code)
	case errors.Is(err, directory.ErrStorageFull):
		// Nothing was applied: the sender keeps the activity queued and
		// delivers it again later.
		f.o.Metrics.Refused.WithLabelValues("storage").Inc()
		w.Header().Set("Retry-After", "60")
		http.Error(w, "storage full", http.StatusServiceUnavailable)
	default:
		f.log.Error("inbox failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

func (f *Federator) receive(r *http.Request) error {
	ctx := r.Context()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/activity+json" && mt != "application/ld+json" && mt != "application/json" {
		return refuse(http.StatusUnsupportedMediaType, "content type", fmt.Errorf("%q", mt))
	}
	// Cheap checks before any crypto: the signer's host, its blocking and
	// its rate.
	host := hostOf(keyIDOf(r.Header.Get("Signature")))
	if host == "" {
		return refuse(http.StatusUnauthorized, "unsigned", ErrNoSignature)
	}
	if f.isBlocked(host) {
		return refuse(http.StatusForbidden, "blocked", fmt.Errorf("host %s", host))
	}
	if !f.limits.allow(host) {
		return refuse(http.StatusTooManyRequests, "rate", fmt.Errorf("host %s", host))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxInboxBody))
	if err != nil {
		return refuse(http.StatusRequestEntityTooLarge, "size", err)
	}
	key, err := f.verifier.Verify(ctx, r, body)
	if err != nil {
		return refuse(http.StatusUnauthorized, "signature", err)
	}
	a, err := parseActivity(body)
	if err != nil {
		return refuse(http.StatusBadRequest, "payload", err)
	}
	if a.Actor != key.Owner {
		return refuse(http.StatusForbidden, "key owner", ErrWrongOwner)
	}
	if hostOf(a.ID) != hostOf(a.Actor) {
		return refuse(http.StatusForbidden, "activity host", errors.New("activity id on another host than its actor"))
	}
	// Services check their seen mark in their own write; others here.
	if a.Type != typeCreate && a.Type != typeUpdate {
		if seen, err := f.o.Store.Seen(ctx, a.ID); err != nil {
			return err
		} else if seen {
			return nil // applied before: acknowledge, change nothing
		}
	}
	recorded, err := f.apply(ctx, a)
	if err != nil {
		return err
	}
	if recorded == appliedNot {
		return nil
	}
	// Recorded after applying: every handler is idempotent, so a delivery
	// racing this one applies the same change at worst.
	if recorded == appliedUnrecorded {
		if _, err := f.o.Store.MarkSeen(ctx, a.ID, seenTTL); err != nil {
			return err
		}
	}
	f.o.Metrics.Received.WithLabelValues(a.Type).Inc()
	return nil
}

// keyIDOf reads keyId from a Signature header without verifying anything,
// as the verification will.
func keyIDOf(sig string) string { return signatureParam(sig, "keyId") }

// What apply did with an activity.
type outcome int

const (
	appliedUnrecorded outcome = iota // applied; the seen mark is still to write
	appliedRecorded                  // applied with its seen mark in one write
	appliedNot                       // seen before, or stale: nothing changed
)

// apply runs the handler of the activity's type.
func (f *Federator) apply(ctx context.Context, a *Activity) (outcome, error) {
	if handled, err := f.onReferral(ctx, a); handled {
		return appliedUnrecorded, err
	}
	switch a.Type {
	case typeFollow:
		return appliedUnrecorded, f.onFollow(ctx, a)
	case typeAccept, typeReject:
		return appliedUnrecorded, f.onAnswer(ctx, a)
	case typeUndo:
		return appliedUnrecorded, f.onUndo(ctx, a)
	case typeCreate, typeUpdate:
		return f.onUpsert(ctx, a)
	case typeDelete:
		return appliedUnrecorded, f.onDelete(ctx, a)
	}
	return appliedUnrecorded, nil // unknown types are acknowledged and ignored
}

func (f *Federator) onFollow(ctx context.Context, a *Activity) error {
	if idOf(a.Object) != f.actorID {
		return refuse(http.StatusBadRequest, "payload", errors.New("follow of another actor"))
	}
	doc, err := f.FetchActor(ctx, a.Actor, false)
	if err != nil {
		return refuse(http.StatusBadRequest, "actor", err)
	}
	f.relMu.Lock()
	defer f.relMu.Unlock()
	r, err := f.relationFor(ctx, doc)
	if err != nil {
		return err
	}
	r.TheirFollow = a.ID
	r.Updated = f.now().UTC()
	switch {
	case r.Theirs == StateAccepted:
		// already following: answer again, the first Accept may be lost
		return f.answerFollow(ctx, r, typeAccept)
	case r.Kind == KindSubscriber:
		// A plain fediverse account gets the public announcements.
		return f.answerFollow(ctx, r, typeAccept)
	case r.Ours == StateRequested || r.Ours == StateAccepted:
		// We asked them first: their follow completes the partnership.
		return f.answerFollow(ctx, r, typeAccept)
	}
	r.Theirs = StateRequested
	return f.saveRelation(ctx, r)
}

// onAnswer handles Accept or Reject of our Follow.
func (f *Federator) onAnswer(ctx context.Context, a *Activity) error {
	f.relMu.Lock()
	defer f.relMu.Unlock()
	r, err := f.o.Store.Relation(ctx, a.Actor)
	if errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var inner Activity
	if json.Unmarshal(a.Object, &inner) == nil && inner.Type == typeFollow && inner.Actor != "" && inner.Actor != f.actorID {
		// Reject of their own follow of us (they removed us as follower).
		if a.Type == typeReject {
			r.Theirs = StateNone
			r.Updated = f.now().UTC()
			return f.saveRelation(ctx, r)
		}
		return nil
	}
	// Some servers answer with another id for our follow: what counts is
	// that the answer comes, signed, from the followed actor itself.
	wasPartner := r.IsPartner()
	if a.Type == typeAccept {
		if r.Ours != StateRequested && r.Ours != StateAccepted {
			return nil
		}
		r.Ours = StateAccepted
		r.EndedAt, r.BackfilledAt = time.Time{}, time.Time{}
	} else {
		r.Ours = StateRejected
		if wasPartner {
			r.EndedAt = f.now().UTC()
		}
	}
	r.Updated = f.now().UTC()
	if err := f.saveRelation(ctx, r); err != nil {
		return err
	}
	if owesBackfill(r) {
		actor := r.Actor
		f.spawn(func(ctx context.Context) { f.syncPartner(ctx, actor) })
	}
	return nil
}

// onUndo ends a follow of us. The Follow comes embedded (Mastodon,
// GoToSocial, Maillage) or by its id alone; an Undo of anything else
// (a Like, an Announce) concerns nothing the node keeps.
func (f *Federator) onUndo(ctx context.Context, a *Activity) error {
	var inner Activity
	if err := json.Unmarshal(a.Object, &inner); err != nil {
		inner = Activity{ID: idOf(a.Object)}
		if inner.ID == "" {
			return refuse(http.StatusBadRequest, "payload", errors.New("undo of an object that is neither an activity nor its id"))
		}
	}
	if inner.Type != "" && inner.Type != typeFollow {
		return nil
	}
	if inner.Actor != "" && inner.Actor != a.Actor {
		return refuse(http.StatusForbidden, "key owner", errors.New("undo of another actor's follow"))
	}
	if inner.Type == typeFollow && idOf(inner.Object) != f.actorID {
		return refuse(http.StatusBadRequest, "payload", errors.New("undo of a follow of another actor"))
	}
	f.relMu.Lock()
	defer f.relMu.Unlock()
	r, err := f.o.Store.Relation(ctx, a.Actor)
	if errors.Is(err, directory.ErrNotFound) {
		return nil // no follow of theirs to end: already as asked
	}
	if err != nil {
		return err
	}
	if inner.Type == "" && (inner.ID == "" || inner.ID != r.TheirFollow) {
		return nil // an id that is not their follow: nothing of ours
	}
	if r.Kind == KindSubscriber && r.Ours == StateNone {
		// A person who unfollows is forgotten: nothing of them is kept.
		return f.removeRelation(ctx, r.Actor)
	}
	if r.IsPartner() {
		r.EndedAt = f.now().UTC()
	}
	r.Theirs = StateNone
	r.Updated = f.now().UTC()
	return f.saveRelation(ctx, r)
}

// onUpsert stores a partner's created or changed service.
func (f *Federator) onUpsert(ctx context.Context, a *Activity) (outcome, error) {
	if a.Type == typeUpdate && idOf(a.Object) == a.Actor {
		return appliedUnrecorded, f.onActorUpdate(ctx, a)
	}
	if typeOf(a.Object) == typeNeedsReport {
		return f.onNeedsReport(ctx, a)
	}
	if typeOf(a.Object) == typeStatsReport {
		return f.onStatsReport(ctx, a)
	}
	if !isServiceType(typeOf(a.Object)) {
		return appliedUnrecorded, nil // not a service: nothing Maillage keeps
	}
	r, err := f.cachedRelation(ctx, a.Actor)
	if errors.Is(err, directory.ErrNotFound) || (err == nil && (r.Ours != StateAccepted || r.Kind != KindAssociation)) {
		return appliedUnrecorded, nil // we do not follow them: their services are not ours to keep
	}
	if err != nil {
		return appliedNot, err
	}
	ps, err := f.partnerService(a.Object, a.Actor, r.Name)
	if err != nil {
		return appliedNot, refuse(http.StatusBadRequest, "payload", err)
	}
	ps.ProviderNames = maps.Clone(r.Names)
	applied, err := f.o.Store.ApplyPartnerService(ctx, ps, a.ID, seenTTL)
	if err != nil || !applied {
		return appliedNot, err
	}
	return appliedRecorded, nil
}

// onActorUpdate refreshes what a relation knows of its actor (name,
// enterprise number, inboxes) from the actor document the actor sent.
func (f *Federator) onActorUpdate(ctx context.Context, a *Activity) error {
	doc, err := parseActor(a.Object, a.Actor)
	if err != nil {
		return refuse(http.StatusBadRequest, "payload", err)
	}
	if doc.ID != a.Actor {
		return refuse(http.StatusForbidden, "key owner", errors.New("update of another actor"))
	}
	f.relMu.Lock()
	defer f.relMu.Unlock()
	if _, err := f.o.Store.Relation(ctx, a.Actor); errors.Is(err, directory.ErrNotFound) {
		return nil // a stranger's profile: nothing kept
	} else if err != nil {
		return err
	}
	r, err := f.relationFor(ctx, doc)
	if err != nil {
		return err
	}
	r.Updated = f.now().UTC()
	return f.saveRelation(ctx, r)
}

func (f *Federator) onDelete(ctx context.Context, a *Activity) error {
	target := idOf(a.Object)
	if target == a.Actor {
		// The actor is gone: forget it and its services.
		f.relMu.Lock()
		defer f.relMu.Unlock()
		if err := f.dropServicesOf(ctx, a.Actor); err != nil {
			return err
		}
		err := f.removeRelation(ctx, a.Actor)
		if errors.Is(err, directory.ErrNotFound) {
			return nil
		}
		return err
	}
	notTheirs := refuse(http.StatusForbidden, "key owner", errors.New("delete of another actor's service"))
	r, err := f.cachedRelation(ctx, a.Actor)
	if err == nil && r.Ours == StateAccepted && r.Kind == KindAssociation {
		// A partner whose services we keep: the deletion is remembered,
		// so that an older version sent or read before it (a retried
		// Update, a backfill page) does not bring the service back.
		_, err := f.o.Store.WithdrawPartnerService(ctx, target, a.Actor, deletedAt(a, f.now(), f.o.SignatureWindow), seenTTL)
		if errors.Is(err, ErrNotTheirs) {
			return notTheirs
		}
		return err
	}
	if err != nil && !errors.Is(err, directory.ErrNotFound) {
		return err
	}
	ps, err := f.o.Store.PartnerService(ctx, target)
	if errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ps.Actor != a.Actor {
		return notTheirs
	}
	return f.o.Store.DeletePartnerService(ctx, target)
}

// deletedAt is when a Delete's service was deleted, on its sender's clock,
// to be compared with the versions it sent before: the Tombstone's
// deleted time, or the activity's published time. Without either it is
// our time of receipt. A time further ahead of ours than a sender's clock
// may be (the signature's window) is not believed: it would hold back
// the sender's later versions too.
func deletedAt(a *Activity, now time.Time, ahead time.Duration) time.Time {
	var tomb struct {
		Deleted string `json:"deleted"`
	}
	_ = json.Unmarshal(a.Object, &tomb) // an IRI alone has no time
	for _, v := range []string{tomb.Deleted, a.Published} {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && !t.After(now.Add(ahead)) {
			return t
		}
	}
	return now
}
