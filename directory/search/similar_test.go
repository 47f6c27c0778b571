package search

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
)

type labelledService struct {
	Name        directory.Text `json:"name"`
	Description directory.Text `json:"description"`
	Categories  []string       `json:"categories"`
	Audiences   []string       `json:"audiences"`
	Languages   []string       `json:"languages"`
	Point       [2]float64     `json:"point"`
}

func (s labelledService) doc(uri string) Doc {
	return Doc{URI: uri, Actor: "https://n.example/actor", Points: []directory.Point{{Lat: s.Point[0], Lon: s.Point[1]}},
		Service: &directory.Service{Name: s.Name, Description: s.Description, Categories: s.Categories, Audiences: s.Audiences,
			Languages: s.Languages, Status: directory.StatusActive}}
}

type labelledPair struct {
	Label string          `json:"label"`
	Note  string          `json:"note"`
	A     labelledService `json:"a"`
	B     labelledService `json:"b"`
}

func loadPairs(t testing.TB) []labelledPair {
	t.Helper()
	raw, err := os.ReadFile("testdata/similar-pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Pairs []labelledPair }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Pairs
}

// The similarity score, at SimilarThreshold, on the labelled pairs of
// testdata/similar-pairs.json (written by similar-pairs.py): precision
// at least 0.9 and recall at least 0.8 for duplicates against distinct
// pairs. Uncertain pairs are reported, not counted.
func TestSimilarityOnLabelledPairs(t *testing.T) {
	pairs := loadPairs(t)
	if len(pairs) < 150 {
		t.Fatalf("%d labelled pairs, want at least 150", len(pairs))
	}
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	type scored struct {
		label, note string
		score       float64
		reasons     []Reason
	}
	var all []scored
	for i, p := range pairs {
		a, b := p.A.doc(fmt.Sprintf("https://n.example/services/a%d", i)), p.B.doc(fmt.Sprintf("https://n.example/services/b%d", i))
		s, r := x.Similarity(a, b, directory.FR)
		// Symmetric enough to be used from either side.
		if s2, _ := x.Similarity(b, a, directory.FR); s2 < s-0.1 || s2 > s+0.1 {
			t.Errorf("%s: %.2f one way, %.2f the other", p.Note, s, s2)
		}
		all = append(all, scored{p.Label, p.Note, s, r})
	}
	var tp, fp, fn, tn, uncertainAbove, uncertain int
	for _, s := range all {
		above := s.score >= SimilarThreshold
		switch {
		case s.label == "duplicate" && above:
			tp++
		case s.label == "duplicate":
			fn++
			t.Logf("missed duplicate %.2f: %s %v", s.score, s.note, s.reasons)
		case s.label == "distinct" && above:
			fp++
			t.Logf("false duplicate %.2f: %s %v", s.score, s.note, s.reasons)
		case s.label == "distinct":
			tn++
		default:
			uncertain++
			if above {
				uncertainAbove++
			}
		}
	}
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(max(1, tp+fn))
	f1 := 2 * precision * recall / max(1e-9, precision+recall)
	t.Logf("threshold %.2f on %d pairs: precision %.3f, recall %.3f, F1 %.3f (tp %d, fp %d, fn %d, tn %d); uncertain above the threshold: %d of %d",
		SimilarThreshold, len(all), precision, recall, f1, tp, fp, fn, tn, uncertainAbove, uncertain)
	if precision < 0.9 || recall < 0.8 {
		t.Errorf("precision %.3f, recall %.3f: want at least 0.9 and 0.8", precision, recall)
	}
	// The score spread, to choose the threshold from (go test -v).
	for _, label := range []string{"duplicate", "distinct", "uncertain"} {
		var ss []float64
		for _, s := range all {
			if s.label == label {
				ss = append(ss, s.score)
			}
		}
		sort.Float64s(ss)
		t.Logf("%-9s min %.2f p10 %.2f median %.2f p90 %.2f max %.2f", label, ss[0], ss[len(ss)/10], ss[len(ss)/2], ss[len(ss)*9/10], ss[len(ss)-1])
	}
}

// Similar finds, among indexed services, the duplicates of a service
// being created, with reasons, and leaves out the distinct ones.
func TestSimilarFindsDuplicates(t *testing.T) {
	pairs := loadPairs(t)
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []Doc
	for i, p := range pairs {
		docs = append(docs, p.B.doc(fmt.Sprintf("https://n.example/services/b%d", i)))
	}
	if err := x.PutBatch(docs); err != nil {
		t.Fatal(err)
	}
	p := pairs[0] // a duplicate: the same grocery entered by a partner
	if p.Label != "duplicate" {
		t.Fatalf("the first pair is %s", p.Label)
	}
	hits, err := x.Similar(p.A.doc("https://n.example/services/new"), 10, SimilarThreshold, directory.FR)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range hits {
		if h.URI == "https://n.example/services/b0" {
			found = true
			parts := map[string]bool{}
			for _, r := range h.Reasons {
				parts[r.Part] = true
			}
			if !parts["theme"] || !parts["place"] {
				t.Errorf("reasons %v lack theme or place", h.Reasons)
			}
		}
		if h.Score < SimilarThreshold {
			t.Errorf("hit %s below the threshold: %.2f", h.URI, h.Score)
		}
	}
	if !found {
		t.Errorf("the duplicate is not among %d hits", len(hits))
	}
	// The same scores as the pairwise comparison.
	for _, h := range hits {
		var b Doc
		for _, d := range docs {
			if d.URI == h.URI {
				b = d
			}
		}
		if s, _ := x.Similarity(p.A.doc("x"), b, directory.FR); s < h.Score-0.06 || s > h.Score+0.06 {
			t.Errorf("%s: Similar says %.2f, Similarity %.2f", h.URI, h.Score, s)
		}
	}
	if _, err := x.Similar(p.A.doc("x"), 0, 0.5, directory.FR); err == nil {
		t.Error("n = 0 accepted")
	}
}

// Coverage counts providers and services by theme and postcode area,
// each provider once, and is computed again after a change.
func TestCoverage(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(id, actor string, lat, lon float64, cats ...string) {
		t.Helper()
		if err := x.Put(Doc{URI: "https://n.example/services/" + id, Actor: actor, Points: []directory.Point{{Lat: lat, Lon: lon}},
			Service: &directory.Service{ID: id, Name: directory.T(directory.FR, id), Status: directory.StatusActive, Categories: cats}}); err != nil {
			t.Fatal(err)
		}
	}
	food := "equipement-et-alimentation--alimentation"
	put("a1", "https://a.example/actor", 50.8291, 4.3449, food) // Saint-Gilles
	put("a2", "https://a.example/actor", 50.8270, 4.3460, food) // Saint-Gilles, same provider
	put("b1", "https://b.example/actor", 50.8261, 4.3456, food) // Saint-Gilles, another provider
	put("c1", "https://c.example/actor", 50.8676, 4.3737, "lecture-ecriture-calcul--maitriser-le-francais")
	put("far", "https://c.example/actor", 51.2194, 4.4025, food) // Antwerp: outside
	cell := func(c *Coverage, theme, area string) (int, int) {
		ti, ai := slices.Index(c.Themes, theme), slices.Index(c.Areas, area)
		if ti < 0 || ai < 0 {
			t.Fatalf("no %s or %s in the coverage", theme, area)
		}
		return c.Providers[ti][ai], c.Services[ti][ai]
	}
	c := x.Coverage()
	if p, s := cell(c, "equipement-et-alimentation", "1060"); p != 2 || s != 3 {
		t.Errorf("food in 1060: %d providers, %d services; want 2 and 3", p, s)
	}
	if p, _ := cell(c, "lecture-ecriture-calcul", "1030"); p != 1 {
		t.Errorf("French in 1030: %d providers", p)
	}
	if p, _ := cell(c, "equipement-et-alimentation", "1030"); p != 0 {
		t.Errorf("food in 1030: %d providers, want a gap", p)
	}
	if c.Outside != 1 || c.Total != 5 {
		t.Errorf("outside %d of %d, want 1 of 5", c.Outside, c.Total)
	}
	if x.Coverage() != c {
		t.Error("an unchanged index computed its coverage again")
	}
	// A change shows at once, from the counts kept up to date.
	put("late", "https://z.example/actor", 50.8291, 4.3449, food)
	if p, s := cell(x.Coverage(), "equipement-et-alimentation", "1060"); p != 3 || s != 4 {
		t.Errorf("after an addition: %d providers, %d services; want 3 and 4", p, s)
	}
	if err := x.Delete("https://n.example/services/late"); err != nil {
		t.Fatal(err)
	}
	if err := x.Delete("https://n.example/services/b1"); err != nil {
		t.Fatal(err)
	}
	if p, s := cell(x.Coverage(), "equipement-et-alimentation", "1060"); p != 1 || s != 2 {
		t.Errorf("after a removal: %d providers, %d services; want 1 and 2", p, s)
	}
	if len(x.Coverage().Clusters) != 0 {
		t.Errorf("clusters without look-alikes: %+v", x.Coverage().Clusters)
	}

	// Two groceries 100 m apart by two providers, and a third 3 km off:
	// one cluster of two. A pair marked complementary is not one.
	grocery := func(id, actor string, lat, lon float64, complements ...string) {
		t.Helper()
		var cs []directory.Complement
		for _, c := range complements {
			cs = append(cs, directory.Complement{URI: "https://n.example/services/" + c})
		}
		if err := x.Put(Doc{URI: "https://n.example/services/" + id, Actor: actor, Points: []directory.Point{{Lat: lat, Lon: lon}},
			Service: &directory.Service{ID: id, Name: directory.T(directory.FR, "Épicerie sociale"), Status: directory.StatusActive,
				Categories: []string{food}, Complements: cs}}); err != nil {
			t.Fatal(err)
		}
	}
	grocery("g1", "https://a.example/actor", 50.8400, 4.3500)
	grocery("g2", "https://d.example/actor", 50.8408, 4.3505)
	grocery("g3", "https://e.example/actor", 50.8670, 4.3500)
	c = x.Coverage()
	if len(c.Clusters) != 1 || len(c.Clusters[0].URIs) != 2 || c.Pairs != 1 {
		t.Fatalf("clusters = %+v (%d pairs), want g1 and g2", c.Clusters, c.Pairs)
	}
	grocery("g2", "https://d.example/actor", 50.8408, 4.3505, "g1")
	if c := x.Coverage(); len(c.Clusters) != 0 {
		t.Errorf("a complementary pair is clustered: %+v", c.Clusters)
	}
	// The same after a snapshot: what complements what travels with it.
	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		t.Fatal(err)
	}
	y, err := Load(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := y.Coverage(); len(c.Clusters) != 0 {
		t.Errorf("a complementary pair is clustered after a snapshot: %+v", c.Clusters)
	}
}

// A service said to complement another is no longer offered as its
// look-alike, from either side.
func TestComplementsAreNotSimilar(t *testing.T) {
	pairs := loadPairs(t)
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := pairs[0]
	a, b := p.A.doc("https://n.example/services/a"), p.B.doc("https://n.example/services/b")
	if err := x.Put(b); err != nil {
		t.Fatal(err)
	}
	uris := func() []string {
		hits, err := x.Similar(a, 10, SimilarThreshold, directory.FR)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.URI)
		}
		return out
	}
	if got := uris(); len(got) != 1 {
		t.Fatalf("before: %v", got)
	}
	a.Service.Complements = []directory.Complement{{URI: b.URI, Note: "Nous livrons à domicile, eux non."}}
	if got := uris(); len(got) != 0 {
		t.Errorf("a's complement still similar: %v", got)
	}
	a.Service.Complements = nil
	b.Service.Complements = []directory.Complement{{URI: a.URI}}
	if err := x.Put(b); err != nil {
		t.Fatal(err)
	}
	if got := uris(); len(got) != 0 {
		t.Errorf("b says it complements a, yet: %v", got)
	}
}

