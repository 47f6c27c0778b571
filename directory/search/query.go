package search

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/maillage/maillage/directory"
)

// Scopes of a search.
const (
	ScopeAll      = "all"
	ScopeLocal    = "local"
	ScopePartners = "partners"
)

// Query is a search. Zero fields do not filter.
type Query struct {
	Text      string
	Category  string // category or term code; a category includes its terms
	Audience  string
	Language  string
	Near      *directory.Point
	RadiusKm  float64 // with Near; 0 means no distance limit
	OpenAt    *time.Time
	Referrals bool // only services that accept referrals
	Scope     string
	SortBy    string // "relevance" (default) or "distance" (needs Near)
	Page      int    // from 1
	PerPage   int
}

// Limits of a query.
const (
	MaxPerPage  = 100
	maxText     = 500
	maxRadiusKm = 500
	maxOpenScan = 20000 // candidates checked exactly against opening hours
)

// ErrQuery wraps every problem with a query.
var ErrQuery = errors.New("search: bad query")

// Hit is one result. Service carries the fields a result list shows, not
// the long texts (description, eligibility, …): read the store for those.
type Hit struct {
	URI        string
	Service    *directory.Service
	Actor      string
	Provider   string
	Local      bool
	DistanceKm *float64
	OpenNow    bool
	Score      float64
}

// FacetCount is one value of a facet and how many results have it.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Result is a page of hits with facet counts over all matches.
type Result struct {
	Total  int
	Hits   []Hit
	Facets map[string][]FacetCount
}

func (q *Query) check(tax *directory.Taxonomy) error {
	var p []string
	if len(q.Text) > maxText {
		p = append(p, fmt.Sprintf("q is longer than %d characters", maxText))
	}
	if q.Category != "" {
		if _, ok := tax.Category(q.Category); !ok {
			p = append(p, fmt.Sprintf("category %q is not in the taxonomy", q.Category))
		}
	}
	if q.Audience != "" && !tax.IsAudience(q.Audience) {
		p = append(p, fmt.Sprintf("audience %q is not in the taxonomy", q.Audience))
	}
	if q.Near != nil && (q.Near.Lat < -90 || q.Near.Lat > 90 || q.Near.Lon < -180 || q.Near.Lon > 180) {
		p = append(p, "near is outside WGS84 coordinates")
	}
	if q.RadiusKm < 0 || q.RadiusKm > maxRadiusKm {
		p = append(p, fmt.Sprintf("radius_km must be between 0 and %d", maxRadiusKm))
	}
	if q.RadiusKm > 0 && q.Near == nil {
		p = append(p, "radius_km needs near or postcode")
	}
	if q.SortBy == "distance" && q.Near == nil {
		p = append(p, "sort=distance needs near or postcode")
	}
	switch q.Scope {
	case "", ScopeAll, ScopeLocal, ScopePartners:
	default:
		p = append(p, "scope must be all, local or partners")
	}
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PerPage == 0 {
		q.PerPage = 20
	}
	if q.Page < 1 || q.Page > 10000 || q.PerPage < 1 || q.PerPage > MaxPerPage {
		p = append(p, fmt.Sprintf("page must be ≥ 1 and per_page between 1 and %d", MaxPerPage))
	}
	if len(p) > 0 {
		return fmt.Errorf("%w: %s", ErrQuery, strings.Join(p, "; "))
	}
	return nil
}

