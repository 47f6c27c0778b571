package search

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
)

// BenchmarkSearchScale loads n generated services (directory/sample: FR/NL/EN
// names, the real category mix, locations over Brussels and Belgium,
// schedules), then runs a fixed query mix and reports build time, index
// size, heap and latency percentiles.
// Run: go test -run '^$' -bench SearchScale -benchtime 2000x ./directory/search/
func BenchmarkSearchScale(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) { benchScale(b, n) })
	}
}

// sampleDocs returns n generated services (directory/sample, seed 42)
// of 500 providers, one in ten local.
func sampleDocs(n int) []Doc {
	g := sample.New(42)
	docs := make([]Doc, n)
	for i := range n {
		l := g.Location()
		s := g.Service(l.ID)
		docs[i] = Doc{URI: "https://n.example/services/" + s.ID, Service: s, Actor: fmt.Sprintf("https://n%d.example/actor", i%500),
			Provider: "Association", Local: i%10 == 0, Points: []directory.Point{*l.Point}}
	}
	return docs
}

func benchScale(b *testing.B, n int) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	x, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	docs := sampleDocs(n)
	start := time.Now()
	for i := 0; i < n; i += 1000 {
		if err := x.PutBatch(docs[i:min(i+1000, n)]); err != nil {
			b.Fatal(err)
		}
	}
	build := time.Since(start)
	// The snapshot a node writes at a clean stop and reads at start.
	var snap bytes.Buffer
	t0 := time.Now()
	if err := x.Save(&snap); err != nil {
		b.Fatal(err)
	}
	save := time.Since(t0)
	t0 = time.Now()
	if _, err := Load(bytes.NewReader(snap.Bytes()), Options{}); err != nil {
		b.Fatal(err)
	}
	load := time.Since(t0)
	snapMB := float64(snap.Len()) / (1 << 20)
	snap = bytes.Buffer{}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	center := directory.Point{Lat: 50.8467, Lon: 4.3525}
	stGilles, _ := PostcodeCentre("1060")
	monday := time.Date(2026, 12, 21, 10, 30, 0, 0, time.UTC)
	mix := []Query{
		{Text: "epicerie sociale"},
		{Text: "cours de francais", Category: "lecture-ecriture-calcul"},
		{Text: "voedselpakket", Near: &center, RadiusKm: 3},
		{Category: "sante", OpenAt: &monday},
		{Near: &stGilles, RadiusKm: 2, SortBy: "distance"},
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if _, err := x.Search(mix[i%len(mix)]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(build.Seconds(), "build-s")
	b.ReportMetric(save.Seconds(), "snapshot-save-s")
	b.ReportMetric(load.Seconds(), "snapshot-load-s")
	b.ReportMetric(snapMB, "snapshot-MB")
	b.ReportMetric(float64(ms.HeapAlloc-before.HeapAlloc)/(1<<20), "index-heap-MB")
	runtime.KeepAlive(x)
}

// BenchmarkSimilar looks up the services similar to a new one among
// 100,000 (directory/sample), as the service editor does before saving,
// and reports latency percentiles.
// Run: go test -run '^$' -bench Similar -benchtime 500x ./directory/search/
func BenchmarkSimilar(b *testing.B) {
	const n = 100_000
	x, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	g := sample.New(42)
	docs := make([]Doc, 0, n)
	for i := range n {
		l := g.Location()
		s := g.Service(l.ID)
		docs = append(docs, Doc{URI: "https://n.example/services/" + s.ID, Service: s, Actor: fmt.Sprintf("https://n%d.example/actor", i%500),
			Provider: "Association", Points: []directory.Point{*l.Point}})
	}
	for i := 0; i < n; i += 1000 {
		if err := x.PutBatch(docs[i:min(i+1000, n)]); err != nil {
			b.Fatal(err)
		}
	}
	// A node's index has written a snapshot: its summaries are encoded
	// and decoded as lookups need them.
	if err := x.Save(io.Discard); err != nil {
		b.Fatal(err)
	}
	// New services to check, from the same generator: some will have
	// look-alikes nearby, as real ones do.
	var queries []Doc
	for range 100 {
		l := g.Location()
		s := g.Service(l.ID)
		queries = append(queries, Doc{URI: "https://n.example/services/new-" + s.ID, Service: s, Points: []directory.Point{*l.Point}})
	}
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		hits, err := x.Similar(queries[i%len(queries)], 10, SimilarThreshold, directory.FR)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		found += len(hits)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(found)/float64(b.N), "hits/lookup")
}

