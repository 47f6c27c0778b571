package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
)

var _ federation.Store = (*Store)(nil)

// Relation returns what this node and actor are to each other.
func (s *Store) Relation(ctx context.Context, actor string) (*federation.Relation, error) {
	return readAs[federation.Relation](s, "relation", relationKey(actor))
}

// RelationByID returns the relation with the given id.
func (s *Store) RelationByID(ctx context.Context, id string) (*federation.Relation, error) {
	return readIndexed[federation.Relation](s, "relation "+id, relationIDKey(id), relationKey)
}

// PutRelation stores a relation and its id index.
func (s *Store) PutRelation(ctx context.Context, r *federation.Relation) error {
	err := s.update(func(txn *badger.Txn) error {
		var old federation.Relation
		had := false
		if err := get(txn, relationKey(r.Actor), &old); err == nil {
			had = true
			if old.ID != r.ID {
				if err := txn.Delete(relationIDKey(old.ID)); err != nil {
					return err
				}
			}
		} else if !errors.Is(err, directory.ErrNotFound) {
			return err
		}
		if err := txn.Set(relationIDKey(r.ID), []byte(r.Actor)); err != nil {
			return err
		}
		if err := set(txn, relationKey(r.Actor), r); err != nil {
			return err
		}
		var before *federation.Relation
		if had {
			before = &old
		}
		return addEvents(txn, partnershipEvents(before, r, s.now())...)
	})
	if err != nil {
		return fmt.Errorf("store: put relation: %w", err)
	}
	return nil
}

// DeleteRelation removes the relation with actor.
func (s *Store) DeleteRelation(ctx context.Context, actor string) error {
	err := s.update(func(txn *badger.Txn) error {
		var r federation.Relation
		if err := get(txn, relationKey(actor), &r); err != nil {
			return err
		}
		if err := txn.Delete(relationIDKey(r.ID)); err != nil {
			return err
		}
		if err := txn.Delete(relationKey(actor)); err != nil {
			return err
		}
		return addEvents(txn, partnershipEvents(&r, nil, s.now())...)
	})
	if err != nil {
		return fmt.Errorf("store: delete relation: %w", err)
	}
	return nil
}