// The coverage kept up to date through puts, updates and removals equals
// the coverage built afresh from the index: counts, pairs and clusters.
func TestCoverageIncrementalEqualsRebuild(t *testing.T) {
	// Every pair kept, so that the clusters do not depend on the order
	// services came in.
	defer func(n int) { maxLinks = n }(maxLinks)
	maxLinks = 1 << 20
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := sample.New(11)
	rng := rand.New(rand.NewPCG(11, 12))
	var docs []Doc
	for i := range 600 {
		l := g.Location()
		s := g.Service(l.ID)
		// A small neighbourhood, few providers and a few shared names:
		// many look-alike pairs.
		p := directory.Point{Lat: 50.83 + rng.Float64()*0.02, Lon: 4.34 + rng.Float64()*0.03}
		if i%7 == 0 {
			s.Name = directory.T(directory.FR, "Épicerie sociale")
		}
		d := Doc{URI: "https://n.example/services/" + s.ID, Service: s, Actor: fmt.Sprintf("https://n%d.example/actor", i%9), Provider: "Association", Points: []directory.Point{p}}
		if i%50 == 0 {
			d.Points = nil
		}
		docs = append(docs, d)
	}
	if err := x.PutBatch(docs[:300]); err != nil {
		t.Fatal(err)
	}
	x.Coverage() // from here on, kept up to date
	for step := range 1500 {
		d := docs[rng.IntN(len(docs))]
		switch rng.IntN(4) {
		case 0:
			err = x.Delete(d.URI)
		case 1: // moved
			if len(d.Points) > 0 {
				d.Points = []directory.Point{{Lat: d.Points[0].Lat + rng.Float64()*0.004 - 0.002, Lon: d.Points[0].Lon}}
			}
			err = x.Put(d)
		default:
			err = x.Put(d)
		}
		if err != nil {
			t.Fatal(err)
		}
		if step%300 != 299 {
			continue
		}
		kept := x.Coverage()
		x.mu.Lock()
		x.cov = nil
		x.gen++
		x.mu.Unlock()
		fresh := x.Coverage()
		if kept.Total != fresh.Total || kept.Outside != fresh.Outside || kept.Pairs != fresh.Pairs {
			t.Fatalf("step %d: kept total %d outside %d pairs %d; fresh %d %d %d", step, kept.Total, kept.Outside, kept.Pairs, fresh.Total, fresh.Outside, fresh.Pairs)
		}
		for ti := range fresh.Themes {
			if !slices.Equal(kept.Providers[ti], fresh.Providers[ti]) || !slices.Equal(kept.Services[ti], fresh.Services[ti]) {
				t.Fatalf("step %d: %s: kept %v/%v, fresh %v/%v", step, fresh.Themes[ti], kept.Providers[ti], kept.Services[ti], fresh.Providers[ti], fresh.Services[ti])
			}
		}
		if len(kept.Clusters) != len(fresh.Clusters) {
			t.Fatalf("step %d: %d clusters kept, %d fresh", step, len(kept.Clusters), len(fresh.Clusters))
		}
		for i := range fresh.Clusters {
			if !slices.Equal(kept.Clusters[i].URIs, fresh.Clusters[i].URIs) {
				t.Fatalf("step %d: cluster %d: kept %v, fresh %v", step, i, kept.Clusters[i].URIs, fresh.Clusters[i].URIs)
			}
		}
		if fresh.Pairs == 0 || len(fresh.Clusters) == 0 {
			t.Fatalf("step %d: no pairs (%d) or clusters: the test checks nothing", step, fresh.Pairs)
		}
	}
}

