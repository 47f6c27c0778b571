package search

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

// Evaluation on the labelled sets of testdata written before the scorer
// and the search were tuned (issue 18): duplicates-v2.json (pairs of
// services, duplicate or distinct, many across languages) and
// relevance-v1.json (queries with graded judgements). See their .md
// files. The figures print with go test -v -run 'TestDuplicatesV2|TestRelevanceV1'.

// evalService is a service of the sets, as written there.
type evalService struct {
	ID          string         `json:"id"`
	Name        directory.Text `json:"name"`
	Description directory.Text `json:"description"`
	Categories  []string       `json:"categories"`
	Audiences   []string       `json:"audiences"`
	Languages   []string       `json:"languages"`
	Point       *[2]float64    `json:"point"`
	Postcodes   []string       `json:"postcodes"`
	Provider    string         `json:"provider"`
	Hours       []struct {
		Days, Opens, Closes string
	} `json:"hours"`
}

var evalDays = map[string]time.Weekday{"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday,
	"TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday}

// doc turns a service of a set into what the index takes.
func (s evalService) doc(t testing.TB) Doc {
	t.Helper()
	svc := &directory.Service{ID: s.ID, Name: s.Name, Description: s.Description, Categories: s.Categories, Audiences: s.Audiences,
		Languages: s.Languages, Status: directory.StatusActive, Area: directory.ServiceArea{Postcodes: s.Postcodes}}
	for _, h := range s.Hours {
		opens, err1 := directory.ParseClock(h.Opens)
		closes, err2 := directory.ParseClock(h.Closes)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: hours %+v", s.ID, h)
		}
		for _, d := range strings.Split(h.Days, ",") {
			day, ok := evalDays[strings.TrimSpace(d)]
			if !ok {
				t.Fatalf("%s: day %q", s.ID, d)
			}
			svc.Schedule.Weekly = append(svc.Schedule.Weekly, directory.Slot{Day: day, Opens: opens, Closes: closes})
		}
	}
	d := Doc{URI: "https://n.example/services/" + s.ID, Service: svc, Actor: "https://" + strings.ToLower(strings.ReplaceAll(s.Provider, " ", "-")) + ".example/actor",
		Provider: s.Provider}
	if s.Point != nil {
		d.Points = []directory.Point{{Lat: s.Point[0], Lon: s.Point[1]}}
	}
	return d
}

func readSet(t testing.TB, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// counts of a binary decision against labels.
type counts struct{ tp, fp, fn, tn int }

func (c counts) precision() float64 { return float64(c.tp) / float64(max(1, c.tp+c.fp)) }
func (c counts) recall() float64    { return float64(c.tp) / float64(max(1, c.tp+c.fn)) }
func (c counts) f1() float64 {
	p, r := c.precision(), c.recall()
	return 2 * p * r / max(1e-9, p+r)
}
func (c counts) String() string {
	return fmt.Sprintf("precision %.3f, recall %.3f, F1 %.3f (tp %d, fp %d, fn %d, tn %d)", c.precision(), c.recall(), c.f1(), c.tp, c.fp, c.fn, c.tn)
}

// duplicatesV2 scores every pair of duplicates-v2.json and counts, at the
// threshold on the shown (rounded) score, overall and across languages.
// half selects the pairs: "dev" the even ones (index from 0), "test" the
// odd ones, "" all. The scorer's weights were tuned looking at the dev
// half only; the test half is the measurement.
func duplicatesV2(t *testing.T, verbose bool, half string) (all, cross counts) {
	var set struct {
		Services []evalService
		Pairs    []struct {
			A, B          string
			Label         string
			CrossLanguage bool `json:"cross_language"`
			Reason        string
		}
	}
	readSet(t, "duplicates-v2.json", &set)
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]Doc{}
	for _, s := range set.Services {
		docs[s.ID] = s.doc(t)
	}
	for i, p := range set.Pairs {
		if (half == "dev" && i%2 == 1) || (half == "test" && i%2 == 0) {
			continue
		}
		a, b := docs[p.A], docs[p.B]
		s, reasons := x.Similarity(a, b, directory.FR)
		above := round2(s) >= SimilarThreshold
		for _, c := range []*counts{&all, &cross} {
			if c == &cross && !p.CrossLanguage {
				continue
			}
			switch {
			case p.Label == "duplicate" && above:
				c.tp++
			case p.Label == "duplicate":
				c.fn++
			case p.Label == "distinct" && above:
				c.fp++
			case p.Label == "distinct":
				c.tn++
			}
		}
		if verbose && (p.Label == "duplicate") != above && p.Label != "uncertain" {
			t.Logf("%s %.2f %s–%s (%s): %v", p.Label, s, p.A, p.B, p.Reason, reasons)
		}
	}
	return all, cross
}

