package store

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// valueThreshold is the size above which Badger keeps a value in its value
// log instead of the LSM tree.
const valueThreshold = 64 << 10

// badgerOptions are every Badger setting the store uses, tuned for a small
// machine (a 1 GB VPS or a Raspberry Pi) rather than Badger's server
// defaults, whose RSS reaches hundreds of MB (see DEPENDENCIES.md, § Badger
// memory: these settings hold 300k records in about 108 MB instead of 430).
func badgerOptions(path string, key []byte, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(path).
		// Encryption at rest (AES-256, the key file's 32 bytes) of tables,
		// value log and write-ahead logs alike.
		WithEncryptionKey(key).
		// Badger refuses encryption without an index cache: block indexes
		// are decrypted into it. 4 MB holds the indexes of a node's data.
		WithIndexCacheSize(4 << 20).
		// Every acknowledged write is fsynced before the call returns: what
		// a user saved or a partner sent must survive a power cut.
		// Concurrent commits share one fsync, so the cost stays low.
		WithSyncWrites(true).
		// Two 2 MB memtables instead of five of 64 MB: the write rate of a
		// node is low, and memtables are the largest fixed cost (each
		// holds an arena of about 2.6 MB; 4 MB memtables held 5.3 MB, 8 MB
		// ones 10.4 MB and the node idled 7 MB higher, .ci/measure-rss).
		// A transaction then takes up to 314 KB or 3,274 entries: values
		// over valueThreshold count as a pointer; every write that can
		// grow with its input goes in chunks well under that (a fan-out's
		// deliveries, an event's people, digests, deletions, document
		// copies, each tested with real sizes past one transaction), and
		// the inbox's group commit splits a batch that would not fit
		// (group.go).
		WithMemTableSize(2 << 20).
		WithNumMemtables(2).
		// A 1 MB block cache instead of 256 MB (8 MB until measured: 6 MB
		// less resident, .ci/measure-rss; then 2 MB): a node's hot set
		// (its own services, sessions, the delivery queue) is small; the
		// search index keeps its own copy of what it needs.
		WithBlockCacheSize(1 << 20).
		// Snappy is cheap on a small CPU and shrinks JSON well. A block
		// cache of 0 with compression would panic; ours is not 0.
		WithCompression(options.Snappy).
		// Records are JSON of a few KB: keeping everything under 64 KB in
		// the LSM tree lets compaction reclaim updated and deleted records
		// by itself. Only rare larger values reach the value log, which
		// Open garbage-collects (collectValueLog).
		WithValueThreshold(valueThreshold).
		// 16 MB value-log files instead of 1 GB, so that garbage collection
		// rewrites little at a time and disk use stays proportionate.
		WithValueLogFileSize(16 << 20).
		// Two compactors instead of four: enough for a node's write rate,
		// and each holds tables in memory while it works.
		WithNumCompactors(2).
		// Conflict detection stays on (the default): Create* rely on it to
		// turn two concurrent creates of one id into one ErrConflict.
		WithDetectConflicts(true).
		WithLogger(badgerLogger{log})
}

// badgerLogger passes Badger's warnings and errors to slog. Its info and
// debug messages (every compaction, every table flush) are dropped: they
// would drown the node's own log on a small machine.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (b badgerLogger) Warningf(f string, a ...any) {
	msg := "badger: " + strings.TrimSpace(fmt.Sprintf(f, a...))
	if cacheAdvice(f) {
		b.l.Debug(msg)
		return
	}
	b.l.Warn(msg)
}

// cacheAdvice reports whether a Badger warning is its minute-by-minute
// advice that a cache "might be too small", with the cache's metrics.
// The small caches are chosen (badgerOptions): a scan of every service,
// such as the daily review reminders, empties the 1 MB block cache and
// Badger then warns each minute in a dozen lines that would tell an admin
// to change what is not a setting. Debug logs keep it.
func cacheAdvice(format string) bool {
	return strings.Contains(format, "might be too small") || strings.HasPrefix(format, "Cache life expectancy")
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