// Thousands of look-alikes at one spot are all counted as pairs, and held
// together as one cluster, while each keeps a bounded number of links.
func TestCoverageLookAlikeFlood(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	x.Coverage()
	const n = 1000
	var docs []Doc
	for i := range n {
		docs = append(docs, Doc{URI: fmt.Sprintf("https://flood.example/services/%d", i), Actor: "https://flood.example/actor", Provider: "Flood",
			Points: []directory.Point{{Lat: 50.85, Lon: 4.35}},
			Service: &directory.Service{ID: fmt.Sprint(i), Name: directory.T(directory.FR, "Aide alimentaire"), Status: directory.StatusActive,
				Categories: []string{"equipement-et-alimentation--alimentation"}}})
	}
	if err := x.PutBatch(docs); err != nil {
		t.Fatal(err)
	}
	c := x.Coverage()
	if c.Pairs != n*(n-1)/2 || len(c.Clusters) != 1 {
		t.Fatalf("%d pairs in %d clusters, want %d in 1", c.Pairs, len(c.Clusters), n*(n-1)/2)
	}
	total := 0
	for _, sc := range x.cov.in {
		total += len(sc.links)
	}
	if total > 2*maxLinks*n {
		t.Errorf("%d links kept for %d services, want at most %d", total, n, 2*maxLinks*n)
	}
	for i := range n / 2 {
		if err := x.Delete(docs[i].URI); err != nil {
			t.Fatal(err)
		}
	}
	if c := x.Coverage(); c.Pairs != (n/2)*(n/2-1)/2 {
		t.Errorf("after removing half: %d pairs, want %d", c.Pairs, (n/2)*(n/2-1)/2)
	}
}

// Coverage asked for while services come and go (run with -race).
func TestCoverageWhileWriting(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := sample.New(3)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 400 {
			l := g.Location()
			s := g.Service(l.ID)
			if err := x.Put(Doc{URI: "https://n.example/services/" + s.ID, Service: s, Actor: "https://n.example/actor", Points: []directory.Point{*l.Point}}); err != nil {
				t.Error(err)
				return
			}
			if i%3 == 0 {
				x.Delete("https://n.example/services/" + s.ID)
			}
		}
	}()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if c := x.Coverage(); c.Total < 0 || c.Total > 400 || c.Outside > c.Total {
			t.Fatalf("coverage of %d services, %d outside", c.Total, c.Outside)
		}
	}
	if c := x.Coverage(); c.Total != x.Count() {
		t.Errorf("coverage counts %d services, the index holds %d", c.Total, x.Count())
	}
}