// Relations lists every relation.
func (s *Store) Relations(ctx context.Context) ([]*federation.Relation, error) {
	var out []*federation.Relation
	err := scan(ctx, s, pRelation, func(r *federation.Relation) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// PartnerService returns a replicated service by its ActivityPub id.
func (s *Store) PartnerService(ctx context.Context, uri string) (*directory.PartnerService, error) {
	return readAs[directory.PartnerService](s, "partner service", partnerServiceKey(uri))
}

// PutPartnerService stores a replicated service copied from its partner's
// outbox (backfill), unless the store holds a newer version or the
// partner deleted it since: a copy that runs late (tried again, or
// resumed at start) never undoes an Update or a Delete applied since it
// was read. stored reports whether it was stored.
func (s *Store) PutPartnerService(ctx context.Context, v *directory.PartnerService) (stored bool, err error) {
	err = s.update(func(txn *badger.Txn) error {
		stored = false
		var old directory.PartnerService
		switch err := get(txn, partnerServiceKey(v.URI), &old); {
		case err == nil && old.Service != nil && v.Service != nil && old.Service.Updated.After(v.Service.Updated):
			return nil // an Update applied since the copy was read
		case err != nil && !errors.Is(err, directory.ErrNotFound):
			return err
		}
		if gone, err := deletedSince(txn, v); gone || err != nil {
			return err // deleted at its source since the copy was read
		}
		stored = true
		return set(txn, partnerServiceKey(v.URI), v)
	})
	if err != nil {
		return false, fmt.Errorf("store: put partner service: %w", err)
	}
	return stored, nil
}

// ApplyPartnerService stores a service brought by an activity, checking
// and recording the activity as seen and refusing an older version, all
// in one transaction shared with concurrent deliveries: one sync per
// batch on the inbox's hot path.
func (s *Store) ApplyPartnerService(ctx context.Context, v *directory.PartnerService, activityID string, ttl time.Duration) (bool, error) {
	sum := sha256.Sum256([]byte(activityID))
	seen := seenKey(hex.EncodeToString(sum[:]))
	applied := false
	err := s.applies.do(s, func(txn *badger.Txn) error {
		applied = false
		if ok, err := exists(txn, seen); err != nil || ok {
			return err
		}
		var old directory.PartnerService
		switch err := get(txn, partnerServiceKey(v.URI), &old); {
		case err == nil && old.Service != nil && old.Service.Updated.After(v.Service.Updated):
			// An older version arriving late: recorded as seen only.
			return txn.SetEntry(badger.NewEntry(seen, nil).WithTTL(ttl))
		case err != nil && !errors.Is(err, directory.ErrNotFound):
			return err
		}
		if gone, err := deletedSince(txn, v); err != nil {
			return err
		} else if gone {
			// A version older than the service's deletion: seen only.
			return txn.SetEntry(badger.NewEntry(seen, nil).WithTTL(ttl))
		}
		if err := txn.SetEntry(badger.NewEntry(seen, nil).WithTTL(ttl)); err != nil {
			return err
		}
		applied = true
		return set(txn, partnerServiceKey(v.URI), v)
	})
	if err != nil {
		return false, fmt.Errorf("store: apply partner service: %w", err)
	}
	return applied, nil
}

// DeletePartnerService removes a replicated service, as when its partner
// is gone or the partnership ended: a copy stored again later, by the
// backfill of a new partnership, is kept.
func (s *Store) DeletePartnerService(ctx context.Context, uri string) error {
	return s.remove("partner service", partnerServiceKey(uri))
}

// partnerGone is what is remembered of a partner's service deleted at its
// source: whose it was, and the time of its deletion (on the partner's
// clock, or ours when it gave none), never earlier than the last version
// held.
type partnerGone struct {
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
}

// WithdrawPartnerService removes a service its partner (actor) deleted,
// and remembers the deletion for ttl: a version of the service not later
// than at, delivered late (a retried Update) or read before the deletion
// (a backfill page), is then not stored again (PutPartnerService,
// ApplyPartnerService). It is remembered even when the service is not
// held, since a copy of it may be on its way. removed reports whether a
// copy was held; a copy held of another actor's service is left, with
// federation.ErrNotTheirs.
func (s *Store) WithdrawPartnerService(ctx context.Context, uri, actor string, at time.Time, ttl time.Duration) (removed bool, err error) {
	err = s.update(func(txn *badger.Txn) error {
		removed = false
		gone := partnerGone{Actor: actor, At: at.UTC()}
		var old directory.PartnerService
		switch err := get(txn, partnerServiceKey(uri), &old); {
		case errors.Is(err, directory.ErrNotFound):
		case err != nil:
			return err
		case old.Actor != actor:
			return federation.ErrNotTheirs
		default:
			if old.Service != nil && old.Service.Updated.After(gone.At) {
				gone.At = old.Service.Updated.UTC()
			}
			if err := txn.Delete(partnerServiceKey(uri)); err != nil {
				return err
			}
			removed = true
		}
		b, err := json.Marshal(gone)
		if err != nil {
			return err
		}
		return txn.SetEntry(badger.NewEntry(partnerGoneKey(uri), b).WithTTL(ttl))
	})
	if err != nil {
		return false, fmt.Errorf("store: withdraw partner service: %w", err)
	}
	return removed, nil
}

// deletedSince reports whether v is a version of a service its partner
// deleted after it. A later version (the service created again) clears
// what was remembered of the deletion.
func deletedSince(txn *badger.Txn, v *directory.PartnerService) (bool, error) {
	var gone partnerGone
	switch err := get(txn, partnerGoneKey(v.URI), &gone); {
	case errors.Is(err, directory.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case gone.Actor != v.Actor:
		return false, nil // another actor's word about a service not theirs
	case v.Service == nil || !v.Service.Updated.After(gone.At):
		return true, nil
	}
	return false, txn.Delete(partnerGoneKey(v.URI))
}

// ForEachPartnerService calls fn for every replicated service.
func (s *Store) ForEachPartnerService(ctx context.Context, fn func(*directory.PartnerService) error) error {
	return scan(ctx, s, pPartnerService, fn)
}

// PartnerServicesSince calls fn for every replicated service, as
// ForEachSince does.
func (s *Store) PartnerServicesSince(ctx context.Context, since uint64, fn func(uri string, ps *directory.PartnerService) error) error {
	return forEachSince(ctx, s, pPartnerService, since, fn)
}

// MarkSeen records an activity id for ttl and reports whether it is new.
// Check and write happen in one transaction, so two deliveries of the same
// activity racing each other apply it once.
func (s *Store) MarkSeen(ctx context.Context, activityID string, ttl time.Duration) (bool, error) {
	sum := sha256.Sum256([]byte(activityID))
	key := seenKey(hex.EncodeToString(sum[:]))
	fresh := false
	err := s.update(func(txn *badger.Txn) error {
		ok, err := exists(txn, key)
		if err != nil || ok {
			return err
		}
		fresh = true
		return txn.SetEntry(badger.NewEntry(key, nil).WithTTL(ttl))
	})
	if err != nil {
		return false, fmt.Errorf("store: mark seen: %w", err)
	}
	return fresh, nil
}

// Seen reports whether an activity id was recorded by MarkSeen.
func (s *Store) Seen(ctx context.Context, activityID string) (bool, error) {
	sum := sha256.Sum256([]byte(activityID))
	var ok bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		ok, err = exists(txn, seenKey(hex.EncodeToString(sum[:])))
		return err
	})
	return ok, err
}

// QueueActivity stores an activity once, with a count of its pending
// deliveries, and the deliveries, in one transaction: a fan-out is queued
// whole or not at all. A larger fan-out (followers on a thousand
// servers, or inboxes with long addresses) is more than Badger takes at
// once: it is written in several transactions (deliveriesPerTxn), each
// counting its own deliveries, while the activity's deliveries are kept from finishing
// (lockActivity) so that the first ones sent cannot take the activity
// along before the last are written. A crash in between leaves the
// deliveries written, counted and sent; the rest is the caller's to queue
// again (a service's change is announced again at start, under the same
// activity id, which partners apply once).
func (s *Store) QueueActivity(ctx context.Context, activityID string, activity []byte, ds []*federation.Delivery) error {
	defer s.lockActivity(activityID)()
	for first := true; first || len(ds) > 0; first = false {
		// A chunk: deliveriesPerTxn at most, and no more bytes than
		// deliveryBytesPerTxn (an inbox's address may be 2 KB long).
		n, size := 0, 0
		for n < len(ds) && n < deliveriesPerTxn && size < deliveryBytesPerTxn {
			size += len(ds[n].Inbox) + 2*len(ds[n].ID) + len(ds[n].ActivityID) + 160 // key and JSON
			n++
		}
		chunk := ds[:n]
		ds = ds[n:]
		err := s.update(func(txn *badger.Txn) error {
			var refs [8]byte
			if first {
				if err := txn.Set(queuedKey(activityID), activity); err != nil {
					return err
				}
			} else {
				item, err := txn.Get(queuedRefsKey(activityID))
				if err != nil {
					return err
				}
				if err := item.Value(func(b []byte) error {
					if len(b) != 8 {
						return fmt.Errorf("damaged delivery count")
					}
					copy(refs[:], b)
					return nil
				}); err != nil {
					return err
				}
			}
			binary.BigEndian.PutUint64(refs[:], binary.BigEndian.Uint64(refs[:])+uint64(len(chunk)))
			if err := txn.Set(queuedRefsKey(activityID), refs[:]); err != nil {
				return err
			}
			for _, d := range chunk {
				if err := set(txn, deliveryKey(d), d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: queue activity: %w", err)
		}
	}
	return nil
}

// deliveriesPerTxn and deliveryBytesPerTxn bound the deliveries
// QueueActivity writes in one transaction: about 125 KB beside an
// activity of up to 64 KB, well within what Badger takes with 2 MB
// memtables (314 KB).
const (
	deliveriesPerTxn    = 400
	deliveryBytesPerTxn = 128 << 10
)

// QueuedActivity returns a queued activity.
func (s *Store) QueuedActivity(ctx context.Context, activityID string) ([]byte, error) {
	return s.readRaw("queued activity", queuedKey(activityID))
}

// RescheduleDelivery replaces a delivery by its next attempt.
func (s *Store) RescheduleDelivery(ctx context.Context, old, next *federation.Delivery) error {
	err := s.update(func(txn *badger.Txn) error {
		if ok, err := exists(txn, deliveryKey(old)); err != nil || !ok {
			return err // delivered or given up meanwhile: nothing to do
		}
		if err := txn.Delete(deliveryKey(old)); err != nil {
			return err
		}
		return set(txn, deliveryKey(next), next)
	})
	if err != nil {
		return fmt.Errorf("store: reschedule delivery: %w", err)
	}
	return nil
}

// DeleteDelivery removes a delivery; the last one takes its activity along.
// The deletions of one activity's deliveries are serialised: each counts
// down the activity's deliveries left, and a fan-out finishing dozens at
// once made them conflict past every retry, leaving delivered deliveries
// queued to be sent again (found by the network simulation, bench/sim).
func (s *Store) DeleteDelivery(ctx context.Context, d *federation.Delivery) error {
	defer s.lockActivity(d.ActivityID)()
	err := s.update(func(txn *badger.Txn) error {
		if ok, err := exists(txn, deliveryKey(d)); err != nil || !ok {
			return err
		}
		if err := txn.Delete(deliveryKey(d)); err != nil {
			return err
		}
		item, err := txn.Get(queuedRefsKey(d.ActivityID))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		b, err := item.ValueCopy(nil)
		if err != nil || len(b) != 8 {
			return fmt.Errorf("damaged delivery count: %v", err)
		}
		left := binary.BigEndian.Uint64(b) - 1
		if left == 0 {
			if err := txn.Delete(queuedRefsKey(d.ActivityID)); err != nil {
				return err
			}
			return txn.Delete(queuedKey(d.ActivityID))
		}
		binary.BigEndian.PutUint64(b, left)
		return txn.Set(queuedRefsKey(d.ActivityID), b)
	})
	if err != nil {
		return fmt.Errorf("store: delete delivery: %w", err)
	}
	return nil
}

// DueDeliveries returns up to limit deliveries due at now, oldest first.
// Keys are ordered by next attempt, so the scan stops at the first one not
// due: a long queue of deliveries waiting for a dead host costs nothing.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*federation.Delivery, error) {
	var out []*federation.Delivery
	bound := dueBound(now)
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(pDelivery)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < limit; it.Next() {
			if bytes.Compare(it.Item().Key(), bound) >= 0 {
				return nil
			}
			d := new(federation.Delivery)
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, d) }); err != nil {
				return fmt.Errorf("decode delivery: %w", err)
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: due deliveries: %w", err)
	}
	return out, nil
}

// CountDeliveries returns how many deliveries wait.
func (s *Store) CountDeliveries(ctx context.Context) (int, error) {
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(pDelivery)
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: count deliveries: %w", err)
	}
	return n, nil
}

// Blocked reports whether host is on the blocklist.
func (s *Store) Blocked(ctx context.Context, host string) (bool, error) {
	var ok bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		ok, err = exists(txn, blockKey(host))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: blocklist: %w", err)
	}
	return ok, nil
}

// SetBlocked adds host to or removes it from the blocklist.
func (s *Store) SetBlocked(ctx context.Context, host string, blocked bool) error {
	err := s.update(func(txn *badger.Txn) error {
		if blocked {
			return txn.Set(blockKey(host), nil)
		}
		return txn.Delete(blockKey(host))
	})
	if err != nil {
		return fmt.Errorf("store: blocklist: %w", err)
	}
	return nil
}

// BlockedHosts lists the blocklist.
func (s *Store) BlockedHosts(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(pBlock)
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, string(it.Item().Key()[len(pBlock):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: blocklist: %w", err)
	}
	return out, nil
}

// lockActivity serialises the writes of one queued activity's delivery
// count.
func (s *Store) lockActivity(id string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(id))
	m := &s.activityLocks[h.Sum32()%uint32(len(s.activityLocks))]
	m.Lock()
	return m.Unlock
}
