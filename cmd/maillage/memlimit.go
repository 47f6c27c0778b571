package main

import (
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
)

// defaultMemoryLimit is the soft limit of the Go runtime's memory that
// serve sets unless told otherwise. The runtime's default lets the heap
// grow to twice what is live before collecting (GOGC=100): with 10,000
// services a node idled at 140 MB after 20 list requests, and at 100 MB
// with this limit (.ci/measure-rss). A lower one costs throughput: under
// the public-pages load (bench/http/public-pages.lua) 48 MiB served
// 16,000 requests/s with a p99 of 110 ms, 64 MiB 24,700 and 46 ms, for
// 5 MB more resident.
const defaultMemoryLimit = "64MiB"

// parseMemoryLimit reads a size such as 64MiB, 100MB, 1GiB or 0 (no
// limit: the runtime's default).
func parseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("%q is not a size such as 64MiB, 512MB, 2GiB or 0", s)
	}
	if n > 0 && n*mult < 16<<20 {
		return 0, fmt.Errorf("%d bytes is below 16MiB, less than a node needs to start", n*mult)
	}
	return n * mult, nil
}

// memoryLimit is a soft limit on the Go runtime's memory (heap, stacks,
// runtime structures) that makes the collector work harder as the node
// nears it, instead of letting garbage double the heap. It is soft in two
// ways: the runtime never fails an allocation because of it, and after
// each collection the limit becomes what is live plus a quarter and
// 8 MiB when that is more (a node holding more services than the limit was set for, an
// index being rebuilt), so that the collector never runs back to back;
// it comes back down to the configured limit as what is live shrinks.
type memoryLimit struct {
	configured int64
	limit      atomic.Int64
	prev       int64
	done       atomic.Bool
	log        *slog.Logger
}

// startMemoryLimit sets the limit, unless GOMEMLIMIT (the runtime's own
// setting, which wins) is set or bytes is 0. stop restores the previous
// limit (serve run inside tests).
func startMemoryLimit(bytes int64, environ []string, log *slog.Logger) (stop func()) {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GOMEMLIMIT="); ok && v != "" {
			log.Info("memory limit set by GOMEMLIMIT", "limit", v)
			return func() {}
		}
	}
	if bytes == 0 {
		return func() {}
	}
	m := &memoryLimit{configured: bytes, log: log}
	m.limit.Store(bytes)
	m.prev = debug.SetMemoryLimit(bytes)
	m.arm()
	return func() {
		m.done.Store(true)
		debug.SetMemoryLimit(m.prev)
	}
}

// arm runs check after the next garbage collection: the finalizer of an
// unreachable object runs once the collector has found it unreachable.
func (m *memoryLimit) arm() {
	sentinel := new([16]byte)
	runtime.SetFinalizer(sentinel, func(*[16]byte) {
		if m.done.Load() {
			return
		}
		m.check()
		m.arm()
	})
}

// check sets the limit to the larger of the configured one and what is
// live plus a quarter and 8 MiB, when that moves it by more than a tenth.
func (m *memoryLimit) check() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live, limit := int64(s[0].Value.Uint64()), m.limit.Load()
	target := max(m.configured, live+live/4+8<<20)
	if d := target - limit; d*10 > limit || -d*10 > limit {
		m.limit.Store(target)
		debug.SetMemoryLimit(target)
		m.log.Debug("memory limit follows what is live", "live_mib", live>>20, "limit_mib", target>>20)
	}
}
