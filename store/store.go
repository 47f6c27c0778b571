package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/directory"
)

// Errors callers test with errors.Is. Each is wrapped with the path or
// version it concerns.
var (
	ErrWrongKey    = errors.New("store: wrong encryption key")
	ErrLocked      = errors.New("store: data directory in use by another process (a node may already be running)")
	ErrNewerSchema = errors.New("store: created by a newer version of Maillage")
	ErrNotAStore   = errors.New("store: not a Maillage store")
	ErrNotEmpty    = errors.New("store: directory is not empty")
	ErrReadOnly    = errors.New("store: the data directory is on a read-only file system")
	ErrDiskFull    = fmt.Errorf("store: too little space left on the data directory's disk: %w", directory.ErrStorageFull)
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Logger receives Badger's warnings and errors and the store's own
	// notices (migrations). Default: discard.
	Logger *slog.Logger
	// Now is the clock sessions are checked against. Default: time.Now.
	Now func() time.Time
	// MinFree is the free disk space under which writes are refused with
	// ErrDiskFull (default 128 MiB; negative: never). Badger writes
	// through memory-mapped files: a write that finds the disk full kills
	// the process (SIGBUS) instead of failing, so the store stops writing
	// while there is still room for what Badger has begun (a memtable of
	// 16 MiB, a value-log file of 32 MiB, the table a flush writes).
	MinFree int64

	// migrations replaces the schema migrations, for tests.
	migrations []migration
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.migrations == nil {
		o.migrations = migrations
	}
	if o.MinFree == 0 {
		o.MinFree = 128 << 20
	}
	return o
}

// Store is the node's persistence on an encrypted Badger database. It is
// safe for concurrent use.
type Store struct {
	db  *badger.DB
	key []byte // kept to encrypt backups
	log *slog.Logger
	now func() time.Time

	path    string
	minFree int64
	// space caches the last free-space check: when (unix ns) and whether
	// it was short.
	spaceAt    atomic.Int64
	spaceShort atomic.Bool

	applies groupCommit // partner-service writes from the inbox
	// activityLocks serialise the deliveries' count of a queued activity
	// (DeleteDelivery).
	activityLocks [64]sync.Mutex
	auditSeq      atomic.Uint64 // orders audit entries; starts from the clock
	writes        atomic.Uint64 // committed write transactions (Writes)
	lineage       []byte        // random, made at creation and at every restore
}

// Open opens the store at path with key, creating it if path does not
// exist or is empty, and brings its schema up to date. It refuses a
// directory that holds anything else than a Maillage store.
func Open(path string, key []byte, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := checkMigrations(opts.migrations); err != nil {
		return nil, err
	}
	if err := checkDir(path); err != nil {
		return nil, err
	}
	db, err := openBadger(path, key, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, key: key, log: opts.Logger, now: opts.Now, path: path, minFree: opts.MinFree}
	s.auditSeq.Store(uint64(time.Now().UnixNano()))
	if err := s.migrate(path, opts.migrations); err != nil {
		db.Close()
		return nil, err
	}
	if s.lineage, err = lineage(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	s.collectValueLog()
	return s, nil
}

// checkSpace returns ErrDiskFull while the data directory's disk has less
// than minFree bytes free, checked at most once a second.
func (s *Store) checkSpace() error {
	if s.minFree < 0 {
		return nil
	}
	now := time.Now().UnixNano()
	if now-s.spaceAt.Load() >= int64(time.Second) {
		if free, err := freeSpace(s.path); err == nil {
			short := free < s.minFree
			if short && !s.spaceShort.Load() {
				s.log.Error("store: the disk is nearly full: writes are refused until space is freed", "free_bytes", free)
			}
			s.spaceShort.Store(short)
		}
		s.spaceAt.Store(now)
	}
	if s.spaceShort.Load() {
		return ErrDiskFull
	}
	return nil
}

// removeTornValueLogs deletes the value-log files of zero bytes in dir. A
// process killed between creating a value-log file and writing its header
// leaves one (found by killing imports and backups at random), and Badger
// then refuses to open the store ("Open existing file …: Create a new
// file"). Such a file holds nothing: every value log Badger has written
// to starts with a 20-byte header.
func removeTornValueLogs(dir string, log *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".vlog") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if info.Size() == 0 {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
			log.Warn("store: removed an empty value-log file left by a crash", "file", e.Name())
		}
	}
	return nil
}

// checkKey refuses anything but an AES-256 key: given no key at all,
// Badger would quietly create an unencrypted store.
func checkKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("store: encryption key has %d bytes, want %d", len(key), KeySize)
	}
	return nil
}

func openBadger(path string, key []byte, log *slog.Logger) (*badger.DB, error) {
	db, err := badger.Open(badgerOptions(path, key, log))
	if err != nil && strings.Contains(err.Error(), "Create a new file") {
		// Only once Badger has refused the store: a running node
		// holding it may be creating a value-log file right now.
		if rerr := removeTornValueLogs(path, log); rerr != nil {
			return nil, fmt.Errorf("store: %w", rerr)
		}
		db, err = badger.Open(badgerOptions(path, key, log))
	}
	if err != nil {
		return nil, openError(path, err)
	}
	return db, nil
}

// openError turns Badger's open failures into errors a node admin can act
// on. Badger wraps some of them as text only, hence the string tests.
func openError(path string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, badger.ErrEncryptionKeyMismatch), strings.Contains(msg, "Encryption key mismatch"):
		return fmt.Errorf("%w for %s", ErrWrongKey, path)
	case strings.Contains(msg, "Cannot acquire directory lock"):
		return fmt.Errorf("%w: %s", ErrLocked, path)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("store: no permission to open %s: %w", path, err)
	case errors.Is(err, syscall.EROFS), strings.Contains(msg, "read-only file system"):
		return fmt.Errorf("%w: %s (a node writes to its store even to read it)", ErrReadOnly, path)
	case errors.Is(err, syscall.ENOSPC), strings.Contains(msg, "no space left on device"):
		return fmt.Errorf("%w: %s", ErrDiskFull, path)
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

// checkDir refuses to create a store in a directory that already holds
// other files: a wrong --data flag must not scatter Badger files among
// someone's documents.
func checkDir(path string) error {
	entries, err := os.ReadDir(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read %s: %w", path, err)
	}
	if _, err := os.Stat(filepath.Join(path, badger.ManifestFilename)); err != nil {
		return fmt.Errorf("%w: %s is not empty and holds no Badger database; refusing to create a store there", ErrNotAStore, path)
	}
	return nil
}

// collectValueLog reclaims value-log files that are mostly garbage. Only
// values over valueThreshold live there, which are rare, so a pass at each
// Open is enough and the store needs no background goroutine.
func (s *Store) collectValueLog() {
	for range 16 {
		err := s.db.RunValueLogGC(0.5)
		if errors.Is(err, badger.ErrNoRewrite) {
			return
		}
		if err != nil {
			s.log.Warn("store: value log garbage collection", "err", err)
			return
		}
	}
}

// Close closes the store, flushing what is in memory. Writes were already
// durable; Close only makes the next Open faster.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the store answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if s.db.IsClosed() {
		return errors.New("store: closed")
	}
	_, err := s.SchemaVersion()
	return err
}
