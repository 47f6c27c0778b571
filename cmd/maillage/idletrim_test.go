package main

import (
	"log/slog"
	"runtime"
	"testing"
)

// gcCycles is how many collections the runtime completed.
func gcCycles() uint64 {
	_, _, _, _, _, c := readTrimMetrics()
	return c
}

var sink [][]byte

// garbage allocates n MiB and drops it.
func garbage(n int) {
	for range n {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
}

// The node's memory goes back to the system once per quiet spell: not
// while it allocates, not again while it stays quiet, and again after the
// next busy spell. Not parallel: the decision reads the process's own
// allocations.
func TestIdleTrimOncePerQuietSpell(t *testing.T) {
	var cached, filed int
	tr := &idleTrim{quiet: 2 << 20, worth: 4 << 20, log: slog.New(slog.DiscardHandler),
		caches: func() { cached++ }, files: func() (int64, error) { filed++; return 0, nil }}
	tr.allocs, _, _, _, _, _ = readTrimMetrics()
	tr.since = tr.allocs
	garbage(32)
	if got := tr.tick(); got != 0 {
		t.Fatalf("trimmed %d bytes during a busy period", got)
	}
	got := tr.tick()
	if got < 16<<20 {
		t.Fatalf("quiet after dropping 32 MiB: %d bytes returned, want at least 16 MiB", got)
	}
	if got := tr.tick(); got != 0 || !tr.trimmed {
		t.Fatalf("trimmed again (%d bytes) in the same quiet spell", got)
	}
	garbage(12)
	if got := tr.tick(); got != 0 || tr.trimmed {
		t.Fatalf("busy again: trimmed %d bytes, trimmed=%v", got, tr.trimmed)
	}
	if got := tr.tick(); got < 4<<20 {
		t.Fatalf("quiet after dropping 12 MiB: %d bytes returned, want at least 4 MiB", got)
	}
	// The caches and the file pages go with the heap, once a spell.
	if cached != 2 || filed != 2 {
		t.Errorf("caches dropped %d times, file pages released %d times; want 2 each (two quiet spells)", cached, filed)
	}
}

// Too little to gain: no collection.
func TestIdleTrimLeavesLittleAlone(t *testing.T) {
	tr := &idleTrim{quiet: 2 << 20, worth: 1 << 40, log: slog.New(slog.DiscardHandler)}
	tr.allocs, _, _, _, _, _ = readTrimMetrics()
	tr.since = tr.allocs
	garbage(8)
	tr.tick()
	if got := tr.tick(); got != 0 || tr.trimmed {
		t.Fatalf("trimmed %d bytes below the worthwhile amount", got)
	}
}

// Memory the last collection found live and the node dropped since (an
// index replaced by its read-back) is not visible as reclaimable until
// the next collection: the allocations since the last trim tell the
// node to collect anyway once it is quiet.
func TestIdleTrimCollectsWhatWasLive(t *testing.T) {
	tr := &idleTrim{quiet: 2 << 20, worth: 4 << 20, log: slog.New(slog.DiscardHandler)}
	tr.allocs, _, _, _, _, _ = readTrimMetrics()
	tr.since = tr.allocs
	var kept [][]byte
	for range 24 {
		kept = append(kept, make([]byte, 1<<20))
	}
	runtime.GC() // the collection sees the 24 MiB live
	runtime.KeepAlive(kept)
	kept = nil
	if got := tr.tick(); got != 0 {
		t.Fatalf("trimmed %d bytes during a busy period", got)
	}
	if got := tr.tick(); got < 16<<20 {
		t.Fatalf("quiet after dropping 24 MiB found live: %d bytes returned, want at least 16 MiB", got)
	}
}

// The file pages go after the collection, which maps some of them back
// (the tables of the functions on each goroutine's stack), and again
// after each later collection while the node stays quiet: the runtime
// collects every two minutes even when nothing is allocated.
func TestIdleTrimReleasesFilesAfterEachCollection(t *testing.T) {
	var cached, filed int
	var lastFiled uint64 // collections completed when files were last released
	tr := &idleTrim{quiet: 2 << 20, worth: 4 << 20, log: slog.New(slog.DiscardHandler),
		caches: func() { cached++ },
		files:  func() (int64, error) { filed++; lastFiled = gcCycles(); return 0, nil }}
	tr.allocs, _, _, _, _, _ = readTrimMetrics()
	tr.since = tr.allocs
	garbage(16)
	tr.tick()
	before := gcCycles()
	if got := tr.tick(); got == 0 || filed != 1 {
		t.Fatalf("quiet after dropping 16 MiB: returned %d bytes, file pages released %d times", got, filed)
	}
	if lastFiled <= before {
		t.Errorf("file pages released at collection %d, the trim began at %d: released before the collection", lastFiled, before)
	}
	if tr.tick(); filed != 1 {
		t.Errorf("no collection since: file pages released %d times, want 1", filed)
	}
	runtime.GC()
	if got := tr.tick(); got != 0 || filed != 2 || cached != 1 {
		t.Errorf("after a collection while quiet: returned %d bytes, files released %d times (want 2), caches dropped %d times (want 1)", got, filed, cached)
	}
	if tr.tick(); filed != 2 {
		t.Errorf("no collection since the last release: file pages released %d times, want 2", filed)
	}
}
