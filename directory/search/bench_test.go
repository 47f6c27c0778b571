package search

import (
	"fmt"
	"io/fs"
	"path/filepath"
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

func benchScale(b *testing.B, n int) {
	dir := filepath.Join(b.TempDir(), "index")
	x, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	g := sample.New(42)
	start := time.Now()
	batch := make([]Doc, 0, 1000)
	for i := range n {
		l := g.Location()
		s := g.Service(l.ID)
		batch = append(batch, Doc{URI: "https://n.example/services/" + s.ID, Service: s, Actor: fmt.Sprintf("https://n%d.example/actor", i%500),
			Provider: "Association", Local: i%10 == 0, Points: []directory.Point{*l.Point}})
		if len(batch) == cap(batch) {
			if err := x.PutBatch(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := x.PutBatch(batch); err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	var size int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	center := directory.Point{Lat: 50.8467, Lon: 4.3525}
	stGilles, _ := PostcodeCentre("1060")
	monday := time.Date(2026, 12, 21, 10, 30, 0, 0, time.UTC)
	mix := []Query{
		{Text: "epicerie sociale"},
		{Text: "cours de francais", Category: "lecture-ecriture-calcul"},
		{Text: "voedselhulp", Near: &center, RadiusKm: 3},
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
	b.ReportMetric(float64(size)/(1<<20), "index-MB")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
}
