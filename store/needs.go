package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
)

// Unmet needs: "I could not find a service for …", counted by theme and
// area. The counts are kept for good and shared with partners; the
// optional note of a need stays here, for the admins, and expires.

// NeedNoteTTL is how long the note of a signalled need is kept.
const NeedNoteTTL = 180 * 24 * time.Hour

func needKey(theme, area string) []byte { return []byte(pNeed + theme + "/" + area) }

// needNoteKey orders notes by time; a random tail keeps two notes of one
// instant apart.
func needNoteKey(at time.Time) []byte {
	var tail [6]byte
	rand.Read(tail[:])
	return fmt.Appendf(nil, "%s%020d-%s", pNeedNote, at.UnixNano(), hex.EncodeToString(tail[:]))
}

func partnerNeedsKey(actor string) []byte { return []byte(pPartnerNeeds + actor) }

// AddNeed counts one more unmet need for theme in area and keeps its note,
// if any, for NeedNoteTTL.
func (s *Store) AddNeed(ctx context.Context, theme, area, note string) error {
	if strings.Contains(theme, "/") || strings.Contains(area, "/") || theme == "" || area == "" {
		return fmt.Errorf("store: need: bad theme or area")
	}
	key := needKey(theme, area)
	at := s.now().UTC()
	err := s.update(func(txn *badger.Txn) error {
		var n uint64
		item, err := txn.Get(key)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
		case err != nil:
			return err
		default:
			if err := item.Value(func(b []byte) error {
				if len(b) == 8 {
					n = binary.BigEndian.Uint64(b)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if err := txn.Set(key, binary.BigEndian.AppendUint64(nil, n+1)); err != nil {
			return err
		}
		if note == "" {
			return nil
		}
		b, err := json.Marshal(directory.NeedNote{Theme: theme, Area: area, Text: note, At: at})
		if err != nil {
			return err
		}
		return txn.SetEntry(badger.NewEntry(needNoteKey(at), b).WithTTL(NeedNoteTTL))
	})
	if err != nil {
		return fmt.Errorf("store: need: %w", err)
	}
	return nil
}

// ForEachNeed calls fn with every theme and area that has unmet needs.
func (s *Store) ForEachNeed(ctx context.Context, fn func(theme, area string, count int) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(pNeed)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			theme, area, ok := strings.Cut(string(it.Item().Key()[len(pNeed):]), "/")
			if !ok {
				continue
			}
			var n uint64
			if err := it.Item().Value(func(b []byte) error {
				if len(b) == 8 {
					n = binary.BigEndian.Uint64(b)
				}
				return nil
			}); err != nil {
				return err
			}
			if err := fn(theme, area, int(n)); err != nil {
				return err
			}
		}
		return nil
	})
}

// NeedNotes returns the notes of signalled needs, newest first, at most
// limit of them.
func (s *Store) NeedNotes(ctx context.Context, limit int) ([]directory.NeedNote, error) {
	var out []directory.NeedNote
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Reverse = true
		opts.Prefix = []byte(pNeedNote)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(append([]byte(pNeedNote), 0xff)); it.Valid() && len(out) < limit; it.Next() {
			var n directory.NeedNote
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &n) }); err != nil {
				return fmt.Errorf("store: decode need note: %w", err)
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// PutPartnerNeeds keeps the counts a partner shares, replacing what it
// shared before unless that is newer; applied reports whether it did.
func (s *Store) PutPartnerNeeds(ctx context.Context, v *directory.PartnerNeeds) (applied bool, err error) {
	applied, err = putIfNewer(s, partnerNeedsKey(v.Actor), v, func(x *directory.PartnerNeeds) time.Time { return x.Updated })
	if err != nil {
		return false, fmt.Errorf("store: partner needs: %w", err)
	}
	return applied, nil
}

// putIfNewer writes v under key unless what is stored there is as recent
// or more (a partner's report delivered late, or twice): applied says
// whether it was written.
func putIfNewer[T any](s *Store, key []byte, v *T, updated func(*T) time.Time) (applied bool, err error) {
	err = s.update(func(txn *badger.Txn) error {
		applied = false
		var cur T
		switch err := get(txn, key, &cur); {
		case errors.Is(err, directory.ErrNotFound):
		case err != nil:
			return err
		case !updated(v).After(updated(&cur)):
			return nil // stale or the same: keep what is stored
		}
		applied = true
		return set(txn, key, v)
	})
	return applied, err
}

// DeletePartnerNeeds forgets what a partner shared.
func (s *Store) DeletePartnerNeeds(ctx context.Context, actor string) error {
	err := s.remove("partner needs", partnerNeedsKey(actor))
	if errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	return err
}

// ForEachPartnerNeeds calls fn with what each partner shares.
func (s *Store) ForEachPartnerNeeds(ctx context.Context, fn func(*directory.PartnerNeeds) error) error {
	return scan(ctx, s, pPartnerNeeds, fn)
}
