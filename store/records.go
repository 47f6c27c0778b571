package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
)

// Helpers shared by the per-entity files (directory.go, account.go,
// secret.go, federation.go). Records are JSON of the domain structs; an
// absent key is directory.ErrNotFound, a taken one directory.ErrConflict,
// so that web maps both to HTTP answers in one place.

// maxAttempts bounds the retries of a write transaction that lost a race.
const maxAttempts = 10

// update runs fn in a read-write transaction. When Badger reports that a
// concurrent transaction changed a key fn read (badger.ErrConflict), fn
// runs again on fresh data: two creates of one id then end as one success
// and one directory.ErrConflict instead of a retry-me error. fn must
// therefore have no effect outside txn.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	if err := s.checkSpace(); err != nil {
		return err
	}
	var err error
	for range maxAttempts {
		err = s.db.Update(fn)
		if err == nil {
			s.writes.Add(1)
		}
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}

// Writes counts the write transactions committed since the store opened:
// what was read before it moved may have changed since (the page cache
// of web).
func (s *Store) Writes() uint64 { return s.writes.Load() }

func get(txn *badger.Txn, key []byte, v any) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return directory.ErrNotFound
	}
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

func set(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

func exists(txn *badger.Txn, key []byte) (bool, error) {
	_, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// mustBeAbsent fails with ErrConflict if key is taken. The read also
// registers key with Badger's conflict detection.
func mustBeAbsent(txn *badger.Txn, key []byte) error {
	ok, err := exists(txn, key)
	if err != nil {
		return err
	}
	if ok {
		return directory.ErrConflict
	}
	return nil
}

// mustExist fails with ErrNotFound if key is absent.
func mustExist(txn *badger.Txn, key []byte) error {
	ok, err := exists(txn, key)
	if err != nil {
		return err
	}
	if !ok {
		return directory.ErrNotFound
	}
	return nil
}

// getIndexed reads the record that an index entry points to: indexKey
// holds the record's id, recordKey builds the record's key from it.
func getIndexed(txn *badger.Txn, indexKey []byte, recordKey func(string) []byte, v any) error {
	item, err := txn.Get(indexKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return directory.ErrNotFound
	}
	if err != nil {
		return err
	}
	id, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	return get(txn, recordKey(string(id)), v)
}

// readRaw returns a copy of the bytes stored at key.
func (s *Store) readRaw(what string, key []byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return directory.ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// read loads the record at key into v.
func (s *Store) read(what string, key []byte, v any) error {
	err := s.db.View(func(txn *badger.Txn) error { return get(txn, key, v) })
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// readAs returns the record of type T at key.
func readAs[T any](s *Store, what string, key []byte) (*T, error) {
	var v T
	if err := s.read(what, key, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// readIndexed returns the record of type T that the index entry at
// indexKey points to (see getIndexed).
func readIndexed[T any](s *Store, what string, indexKey []byte, recordKey func(string) []byte) (*T, error) {
	var v T
	err := s.db.View(func(txn *badger.Txn) error { return getIndexed(txn, indexKey, recordKey, &v) })
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return &v, nil
}

// create stores v at key, failing with ErrConflict if key is taken.
func (s *Store) create(what, id string, key []byte, v any) error {
	if id == "" {
		return fmt.Errorf("store: create %s: empty id", what)
	}
	err := s.update(func(txn *badger.Txn) error {
		if err := mustBeAbsent(txn, key); err != nil {
			return err
		}
		return set(txn, key, v)
	})
	if err != nil {
		return fmt.Errorf("store: create %s %s: %w", what, id, err)
	}
	return nil
}

// replace stores v at key, failing with ErrNotFound if key is absent.
func (s *Store) replace(what string, key []byte, v any) error {
	err := s.update(func(txn *badger.Txn) error {
		if err := mustExist(txn, key); err != nil {
			return err
		}
		return set(txn, key, v)
	})
	if err != nil {
		return fmt.Errorf("store: update %s: %w", what, err)
	}
	return nil
}

// remove deletes key, failing with ErrNotFound if it is absent.
func (s *Store) remove(what string, key []byte) error {
	err := s.update(func(txn *badger.Txn) error {
		if err := mustExist(txn, key); err != nil {
			return err
		}
		return txn.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("store: delete %s: %w", what, err)
	}
	return nil
}

// scan decodes every record under prefix, in key order and from one
// snapshot, and passes it to fn, stopping at fn's first error, which it
// returns unwrapped so that callers can recognise their own.
func scan[T any](ctx context.Context, s *Store, prefix string, fn func(*T) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefix)
		opts.PrefetchSize = 16
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := new(T)
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, v) }); err != nil {
				return fmt.Errorf("store: decode %s: %w", it.Item().Key(), err)
			}
			if err := fn(v); err != nil {
				return err
			}
		}
		return nil
	})
}

// forEachSince calls fn for every record under prefix, in key order, with
// the key after the prefix: with the record if it was written after
// version since (see Version), and with nil otherwise, without reading
// its value. A cache of these records stamped with since is brought up to
// date with it: what fn is given replaces what the cache holds, and what
// the cache holds beyond the keys fn sees was deleted.
func forEachSince[T any](ctx context.Context, s *Store, prefix string, since uint64, fn func(key string, v *T) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefix)
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			var v *T
			if item.Version() > since {
				v = new(T)
				if err := item.Value(func(b []byte) error { return json.Unmarshal(b, v) }); err != nil {
					return fmt.Errorf("store: decode %s: %w", item.Key(), err)
				}
			}
			if err := fn(string(item.Key()[len(prefix):]), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// writtenSince reports whether a record under prefix, or at key when
// prefix is "", was written after version since. Deletions are not seen.
func (s *Store) writtenSince(prefix string, key []byte, since uint64) (bool, error) {
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		if prefix == "" {
			item, err := txn.Get(key)
			if errors.Is(err, badger.ErrKeyNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			found = item.Version() > since
			return nil
		}
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefix)
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid() && !found; it.Next() {
			found = it.Item().Version() > since
		}
		return nil
	})
	return found, err
}