func TestDuplicatesV2(t *testing.T) {
	for _, half := range []string{"dev", "test", ""} {
		all, cross := duplicatesV2(t, testing.Verbose() && half == "dev", half)
		name := half
		if name == "" {
			name = "all"
		}
		t.Logf("duplicates-v2 %s half at %.2f: all pairs: %v", name, SimilarThreshold, all)
		t.Logf("duplicates-v2 %s half at %.2f: across languages: %v", name, SimilarThreshold, cross)
		// Issue 18's targets, on the test half (the dev half was looked at
		// while tuning): precision 0.9 and recall 0.85, overall and
		// across languages.
		if half == "test" && (all.precision() < 0.9 || all.recall() < 0.85 || cross.precision() < 0.9 || cross.recall() < 0.85) {
			t.Errorf("test half below precision 0.9 and recall 0.85: all %v; across languages %v", all, cross)
		}
	}
}

// relevanceV1 runs every query of relevance-v1.json and returns the mean
// recall@5 and nDCG@5 (gains 2 and 1), with the share of queries
// expecting nothing that got nothing.
func relevanceV1(t *testing.T, verbose bool) (recall5, ndcg5, emptyRight float64, byKind map[string][2]float64) {
	var set struct {
		Services []evalService
		Queries  []struct {
			ID       string
			Lang     string
			Q        string
			Filters  map[string]any
			Relevant map[string]int
			Kind     []string
			Note     string
		}
	}
	readSet(t, "relevance-v1.json", &set)
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []Doc
	for _, s := range set.Services {
		docs = append(docs, s.doc(t))
	}
	if err := x.PutBatch(docs); err != nil {
		t.Fatal(err)
	}
	type sums struct {
		recall, ndcg float64
		n            int
	}
	kinds := map[string]*sums{}
	var total sums
	empties, emptyOK := 0, 0
	for _, q := range set.Queries {
		query := Query{Text: q.Q, PerPage: 5}
		for k, v := range q.Filters {
			switch k {
			case "category":
				query.Category, _ = v.(string)
			case "audience":
				query.Audience, _ = v.(string)
			case "language":
				query.Language, _ = v.(string)
			case "near":
				p, _ := v.([]any)
				if len(p) == 2 {
					lat, _ := p[0].(float64)
					lon, _ := p[1].(float64)
					query.Near = &directory.Point{Lat: lat, Lon: lon}
				}
			case "km":
				query.RadiusKm, _ = v.(float64)
			case "open_at":
				s, _ := v.(string)
				day, clock, _ := strings.Cut(s, " ")
				c, err := directory.ParseClock(clock)
				if err != nil {
					t.Fatalf("%s: open_at %q", q.ID, s)
				}
				loc, _ := time.LoadLocation("Europe/Brussels")
				monday := time.Date(2026, 12, 7, 0, 0, 0, 0, loc) // a Monday
				at := monday.AddDate(0, 0, (int(evalDays[day])+6)%7).Add(time.Duration(c) * time.Minute)
				query.OpenAt = &at
			default:
				t.Fatalf("%s: filter %q", q.ID, k)
			}
		}
		res, err := x.Search(query)
		if err != nil {
			t.Fatalf("%s %q: %v", q.ID, q.Q, err)
		}
		var got []string
		for _, h := range res.Hits {
			got = append(got, strings.TrimPrefix(h.URI, "https://n.example/services/"))
		}
		if len(q.Relevant) == 0 {
			empties++
			if len(got) == 0 {
				emptyOK++
			} else if verbose {
				t.Logf("%s %q (%s) expects nothing, got %v", q.ID, q.Q, q.Lang, got)
			}
			continue
		}
		found, dcg := 0, 0.0
		for i, id := range got {
			if g := q.Relevant[id]; g > 0 {
				found++
				dcg += float64(g) / math.Log2(float64(i+2))
			}
		}
		var gains []int
		for _, g := range q.Relevant {
			gains = append(gains, g)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(gains)))
		ideal := 0.0
		for i, g := range gains[:min(5, len(gains))] {
			ideal += float64(g) / math.Log2(float64(i+2))
		}
		r := float64(found) / float64(min(5, len(q.Relevant)))
		n := dcg / ideal
		if verbose && r < 1 {
			var want []string
			for id := range q.Relevant {
				want = append(want, id)
			}
			slices.Sort(want)
			t.Logf("%s %q (%s, %v): recall@5 %.2f nDCG@5 %.2f: got %v, want %v", q.ID, q.Q, q.Lang, q.Kind, r, n, got, want)
		}
		total.recall += r
		total.ndcg += n
		total.n++
		for _, k := range q.Kind {
			if kinds[k] == nil {
				kinds[k] = &sums{}
			}
			kinds[k].recall += r
			kinds[k].ndcg += n
			kinds[k].n++
		}
	}
	byKind = map[string][2]float64{}
	for k, s := range kinds {
		byKind[k] = [2]float64{s.recall / float64(s.n), s.ndcg / float64(s.n)}
	}
	return total.recall / float64(total.n), total.ndcg / float64(total.n), float64(emptyOK) / float64(max(1, empties)), byKind
}