// words splits text into folded words.
func words(text string) []string {
	return strings.FieldsFunc(directory.Fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func term(field, value string) query.Query {
	t := bleve.NewTermQuery(value)
	t.SetField(field)
	return t
}

// textQuery requires every word, in any language's fields; words of five
// letters or more also match with one typo.
func textQuery(text string) query.Query {
	var all []query.Query
	for _, w := range words(text) {
		var any []query.Query
		for _, f := range []struct {
			field string
			boost float64
		}{{"name_fr", 3}, {"name_nl", 3}, {"name_en", 3}, {"text_fr", 1}, {"text_nl", 1}, {"text_en", 1}, {"folded", 1}} {
			m := bleve.NewMatchQuery(w)
			m.SetField(f.field)
			m.SetBoost(f.boost)
			any = append(any, m)
		}
		if len([]rune(w)) >= 5 {
			fz := bleve.NewFuzzyQuery(w)
			fz.SetField("folded")
			fz.SetFuzziness(1)
			fz.SetBoost(0.5)
			any = append(any, fz)
		}
		all = append(all, bleve.NewDisjunctionQuery(any...))
	}
	if len(all) == 0 {
		return bleve.NewMatchAllQuery()
	}
	return bleve.NewConjunctionQuery(all...)
}

// Search runs q.
func (x *Index) Search(q Query) (*Result, error) {
	if err := q.check(x.tax); err != nil {
		return nil, err
	}
	must := []query.Query{textQuery(q.Text)}
	if q.Category != "" {
		must = append(must, term("category", q.Category))
	}
	if q.Audience != "" {
		must = append(must, term("audience", q.Audience))
	}
	if q.Language != "" {
		must = append(must, term("language", strings.ToLower(q.Language)))
	}
	if q.Referrals {
		must = append(must, term("referrals", "true"))
	}
	switch q.Scope {
	case ScopeLocal:
		must = append(must, term("origin", "local"))
	case ScopePartners:
		must = append(must, term("origin", "partner"))
	}
	if q.Near != nil && q.RadiusKm > 0 {
		g := bleve.NewGeoDistanceQuery(q.Near.Lon, q.Near.Lat, fmt.Sprintf("%gkm", q.RadiusKm))
		g.SetField("geo")
		must = append(must, g)
	}
	var at time.Time
	if q.OpenAt != nil {
		at = q.OpenAt.In(x.loc)
		minute := at.Hour()*60 + at.Minute()
		// Candidates: open in this half hour of the week, or with an
		// exception that day; each is then checked exactly.
		must = append(must, bleve.NewDisjunctionQuery(
			term("open", bucketTerm(at.Weekday(), minute)),
			term("exception", at.Format(time.DateOnly))))
	}
	req := bleve.NewSearchRequest(bleve.NewConjunctionQuery(must...))
	req.Fields = nil
	req.AddFacet("category", bleve.NewFacetRequest("category", 100))
	req.AddFacet("organization", bleve.NewFacetRequest("actor", 50))
	if q.SortBy == "distance" {
		gs, err := search.NewSortGeoDistance("geo", "km", q.Near.Lon, q.Near.Lat, false)
		if err != nil {
			return nil, err
		}
		req.SortByCustom(search.SortOrder{gs, &search.SortDocID{}})
	}
	exactOpen := q.OpenAt != nil
	if exactOpen {
		req.From, req.Size = 0, maxOpenScan
	} else {
		req.From, req.Size = (q.Page-1)*q.PerPage, q.PerPage
	}
	res, err := x.bi.Search(req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Result{Total: int(res.Total), Facets: facets(res)}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var hits []Hit
	for _, h := range res.Hits {
		sm := x.docs[h.ID]
		if sm == nil {
			continue
		}
		open := sm.schedule.OpenAt(x.now(), x.loc)
		if exactOpen {
			if !sm.schedule.OpenAt(at, x.loc) {
				continue
			}
		}
		hit := Hit{URI: h.ID, Service: sm.doc.Service, Actor: sm.doc.Actor, Provider: sm.doc.Provider, Local: sm.doc.Local, OpenNow: open, Score: h.Score}
		if q.Near != nil && len(sm.doc.Points) > 0 {
			best := distanceKm(*q.Near, sm.doc.Points[0])
			for _, p := range sm.doc.Points[1:] {
				best = min(best, distanceKm(*q.Near, p))
			}
			hit.DistanceKm = &best
		}
		hits = append(hits, hit)
	}
	if exactOpen {
		out.Total = len(hits)
		start := min((q.Page-1)*q.PerPage, len(hits))
		hits = hits[start:min(start+q.PerPage, len(hits))]
	}
	out.Hits = hits
	return out, nil
}

func facets(res *bleve.SearchResult) map[string][]FacetCount {
	out := map[string][]FacetCount{}
	for name, f := range res.Facets {
		var counts []FacetCount
		if f.Terms != nil {
			for _, t := range f.Terms.Terms() {
				counts = append(counts, FacetCount{Value: t.Term, Count: t.Count})
			}
		}
		sort.SliceStable(counts, func(i, j int) bool { return counts[i].Count > counts[j].Count })
		out[name] = counts
	}
	return out
}
