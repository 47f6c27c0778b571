package store

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// OpenMemory opens a store held in memory only, on Badger's InMemory mode:
// the same records, transactions and queries as a node's store, nothing
// written to disk and nothing left after Close. It is for running many
// nodes in one process (the network simulation, bench/sim), never for a
// node: what it holds is lost when the process stops.
//
// Its Badger is smaller than a node's (1 MB memtables, no block or index
// cache, no encryption or compression, which protect and shrink data at
// rest that does not exist here), so that a thousand of them fit in one
// process.
func OpenMemory(opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := checkMigrations(opts.migrations); err != nil {
		return nil, err
	}
	bo := badger.DefaultOptions("").
		WithInMemory(true).
		WithMemTableSize(1 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithCompression(options.None).
		WithValueThreshold(valueThreshold).
		WithNumCompactors(2).
		WithDetectConflicts(true).
		WithLogger(badgerLogger{opts.Logger})
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("store: open in memory: %w", err)
	}
	s := &Store{db: db, log: opts.Logger, now: opts.Now, path: "(memory)", minFree: -1}
	s.auditSeq.Store(uint64(time.Now().UnixNano()))
	if err := s.migrate(s.path, opts.migrations); err != nil {
		db.Close()
		return nil, err
	}
	if s.lineage, err = lineage(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	return s, nil
}
