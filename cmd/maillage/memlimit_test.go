package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestParseMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{"64MiB": 64 << 20, "100MB": 100e6, "1GiB": 1 << 30, "0": 0, " 32 MiB ": 32 << 20, "20000000": 20e6} {
		got, err := parseMemoryLimit(in)
		if err != nil || got != want {
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1MiB", "lots", "1MiB", "64TB", "9999999999GiB"} {
		if got, err := parseMemoryLimit(in); err == nil {
			t.Errorf("parseMemoryLimit(%q) = %d, want an error", in, got)
		}
	}
}

// current reads the runtime's memory limit without changing it.
func current() int64 { return debug.SetMemoryLimit(-1) }

func TestMemoryLimitSetAndRestored(t *testing.T) {
	before := current()
	stop := startMemoryLimit(512<<20, nil, slog.New(slog.DiscardHandler))
	if got := current(); got != 512<<20 {
		t.Errorf("limit while serving = %d, want %d", got, 512<<20)
	}
	stop()
	if got := current(); got != before {
		t.Errorf("limit after stop = %d, want the previous %d", got, before)
	}
}

func TestMemoryLimitLeftToGOMEMLIMIT(t *testing.T) {
	before := current()
	stop := startMemoryLimit(64<<20, []string{"GOMEMLIMIT=1GiB"}, slog.New(slog.DiscardHandler))
	defer stop()
	if got := current(); got != before {
		t.Errorf("limit = %d with GOMEMLIMIT set, want it untouched (%d)", got, before)
	}
}

// A node that holds more than its limit allows gets a higher limit after
// a collection, instead of a collector running back to back.
func TestMemoryLimitRaisedWhenLiveNearsIt(t *testing.T) {
	const limit = 16 << 20
	stop := startMemoryLimit(limit, nil, slog.New(slog.DiscardHandler))
	defer stop()
	live := make([][]byte, 0, 64)
	for range 40 { // 40 MiB live, well above 70% of 16 MiB
		live = append(live, make([]byte, 1<<20))
	}
	// Collections during the allocations may have raised it part way;
	// the ones after see all 40 MiB.
	for i := 0; i < 50 && current() < 40<<20; i++ {
		runtime.GC() // a collection finds the sentinel; its finalizer runs soon after
		runtime.Gosched()
	}
	if got := current(); got < 40<<20 {
		t.Errorf("limit = %d MiB with 40 MiB live, want it raised above what is live", got>>20)
	}
	runtime.KeepAlive(live)
}

// Once what is live shrinks again, the limit comes back to the configured
// one.
func TestMemoryLimitComesBackDown(t *testing.T) {
	const limit = 16 << 20
	stop := startMemoryLimit(limit, nil, slog.New(slog.DiscardHandler))
	defer stop()
	live := make([][]byte, 0, 64)
	for range 40 {
		live = append(live, make([]byte, 1<<20))
	}
	for i := 0; i < 50 && current() < 40<<20; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if got := current(); got < 40<<20 {
		t.Fatalf("limit = %d MiB with 40 MiB live, want it raised first", got>>20)
	}
	runtime.KeepAlive(live)
	live = nil
	// Back to the configured limit, or just above it when the rest of
	// the test binary holds more than a few MiB.
	for i := 0; i < 50 && current() >= 32<<20; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if got := current(); got >= 32<<20 {
		t.Errorf("limit = %d MiB once the 40 MiB are garbage, want it back near the configured %d MiB", got>>20, limit>>20)
	}
}