func TestRelevanceV1(t *testing.T) {
	r, n, e, kinds := relevanceV1(t, testing.Verbose())
	t.Logf("relevance-v1: recall@5 %.3f, nDCG@5 %.3f; queries expecting nothing answered empty: %.2f", r, n, e)
	if r < 0.65 || n < 0.72 {
		t.Errorf("recall@5 %.3f, nDCG@5 %.3f: below the 0.65 and 0.72 reached (0.399 and 0.466 before issue 18)", r, n)
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		t.Logf("  %-16s recall@5 %.3f nDCG@5 %.3f", k, kinds[k][0], kinds[k][1])
	}
}

// The similarity of two services is the same from either side: compared
// directly, and looked up in the index from one and from the other
// (issue 18, point 3), on every pair of duplicates-v2.
func TestSimilaritySymmetric(t *testing.T) {
	var set struct {
		Services []evalService
		Pairs    []struct{ A, B string }
	}
	readSet(t, "duplicates-v2.json", &set)
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]Doc{}
	for _, s := range set.Services {
		d := s.doc(t)
		docs[s.ID] = d
		if err := x.Put(d); err != nil {
			t.Fatal(err)
		}
	}
	looked := map[string]map[string]float64{} // from → to → score
	lookup := func(id string) map[string]float64 {
		if m, ok := looked[id]; ok {
			return m
		}
		hits, err := x.Similar(docs[id], MaxPerPage, 0.2, directory.FR)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]float64{}
		for _, h := range hits {
			m[h.URI] = h.Score
		}
		looked[id] = m
		return m
	}
	compared := 0
	for _, p := range set.Pairs {
		a, b := docs[p.A], docs[p.B]
		ab, _ := x.Similarity(a, b, directory.FR)
		ba, _ := x.Similarity(b, a, directory.FR)
		if ab != ba {
			t.Errorf("%s–%s: %.2f one way, %.2f the other", p.A, p.B, ab, ba)
		}
		fromA, inA := lookup(p.A)[b.URI]
		fromB, inB := lookup(p.B)[a.URI]
		if inA != inB || fromA != fromB {
			t.Errorf("%s–%s in the index: %.2f (%v) from one side, %.2f (%v) from the other", p.A, p.B, fromA, inA, fromB, inB)
		}
		if inA {
			compared++
			if fromA != ab {
				t.Errorf("%s–%s: %.2f in the index, %.2f compared directly", p.A, p.B, fromA, ab)
			}
		}
	}
	if compared < len(set.Pairs)/2 {
		t.Errorf("only %d of %d pairs found in the index at 0.2: the check says little", compared, len(set.Pairs))
	}
	t.Logf("%d pairs, %d of them found from both sides in the index with the same score", len(set.Pairs), compared)
}
