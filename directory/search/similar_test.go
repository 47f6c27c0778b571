package search

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
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
	// Sooner after the last computation than ten times what it took, a
	// change waits.
	x.wall = func() time.Time { return c.Computed.Add(c.Took) }
	put("late", "https://z.example/actor", 50.8291, 4.3449, food)
	if x.Coverage() != c {
		t.Error("the coverage was computed again too soon")
	}
	now := c.Computed
	x.wall = func() time.Time { now = now.Add(time.Minute); return now }
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
