package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/notify"
)

// Notifications: events owed by changes, each person's notifications,
// digests waiting, choices, and the mail queue (package web/notify).

// eventSeenTTL is how long a dispatched event's id is remembered: longer
// than any message of a partner can come again.
const eventSeenTTL = 400 * 24 * time.Hour

// maxNotifications is how many notifications a person keeps; the oldest
// go first.
const maxNotifications = 500

// addEvents records events in txn, except those recorded before.
func addEvents(txn *badger.Txn, evs ...notify.Event) error {
	for i := range evs {
		ev := &evs[i]
		if ev.ID == "" || !ev.Kind.Valid() {
			return fmt.Errorf("event %q of kind %q", ev.ID, ev.Kind)
		}
		for _, key := range [][]byte{eventKey(ev.ID), eventSeenKey(ev.ID)} {
			if ok, err := exists(txn, key); err != nil {
				return err
			} else if ok {
				goto next
			}
		}
		if err := set(txn, eventKey(ev.ID), ev); err != nil {
			return err
		}
	next:
	}
	return nil
}

// referralEvents turns a referral change's notices into events.
func referralEvents(ns []referral.Notice) []notify.Event {
	out := make([]notify.Event, 0, len(ns))
	for _, n := range ns {
		out = append(out, notify.Event{ID: "referral/" + n.ID, Kind: notify.Kind("referral-" + string(n.Kind)), At: n.At.UTC(),
			Referral: n.Referral, State: string(n.State), Reason: n.Reason, Service: n.Service, Partner: n.Partner, Due: n.Due})
	}
	return out
}

// AddEvents records events that no other change carries.
func (s *Store) AddEvents(ctx context.Context, evs ...notify.Event) error {
	// In transactions of eventsPerTxn: the reminders of every service
	// imported on one day fall due together, more events than Badger
	// takes at once (2,447 failed). Each event is added once whatever
	// chunk it is in, so a chunk that fails is written again in full
	// when its caller tries again.
	for len(evs) > 0 {
		chunk := evs[:min(len(evs), eventsPerTxn)]
		evs = evs[len(chunk):]
		if err := s.update(func(txn *badger.Txn) error { return addEvents(txn, chunk...) }); err != nil {
			return fmt.Errorf("store: notification events: %w", err)
		}
	}
	return nil
}

// eventsPerTxn bounds the events AddEvents writes in one transaction:
// about 60 KB, a tenth of what Badger takes with the store's options.
const eventsPerTxn = 200

