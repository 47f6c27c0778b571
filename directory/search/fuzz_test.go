package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
)

// FuzzSearch runs queries made of any words and filters on an index of
// 300 generated services. Run it with:
//
//	go test -run '^$' -fuzz '^FuzzSearch$' -fuzztime 10m -parallel 1 ./directory/search/
//
// A query never panics; it is refused with ErrQuery or answered with a
// bounded result: at most a page of distinct hits, a total at most the
// size of the index, finite distances within the radius (in order when
// sorted by distance), bounded facets, a result that encodes as JSON, and
// the same result when asked again.
func FuzzSearch(f *testing.F) {
	x := fuzzIndex(f)
	at := time.Date(2026, 12, 21, 10, 0, 0, 0, brussels).Unix()
	f.Add("épicerie sociale", "", "", "", "", "", false, 0.0, 0.0, 0.0, int64(0), false, 0, 0)
	f.Add("cours de français", "lecture-ecriture-calcul", "", "fr", "local", "", false, 0.0, 0.0, 0.0, int64(0), false, 1, 10)
	f.Add("voedselpakket gezinnen", "", "familles", "nl", "partners", "relevance", true, 50.8467, 4.3525, 5.0, at, true, 2, 5)
	f.Add("", "", "", "", "all", "distance", true, 50.83, 4.34, 0.0, int64(0), false, 1, 100)
	f.Add("alimentation", "equipement-et-alimentation--alimentation", "", "", "", "distance", true, 51.2194, 4.4025, 500.0, at, false, 3, 1)
	f.Add("aide administrative cpas logement numérique", "", "", "", "", "", true, -90.0, 180.0, 499.9, at+86400*3, true, 10000, 100)
	f.Add("epicrie", "nothing", "nobody", "xx", "x", "x", true, 91.0, 0.0, -1.0, int64(-1), false, -1, 1000)
	f.Add("de la le les et", "", "", "", "", "", true, math.NaN(), 0.0, 5.0, int64(0), false, 0, 0)
	// A point of NaN passed the range checks, which NaN fails by
	// comparing false: every service was a hit at distance NaN, and the
	// API could not encode its answer.
	f.Add("", "", "", "", "", "distance", true, math.NaN(), math.NaN(), 0.0, int64(0), false, 0, 0)
	f.Add("", "", "", "", "", "", false, 0.0, 0.0, math.NaN(), int64(0), false, 0, 0)
	f.Fuzz(func(t *testing.T, text, category, audience, language, scope, sortBy string,
		near bool, lat, lon, radius float64, openAt int64, referrals bool, page, perPage int) {
		q := Query{Text: text, Category: category, Audience: audience, Language: language, Scope: scope, SortBy: sortBy,
			RadiusKm: radius, Referrals: referrals, Page: page, PerPage: perPage}
		if near {
			q.Near = &directory.Point{Lat: lat, Lon: lon}
		}
		if openAt != 0 {
			when := time.Unix(openAt, 0)
			q.OpenAt = &when
		}
		res, err := x.Search(q)
		if err != nil {
			if !errors.Is(err, ErrQuery) || res != nil {
				t.Fatalf("Search(%+v) = %v, %v; want a result or ErrQuery", q, res, err)
			}
			return
		}
		checkResult(t, x, q, res)
		again, err := x.Search(q)
		if err != nil || !sameResult(again, res) {
			t.Fatalf("Search(%+v) answered again otherwise: %v", q, err)
		}
	})
}

func fuzzIndex(tb testing.TB) *Index {
	x, err := New(Options{Location: brussels, Now: func() time.Time { return time.Date(2026, 12, 21, 10, 0, 0, 0, brussels) }})
	if err != nil {
		tb.Fatal(err)
	}
	g := sample.New(11)
	var docs []Doc
	for i := range 300 {
		l1, l2 := g.Location(), g.Location()
		s := g.Service(l1.ID, l2.ID)
		pts := []directory.Point{*l1.Point}
		if i%3 == 0 {
			pts = append(pts, *l2.Point)
		}
		docs = append(docs, Doc{URI: "https://n.example/services/" + s.ID, Service: s, Actor: fmt.Sprintf("https://n%d.example/actor", i%7),
			Provider: fmt.Sprintf("Association %d", i%7), Local: i%4 == 0, Points: pts})
	}
	if err := x.PutBatch(docs); err != nil {
		tb.Fatal(err)
	}
	return x
}

func checkResult(t *testing.T, x *Index, q Query, res *Result) {
	t.Helper()
	perPage := q.PerPage
	if perPage == 0 {
		perPage = 20
	}
	switch {
	case len(res.Hits) > perPage || len(res.Hits) > res.Total || res.Total > x.Count():
		t.Fatalf("Search(%+v): %d hits of %d, index of %d", q, len(res.Hits), res.Total, x.Count())
	case len(res.Facets["category"]) > 100 || len(res.Facets["organization"]) > 50:
		t.Fatalf("Search(%+v): facets %v", q, res.Facets)
	}
	for name, counts := range res.Facets {
		for _, c := range counts {
			if c.Count < 1 || c.Count > res.Total {
				t.Fatalf("Search(%+v): facet %s %+v of %d", q, name, c, res.Total)
			}
		}
	}
	seen := map[string]bool{}
	last := math.Inf(-1)
	for _, h := range res.Hits {
		if h.Service == nil || seen[h.URI] {
			t.Fatalf("Search(%+v): hit %q twice or without its service", q, h.URI)
		}
		seen[h.URI] = true
		if math.IsNaN(h.Score) || math.IsInf(h.Score, 0) {
			t.Fatalf("Search(%+v): score %v", q, h.Score)
		}
		if h.DistanceKm == nil {
			continue
		}
		d := *h.DistanceKm
		if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 || (q.RadiusKm > 0 && d > q.RadiusKm*(1+1e-6)+1e-6) {
			t.Fatalf("Search(%+v): distance %v", q, d)
		}
		if q.SortBy == "distance" {
			if d < last-1e-6 {
				t.Fatalf("Search(%+v): distance %v after %v", q, d, last)
			}
			last = d
		}
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("Search(%+v): the result does not encode: %v", q, err)
	}
}

// sameResult compares what a result list shows.
func sameResult(a, b *Result) bool {
	if a.Total != b.Total || len(a.Hits) != len(b.Hits) || !reflect.DeepEqual(a.Facets, b.Facets) {
		return false
	}
	for i := range a.Hits {
		if a.Hits[i].URI != b.Hits[i].URI || a.Hits[i].Score != b.Hits[i].Score {
			return false
		}
	}
	return true
}
