package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Errors callers test with errors.Is.
var (
	ErrWrongKey    = errors.New("store: wrong encryption key")
	ErrLocked      = errors.New("store: data directory in use by another process (is a node already running?)")
	ErrNewerSchema = errors.New("store: created by a newer version of Maillage")
	ErrNotAStore   = errors.New("store: directory is not empty and holds no Maillage store")
)

// Options configure a Store.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// migrations replaces the schema migrations (tests).
	migrations []migration
}

// Store is the node's persistence on an encrypted Badger database.
type Store struct {
	db  *badger.DB
	key []byte // kept to encrypt backups
	log *slog.Logger
	now func() time.Time
}

// badgerOptions are tuned for a small machine (a 1 GB VPS or a Raspberry
// Pi) rather than Badger's server defaults, which reach hundreds of MB.
func badgerOptions(path string, key []byte, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(path).
		// Encryption at rest with the node's key; Badger then needs an
		// index cache to hold decrypted block indexes.
		WithEncryptionKey(key).
		WithIndexCacheSize(4 << 20).
		// Every acknowledged write is on disk: what a partner or a user
		// sent must survive a crash. Concurrent commits share an fsync.
		WithSyncWrites(true).
		// Two 8 MB memtables instead of five 64 MB ones.
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		// Small caches: the working set of a node is small.
		WithBlockCacheSize(8 << 20).
		// Values above 1 KB go to the value log, keeping the LSM tree small;
		// value-log files of 16 MB keep garbage collection cheap.
		WithValueThreshold(1 << 10).
		WithValueLogFileSize(16 << 20).
		WithNumCompactors(2).
		WithCompression(options.Snappy).
		WithLogger(badgerLogger{log})
}

// Open opens (creating if needed) the store at path with key.
func Open(path string, key []byte, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slogDiscard()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.migrations == nil {
		opts.migrations = migrations
	}
	if err := checkDir(path); err != nil {
		return nil, err
	}
	db, err := openBadger(path, key, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, key: key, log: opts.Logger, now: opts.Now}
	if err := s.migrate(opts.migrations); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func openBadger(path string, key []byte, log *slog.Logger) (*badger.DB, error) {
	db, err := badger.Open(badgerOptions(path, key, log))
	if err != nil {
		return nil, openError(path, err)
	}
	return db, nil
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func openError(path string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, badger.ErrEncryptionKeyMismatch), strings.Contains(msg, "Encryption key mismatch"):
		return fmt.Errorf("%w for %s", ErrWrongKey, path)
	case strings.Contains(msg, "Cannot acquire directory lock"):
		return fmt.Errorf("%w: %s", ErrLocked, path)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("store: no permission to open %s: %w", path, err)
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

// checkDir refuses to create a store in a directory holding other files.
func checkDir(path string) error {
	entries, err := os.ReadDir(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read %s: %w", path, err)
	}
	if _, err := os.Stat(filepath.Join(path, "MANIFEST")); err != nil {
		return fmt.Errorf("%w: %s", ErrNotAStore, path)
	}
	return nil
}

// Close closes the store, flushing what is in memory.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// migration moves the store from version-1 to version.
type migration struct {
	version int
	name    string
	apply   func(txn *badger.Txn) error
}

// migrations lists every schema change in order. Version 1 is the first
// layout: nothing to transform.
var migrations = []migration{
	{version: 1, name: "initial layout", apply: func(*badger.Txn) error { return nil }},
}

// SchemaVersion returns the schema version of the open store.
func (s *Store) SchemaVersion() (int, error) {
	var v int
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = schemaVersion(txn)
		return err
	})
	return v, err
}

func schemaVersion(txn *badger.Txn) (int, error) {
	item, err := txn.Get(keySchema)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	b, err := item.ValueCopy(nil)
	if err != nil || len(b) != 8 {
		return 0, fmt.Errorf("store: damaged schema version")
	}
	return int(binary.BigEndian.Uint64(b)), nil
}

// migrate applies the migrations the store lacks, each in its own
// transaction together with the new version number.
func (s *Store) migrate(ms []migration) error {
	current, err := s.SchemaVersion()
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].version
	if current > latest {
		return fmt.Errorf("%w: schema %d, this binary knows up to %d", ErrNewerSchema, current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		err := s.db.Update(func(txn *badger.Txn) error {
			if err := m.apply(txn); err != nil {
				return err
			}
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(m.version))
			return txn.Set(keySchema, b[:])
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
		}
		if current > 0 {
			s.log.Info("store migrated", "version", m.version, "migration", m.name)
		}
	}
	return nil
}

// Ping checks that the store answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.db.IsClosed() {
		return errors.New("store: closed")
	}
	_, err := s.SchemaVersion()
	return err
}

// badgerLogger passes Badger's warnings and errors to slog; its info and
// debug chatter is dropped.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}