// BenchmarkCoverage computes the overlap view for 100,000 services of
// 2,000 providers: counts by theme and area, and duplicate clusters.
// "build" is the first computation, from the whole index; "update" is
// one service changed and the view asked for again, as the index keeps
// it up to date.
// Run: go test -run '^$' -bench Coverage -benchtime 20x ./directory/search/
func BenchmarkCoverage(b *testing.B) {
	const n = 100_000
	x, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	g := sample.New(7)
	var docs []Doc
	for i := range n {
		l := g.Location()
		s := g.Service(l.ID)
		docs = append(docs, Doc{URI: "https://n.example/services/" + s.ID, Service: s, Actor: fmt.Sprintf("https://n%d.example/actor", i%2000),
			Provider: "Association", Points: []directory.Point{*l.Point}})
	}
	for i := 0; i < n; i += 1000 {
		if err := x.PutBatch(docs[i : i+1000]); err != nil {
			b.Fatal(err)
		}
	}
	if err := x.Save(io.Discard); err != nil { // summaries encoded, as in a node
		b.Fatal(err)
	}
	b.Run("build", func(b *testing.B) {
		var worst time.Duration
		var c *Coverage
		for range b.N {
			x.mu.Lock()
			x.cov = nil
			x.gen++
			x.mu.Unlock()
			c = x.Coverage()
			worst = max(worst, c.Took)
		}
		b.ReportMetric(worst.Seconds(), "max-s")
		b.ReportMetric(float64(c.Pairs), "duplicate-pairs")
		b.ReportMetric(float64(len(c.Clusters)), "clusters-shown")
	})
	b.Run("update", func(b *testing.B) {
		x.Coverage()
		var worst time.Duration
		for i := range b.N {
			d := docs[i%n]
			d.Points = []directory.Point{{Lat: d.Points[0].Lat + 0.001, Lon: d.Points[0].Lon}}
			start := time.Now()
			if err := x.Put(d); err != nil {
				b.Fatal(err)
			}
			x.Coverage()
			worst = max(worst, time.Since(start))
		}
		b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
	})
}

// BenchmarkIndexParts loads a snapshot of 10,000 generated services and
// reports the heap each part of the index holds, measured by dropping the
// parts one after the other: where to look first for memory.
// Run: go test -run '^$' -bench IndexParts -benchtime 1x ./directory/search/
func BenchmarkIndexParts(b *testing.B) {
	const n = 10_000
	heap := func() float64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapAlloc) / (1 << 20)
	}
	for range b.N {
		var snap bytes.Buffer
		func() {
			x, err := New(Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := x.PutBatch(sampleDocs(n)); err != nil {
				b.Fatal(err)
			}
			if err := x.Save(&snap); err != nil {
				b.Fatal(err)
			}
		}()
		x, err := Load(bytes.NewReader(snap.Bytes()), Options{})
		if err != nil {
			b.Fatal(err)
		}
		snap = bytes.Buffer{}
		parts := []struct {
			name string
			drop func()
		}{
			{"summaries", func() {
				for _, e := range x.slots {
					if e != nil {
						e.raw.Store(nil)
					}
				}
			}},
			{"postings", func() { x.posts = nil }},
			{"term-lists", func() {
				for _, e := range x.slots {
					if e != nil {
						e.terms = nil
					}
				}
			}},
			{"entries", func() { x.slots = nil }},
			{"schedules", func() { x.sched = nil }},
			{"uri-map", func() { x.byURI = nil }},
			{"hot-slots", func() { x.hot = nil }},
			{"words", func() { x.terms, x.near = nil, nil }},
			{"the-rest", func() { x = nil }},
		}
		for _, p := range parts {
			before := heap()
			p.drop()
			b.ReportMetric(before-heap(), p.name+"-MB")
		}
	}
}
