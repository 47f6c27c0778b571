package main

import (
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// An idle node gives back the memory its last busy minutes left behind.
// The runtime returns free heap to the system slowly and only down to what
// its next collection may use; and garbage is collected when the heap
// grows or every two minutes. After a burst of requests a quiet node thus
// kept 10 to 12 MB it no longer used (.ci/measure-rss: 60 MB of anonymous
// memory after 20 list requests, 48 MB once collected and returned). A
// node that stays quiet for one period, judged by how much it allocated,
// is collected and its free heap returned, once per quiet spell.

// trimEvery is how often serve looks whether the node went quiet.
const trimEvery = 10 * time.Second

// idleTrim decides, at each tick, whether the node went quiet since the
// previous one and has memory worth returning.
type idleTrim struct {
	// quiet is what a period may allocate and still count as idle: a
	// quiet node's timers, delivery queue and metrics allocate tens of
	// KB a period, one page or search request hundreds of KB.
	quiet uint64
	// worth is the least memory worth a collection: reclaimable now
	// (free heap, and what was allocated since the last collection
	// beyond what it found live), or allocated since the last trim.
	// The second counts what the last collection still found live and
	// the node dropped since, such as an index replaced by its read-back
	// (a fresh node kept 60 MB of anonymous memory, not 38, until the
	// runtime's own two-minute collection).
	worth uint64

	// caches drops what the node keeps only to answer faster (the
	// search index's decoded summaries and memo of words), and files
	// lets go of the file pages it mapped while busy
	// (filepages_linux.go); nil in tests of the heap alone.
	caches func()
	files  func() (int64, error)

	allocs  uint64 // total allocated at the previous tick
	since   uint64 // total allocated at the last trim
	trimmed bool   // since the node was last busy
	cycles  uint64 // collections completed when file pages were last released
	log     *slog.Logger
}

var trimMetrics = []string{
	"/gc/heap/allocs:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/cycles/total:gc-cycles",
}

func readTrimMetrics() (allocs, free, objects, live, released, cycles uint64) {
	s := make([]metrics.Sample, len(trimMetrics))
	for i, n := range trimMetrics {
		s[i].Name = n
	}
	metrics.Read(s)
	v := make([]uint64, len(s))
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	return v[0], v[1], v[2], v[3], v[4], v[5]
}

// tick returns the bytes handed back to the system, 0 when it did not
// trim.
func (t *idleTrim) tick() uint64 {
	allocs, free, objects, live, released, cycles := readTrimMetrics()
	busy := allocs-t.allocs >= t.quiet
	t.allocs = allocs
	if busy {
		t.trimmed = false
		return 0
	}
	if t.trimmed {
		// A collection reads the runtime's tables of every function on
		// a goroutine's stack: 3 MB of the program's pages come back
		// with each, and the runtime collects every two minutes even
		// when nothing is allocated. A quiet node lets them go again.
		if cycles != t.cycles {
			t.releaseFiles()
		}
		return 0
	}
	reclaimable := free
	if objects > live {
		reclaimable += objects - live
	}
	if reclaimable < t.worth && allocs-t.since < t.worth {
		return 0
	}
	// The caches first: what they free is collected and returned with
	// the rest. The file pages after the collection, which would map
	// some of them back.
	if t.caches != nil {
		t.caches()
	}
	debug.FreeOSMemory()
	t.trimmed, t.since = true, allocs
	_, _, _, _, after, _ := readTrimMetrics()
	t.releaseFiles()
	if after <= released {
		return 0
	}
	t.log.Debug("node quiet: memory returned to the system", "mib", float64(after-released)/(1<<20))
	return after - released
}

// releaseFiles lets go of the file pages and notes the collections
// completed by then.
func (t *idleTrim) releaseFiles() {
	if t.files == nil {
		return
	}
	if n, err := t.files(); err != nil {
		t.log.Debug("node quiet: file pages not released", "err", err)
	} else {
		t.log.Debug("node quiet: file pages released", "mib", float64(n)/(1<<20))
	}
	_, _, _, _, _, t.cycles = readTrimMetrics()
}

// startIdleTrim looks every period whether the node went quiet; tables is
// the directory of the store's tables, caches what drops the node's
// caches. stop ends it.
func startIdleTrim(every time.Duration, tables string, caches func(), log *slog.Logger) (stop func()) {
	t := &idleTrim{quiet: 2 << 20, worth: 4 << 20, log: log, caches: caches,
		files: func() (int64, error) { return releaseFilePages(tables) }}
	t.allocs, _, _, _, _, _ = readTrimMetrics()
	t.since = t.allocs
	tk := time.NewTicker(every)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				t.tick()
			}
		}
	}()
	return func() { tk.Stop(); close(done) }
}