// PendingEvents returns up to limit events not yet dispatched.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]notify.Event, error) {
	var out []notify.Event
	err := s.db.View(func(txn *badger.Txn) error {
		return eachValue(txn, pEvent, func(_ []byte, b []byte) (bool, error) {
			var ev notify.Event
			if err := json.Unmarshal(b, &ev); err != nil {
				return false, fmt.Errorf("decode event: %w", err)
			}
			out = append(out, ev)
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending events: %w", err)
	}
	return out, nil
}

// eachValue calls fn with each key and value under prefix, in key order,
// while fn returns true.
func eachValue(txn *badger.Txn, prefix string, fn func(key, val []byte) (bool, error)) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(prefix)
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var more bool
		err := it.Item().Value(func(b []byte) error {
			var err error
			more, err = fn(it.Item().KeyCopy(nil), b)
			return err
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// keysUnder returns the keys under prefix, in order.
func keysUnder(txn *badger.Txn, prefix string) [][]byte {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(prefix)
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	defer it.Close()
	var out [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		out = append(out, it.Item().KeyCopy(nil))
	}
	return out
}

// Dispatch records an event's notifications, mails and digest entries,
// and marks it dispatched, in one transaction. An event for more people
// than dispatchPerTxn (about 1.5 KB each: a notification, a mail or a
// digest entry) is recorded a group of people per transaction, the last
// marking it dispatched: a crash in between dispatches it again, which
// writes the same notifications and digest entries again under the same
// keys, and no mail already queued under its id.
func (s *Store) Dispatch(ctx context.Context, ev notify.Event, ns []notify.Notification, mails []*notify.Mail, digest []notify.Notification) error {
	users := map[string]bool{}
	for _, n := range ns {
		users[n.User] = true
	}
	for _, m := range mails {
		users[m.User] = true
	}
	for _, d := range digest {
		users[d.User] = true
	}
	ids := slices.Sorted(maps.Keys(users))
	for start := 0; start == 0 || start < len(ids); start += dispatchPerTxn {
		group := map[string]bool{}
		for _, u := range ids[start:min(len(ids), start+dispatchPerTxn)] {
			group[u] = true
		}
		last := start+dispatchPerTxn >= len(ids)
		done := false
		err := s.update(func(txn *badger.Txn) error {
			done = false
			if ok, err := exists(txn, eventKey(ev.ID)); err != nil || !ok {
				done = true
				return err // dispatched meanwhile
			}
			if last {
				if err := txn.Delete(eventKey(ev.ID)); err != nil {
					return err
				}
				if err := txn.SetEntry(badger.NewEntry(eventSeenKey(ev.ID), nil).WithTTL(eventSeenTTL)); err != nil {
					return err
				}
			}
			return dispatchTo(txn, ev, group, len(ids) > dispatchPerTxn, ns, mails, digest)
		})
		if err != nil {
			return fmt.Errorf("store: dispatch event: %w", err)
		}
		if done {
			return nil
		}
	}
	return nil
}

// dispatchPerTxn bounds the people Dispatch writes for in one transaction.
const dispatchPerTxn = 100

// dispatchTo writes what an event brings the people in group. queued
// checks first for mails already queued under their id, from a dispatch
// a crash interrupted.
func dispatchTo(txn *badger.Txn, ev notify.Event, group map[string]bool, queued bool, ns []notify.Notification, mails []*notify.Mail, digest []notify.Notification) error {
	for i := range ns {
		n := &ns[i]
		if !group[n.User] {
			continue
		}
		if err := set(txn, notificationKey(n.User, ev.At, ev.ID), n); err != nil {
			return err
		}
		keys := keysUnder(txn, pNotification+n.User+"/")
		for _, k := range keys[:max(len(keys)-maxNotifications, 0)] {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
	}
	var inQueue map[string]bool
	if queued {
		inQueue = map[string]bool{}
		for _, k := range keysUnder(txn, pMail) { // mail/{next attempt, 16 hex}/{id}
			if len(k) > len(pMail)+17 {
				inQueue[string(k[len(pMail)+17:])] = true
			}
		}
	}
	for _, m := range mails {
		if !group[m.User] || inQueue[m.ID] {
			continue
		}
		if err := set(txn, mailKey(m), m); err != nil {
			return err
		}
	}
	for i := range digest {
		if !group[digest[i].User] {
			continue
		}
		if err := set(txn, digestKey(digest[i].User, ev.ID), &digest[i]); err != nil {
			return err
		}
	}
	return nil
}

// Notifications returns up to limit of a person's notifications, newest
// first, and how many of all are unread.
func (s *Store) Notifications(ctx context.Context, user string, limit int) ([]notify.Notification, int, error) {
	var all []notify.Notification
	unread := 0
	err := s.db.View(func(txn *badger.Txn) error {
		return eachValue(txn, pNotification+user+"/", func(_, b []byte) (bool, error) {
			var n notify.Notification
			if err := json.Unmarshal(b, &n); err != nil {
				return false, fmt.Errorf("decode notification: %w", err)
			}
			if !n.Read {
				unread++
			}
			if limit > 0 {
				all = append(all, n)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: notifications: %w", err)
	}
	slices.Reverse(all)
	if len(all) > limit {
		all = all[:limit]
	}
	return all, unread, nil
}

// MarkRead marks a person's notifications read: those of the given
// events, or all, readPerTxn a transaction (a person keeps up to 500, of
// about 600 bytes each: all of them are half of what Badger takes at
// once, and more than it takes with smaller memtables).
func (s *Store) MarkRead(ctx context.Context, user string, ids []string) error {
	for more := true; more; {
		err := s.update(func(txn *badger.Txn) error {
			type change struct {
				key []byte
				n   notify.Notification
			}
			var todo []change
			err := eachValue(txn, pNotification+user+"/", func(k, b []byte) (bool, error) {
				var n notify.Notification
				if err := json.Unmarshal(b, &n); err != nil {
					return false, fmt.Errorf("decode notification: %w", err)
				}
				if !n.Read && (len(ids) == 0 || slices.Contains(ids, n.Event.ID)) {
					n.Read = true
					todo = append(todo, change{k, n})
				}
				return len(todo) < readPerTxn, nil
			})
			if err != nil {
				return err
			}
			more = len(todo) == readPerTxn
			for _, c := range todo {
				if err := set(txn, c.key, &c.n); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: mark notifications read: %w", err)
		}
	}
	return nil
}

// readPerTxn bounds the notifications MarkRead rewrites in one transaction.
const readPerTxn = 100

// Prefs returns a person's notification choices, the defaults when none.
func (s *Store) Prefs(ctx context.Context, user string) (*notify.Prefs, error) {
	var p notify.Prefs
	err := s.db.View(func(txn *badger.Txn) error { return get(txn, prefsKey(user), &p) })
	if errors.Is(err, directory.ErrNotFound) {
		d := notify.DefaultPrefs(user)
		return &d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: notification choices: %w", err)
	}
	return &p, nil
}

// PutPrefs records a person's notification choices.
func (s *Store) PutPrefs(ctx context.Context, p *notify.Prefs) error {
	if p.User == "" {
		return errors.New("store: notification choices of nobody")
	}
	if err := s.update(func(txn *badger.Txn) error { return set(txn, prefsKey(p.User), p) }); err != nil {
		return fmt.Errorf("store: notification choices: %w", err)
	}
	return nil
}

// QueueMail adds a mail to the queue, unless one with its id waits.
func (s *Store) QueueMail(ctx context.Context, m *notify.Mail) error {
	if m.ID == "" {
		return errors.New("store: a mail with an empty id")
	}
	err := s.update(func(txn *badger.Txn) error {
		for _, k := range keysUnder(txn, pMail) {
			if strings.HasSuffix(string(k), "/"+m.ID) {
				return nil
			}
		}
		return set(txn, mailKey(m), m)
	})
	if err != nil {
		return fmt.Errorf("store: queue mail: %w", err)
	}
	return nil
}

// DueMails returns up to limit mails due at now, the oldest first; the
// scan stops at the first one not due.
func (s *Store) DueMails(ctx context.Context, now time.Time, limit int) ([]*notify.Mail, error) {
	bound := fmt.Appendf(nil, "%s%016x0", pMail, uint64(max(now.UnixNano(), 0)))
	var out []*notify.Mail
	err := s.db.View(func(txn *badger.Txn) error {
		return eachValue(txn, pMail, func(k, b []byte) (bool, error) {
			if bytes.Compare(k, bound) >= 0 || len(out) >= limit {
				return false, nil
			}
			m := new(notify.Mail)
			if err := json.Unmarshal(b, m); err != nil {
				return false, fmt.Errorf("decode mail: %w", err)
			}
			out = append(out, m)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: due mails: %w", err)
	}
	return out, nil
}

// RescheduleMail replaces old by next, or moves it to the failed mails
// when next.Failed is set; nothing happens if old left the queue meanwhile.
func (s *Store) RescheduleMail(ctx context.Context, old, next *notify.Mail) error {
	err := s.update(func(txn *badger.Txn) error {
		if ok, err := exists(txn, mailKey(old)); err != nil || !ok {
			return err
		}
		if err := txn.Delete(mailKey(old)); err != nil {
			return err
		}
		if !next.Failed.IsZero() {
			return set(txn, mailFailedKey(next), next)
		}
		return set(txn, mailKey(next), next)
	})
	if err != nil {
		return fmt.Errorf("store: reschedule mail: %w", err)
	}
	return nil
}

// DeleteMail removes a sent mail.
func (s *Store) DeleteMail(ctx context.Context, m *notify.Mail) error {
	if err := s.update(func(txn *badger.Txn) error { return txn.Delete(mailKey(m)) }); err != nil {
		return fmt.Errorf("store: delete mail: %w", err)
	}
	return nil
}

// Mails returns every queued mail and up to limit failed ones, newest
// first.
func (s *Store) Mails(ctx context.Context, limit int) (queued, failed []*notify.Mail, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		err := eachValue(txn, pMail, func(_, b []byte) (bool, error) {
			m := new(notify.Mail)
			if err := json.Unmarshal(b, m); err != nil {
				return false, fmt.Errorf("decode mail: %w", err)
			}
			queued = append(queued, m)
			return true, nil
		})
		if err != nil || limit <= 0 {
			return err
		}
		return eachValue(txn, pMailFailed, func(_, b []byte) (bool, error) {
			m := new(notify.Mail)
			if err := json.Unmarshal(b, m); err != nil {
				return false, fmt.Errorf("decode mail: %w", err)
			}
			failed = append(failed, m)
			return true, nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: mails: %w", err)
	}
	slices.Reverse(failed)
	if len(failed) > limit {
		failed = failed[:limit]
	}
	return queued, failed, nil
}

// DigestUsers lists the people with digest entries waiting.
func (s *Store) DigestUsers(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		for _, k := range keysUnder(txn, pDigest) {
			user, _, _ := strings.Cut(strings.TrimPrefix(string(k), pDigest), "/")
			if len(out) == 0 || out[len(out)-1] != user {
				out = append(out, user)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: digests: %w", err)
	}
	return out, nil
}

// TakeDigest queues the digest mail fn builds from a person's entries of
// events before the given time, and removes those entries. The mail and
// up to deletesPerTxn removals are one transaction; more entries
// than that (the reminders of thousands of services imported together,
// more removals than Badger takes at once) are removed after it, in
// chunks, under a mark naming the time the mail took entries up to: a
// crash in between leaves the mark, and the next call finishes the
// removals before it reads anything, so that no entry is mailed twice.
func (s *Store) TakeDigest(ctx context.Context, user string, before time.Time, fn func([]notify.Notification) *notify.Mail) error {
	if err := s.finishDigest(user); err != nil {
		return err
	}
	rest := false
	err := s.update(func(txn *badger.Txn) error {
		rest = false
		keys, items, err := digestEntries(txn, user, before, 0)
		if err != nil || len(items) == 0 {
			return err
		}
		slices.SortFunc(items, func(a, b notify.Notification) int { return a.Event.At.Compare(b.Event.At) })
		m := fn(items)
		if m == nil {
			return nil
		}
		if len(keys) > deletesPerTxn {
			rest = true
			keys = keys[:deletesPerTxn]
			if err := set(txn, digestTakenKey(user), before.UTC()); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return set(txn, mailKey(m), m)
	})
	if err == nil && rest {
		err = s.finishDigest(user)
	}
	if err != nil {
		return fmt.Errorf("store: digest: %w", err)
	}
	return nil
}

// digestEntries reads a person's digest entries of events before the
// given time, at most limit of them unless limit is 0, in key order.
func digestEntries(txn *badger.Txn, user string, before time.Time, limit int) (keys [][]byte, items []notify.Notification, err error) {
	err = eachValue(txn, pDigest+user+"/", func(k, b []byte) (bool, error) {
		var n notify.Notification
		if err := json.Unmarshal(b, &n); err != nil {
			return false, fmt.Errorf("decode digest entry: %w", err)
		}
		if n.Event.At.Before(before) {
			keys = append(keys, k)
			items = append(items, n)
		}
		return limit == 0 || len(keys) < limit, nil
	})
	return keys, items, err
}

// deletesPerTxn bounds the keys removed in one transaction (digest
// entries, sessions, notifications): about 175 KB of the 314 KB Badger
// takes.
const deletesPerTxn = 1500

// deleteChunked deletes, in one transaction each, the keys pick finds, at
// most limit at a time, until it finds fewer than limit.
func (s *Store) deleteChunked(pick func(txn *badger.Txn, limit int) ([][]byte, error)) error {
	for {
		more := false
		err := s.update(func(txn *badger.Txn) error {
			keys, err := pick(txn, deletesPerTxn)
			if err != nil {
				return err
			}
			more = len(keys) >= deletesPerTxn
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || !more {
			return err
		}
	}
}

// finishDigest removes the entries a queued digest mail took but one
// transaction could not remove (TakeDigest), then its mark.
func (s *Store) finishDigest(user string) error {
	err := s.deleteChunked(func(txn *badger.Txn, limit int) ([][]byte, error) {
		var before time.Time
		switch err := get(txn, digestTakenKey(user), &before); {
		case errors.Is(err, directory.ErrNotFound):
			return nil, nil // nothing left to finish
		case err != nil:
			return nil, err
		}
		keys, _, err := digestEntries(txn, user, before, limit)
		if err == nil && len(keys) < limit {
			keys = append(keys, digestTakenKey(user)) // the last chunk: the mark goes too
		}
		return keys, err
	})
	if err != nil {
		return fmt.Errorf("store: digest: %w", err)
	}
	return nil
}

// partnershipEvents are what a relation's change tells the admins: a
// partnership asked for, begun or ended. before or after is nil when the
// relation is new or removed.
func partnershipEvents(before, after *federation.Relation, now time.Time) []notify.Event {
	was := func(r *federation.Relation, state string) bool { return r != nil && r.State() == state }
	actor := ""
	for _, r := range []*federation.Relation{before, after} {
		if r != nil {
			actor = r.Actor
		}
	}
	at := now.UTC()
	ev := func(kind notify.Kind, distinct string) notify.Event {
		return notify.Event{ID: fmt.Sprintf("partner/%s/%s/%s", kind, actor, distinct), Kind: kind, At: at, Partner: actor}
	}
	var out []notify.Event
	if was(after, "pending") && !was(before, "pending") && after.Kind == federation.KindAssociation {
		out = append(out, ev(notify.PartnerRequested, after.TheirFollow))
	}
	if was(after, "partner") && !was(before, "partner") {
		out = append(out, ev(notify.PartnerAccepted, fmt.Sprint(at.UnixNano())))
	}
	if was(before, "partner") && !was(after, "partner") {
		out = append(out, ev(notify.PartnerEnded, fmt.Sprint(at.UnixNano())))
	}
	return out
}

var _ notify.Store = (*Store)(nil)
