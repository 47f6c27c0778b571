package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Unmet needs: "I could not find a service for …", counted by theme and
// area. Only the counts are kept: no text, no person.

func needKey(theme, area string) []byte { return []byte(pNeed + theme + "/" + area) }

// AddNeed counts one more unmet need for theme in area.
func (s *Store) AddNeed(ctx context.Context, theme, area string) error {
	if strings.Contains(theme, "/") || strings.Contains(area, "/") || theme == "" || area == "" {
		return fmt.Errorf("store: need: bad theme or area")
	}
	key := needKey(theme, area)
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
		return txn.Set(key, binary.BigEndian.AppendUint64(nil, n+1))
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
