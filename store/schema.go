package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// migration moves the store from schema version-1 to version. It runs in
// one transaction together with the new version number, so a crash leaves
// the store at either version, never between. A migration that rewrites
// more than Badger takes in one transaction (ErrTxnTooBig, about 314 KB
// or 3,200 records with these options) must be written to be re-run safely in parts.
type migration struct {
	version int
	name    string
	apply   func(txn *badger.Txn) error
}

// migrations lists every schema change in order; append to it, never
// edit a released entry. Version 1 is the first layout, keyed as keys.go
// describes: there is nothing to transform.
var migrations = []migration{
	{version: 1, name: "initial layout", apply: func(*badger.Txn) error { return nil }},
}

// latestVersion is the schema version a store has after migrating.
func latestVersion(ms []migration) int { return ms[len(ms)-1].version }

// checkMigrations catches a badly edited table before it touches data.
func checkMigrations(ms []migration) error {
	if len(ms) == 0 {
		return errors.New("store: no schema migrations")
	}
	for i, m := range ms {
		if m.version != i+1 || m.apply == nil {
			return fmt.Errorf("store: schema migration %d (%q) is out of order or empty", i, m.name)
		}
	}
	return nil
}

// SchemaVersion returns the schema version of the open store.
func (s *Store) SchemaVersion() (int, error) {
	var v int
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = schemaVersion(txn)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// schemaVersion reads meta/schema, an 8-byte big-endian integer; 0 means
// none was written yet.
func schemaVersion(txn *badger.Txn) (int, error) {
	item, err := txn.Get(keySchema)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	b, err := item.ValueCopy(nil)
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("damaged: %d bytes, want 8", len(b))
	}
	return int(binary.BigEndian.Uint64(b)), nil
}

func putSchemaVersion(txn *badger.Txn, v int) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	return txn.Set(keySchema, b[:])
}

// migrate applies the migrations the store lacks, in order.
func (s *Store) migrate(path string, ms []migration) error {
	current, err := s.SchemaVersion()
	if err != nil {
		return err
	}
	if latest := latestVersion(ms); current > latest {
		return fmt.Errorf("%w: %s has schema version %d, this binary knows up to %d; upgrade Maillage", ErrNewerSchema, path, current, latest)
	}
	if current == 0 {
		// A new store is empty. Data without a version was written by
		// something else that happens to share the key: leave it alone.
		empty, err := s.isEmpty()
		if err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("%w: %s is a Badger database without a Maillage schema version", ErrNotAStore, path)
		}
	}
	for _, m := range ms[current:] {
		err := s.update(func(txn *badger.Txn) error {
			if err := m.apply(txn); err != nil {
				return err
			}
			return putSchemaVersion(txn, m.version)
		})
		if err != nil {
			return fmt.Errorf("store: schema migration %d (%s): %w", m.version, m.name, err)
		}
		if current > 0 {
			s.log.Info("store: schema migrated", "version", m.version, "migration", m.name)
		}
	}
	return nil
}

// isEmpty reports whether the database holds no key at all.
func (s *Store) isEmpty() (bool, error) {
	empty := true
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return empty, nil
}
