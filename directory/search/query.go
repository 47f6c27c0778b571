package search

import (
	"errors"
	"fmt"
	"math"
	mathbits "math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/RoaringBitmap/roaring/v2"

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
	HasPlaces bool // only services with places free now
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
	minFuzzy    = 5 // letters a word needs to match with a typo
)

// ErrQuery wraps every problem with a query.
var ErrQuery = errors.New("search: bad query")

// ErrNotReady reports an index still being built at start.
var ErrNotReady = errors.New("search: the index is being built, try again in a few seconds")

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
	Points     []directory.Point // of its locations, for a map
	// AreaOnly: the service has no place; Points are the centres of the
	// postcodes it serves, and DistanceKm is to the nearest of them.
	AreaOnly bool
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
	// Partial is set when no service has every word of the text: the
	// hits are those with some of them, the most words first. Matched
	// lists the words some hit has, Missing those no service has.
	Partial bool
	Matched []string
	Missing []string
}

// partialWord is what each word found adds to a partial match's score,
// above anything the words' weights add.
const partialWord = 1000

// termsBitmap returns the services with any of the terms.
func (x *Index) termsBitmap(terms []uint32) *roaring.Bitmap {
	bs := make([]*roaring.Bitmap, len(terms))
	for i, id := range terms {
		bs[i] = x.posts[id]
	}
	return roaring.FastOr(bs...)
}

// wordOf returns the word of the i-th required clause.
func wordOf(cs []clause, i int) string {
	for _, c := range cs {
		if c.optional {
			continue
		}
		if i == 0 {
			return c.word
		}
		i--
	}
	return ""
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
	// Written so that NaN, which compares false, is out of range too.
	if q.Near != nil && !(q.Near.Lat >= -90 && q.Near.Lat <= 90 && q.Near.Lon >= -180 && q.Near.Lon <= 180) {
		p = append(p, "near is outside WGS84 coordinates")
	}
	if !(q.RadiusKm >= 0 && q.RadiusKm <= maxRadiusKm) {
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

// Weights of where a query word is found, multiplied by the rarity of
// the term: a word of the name counts more than one of the description,
// an exact word more than one with a typo.
const (
	wName   = 3.0
	wText   = 1.0
	wLabel  = 0.4 // a category's label: below the service's own words
	wFolded = 1.0
	wTypo   = 0.5
)

// clause is one query word: the terms that satisfy it, with weights.
type clause struct {
	word     string
	terms    []uint32
	weights  []float64
	optional bool // a stop word: scores, but is not required
	// alt also satisfies the clause: for a concept of the lexicon, the
	// services that have every word of the phrase that named it.
	alt *roaring.Bitmap
}

// clauses analyses the query text; missing are the words (not stop
// words) that are in no document at all.
func (x *Index) clauses(text string) (cs []clause, missing []string) {
	for _, w := range words(text) {
		c := clause{word: w}
		add := func(key string, weight float64) {
			if id, found := x.terms[key]; found {
				for i, t := range c.terms {
					if t == id {
						c.weights[i] = max(c.weights[i], weight)
						return
					}
				}
				c.terms = append(c.terms, id)
				c.weights = append(c.weights, weight)
			}
		}
		for _, l := range directory.Langs {
			for _, st := range x.an.stems(l, w) {
				add(kName+string(l)+":"+st, wName)
				add(kText+string(l)+":"+st, wText)
				add(kLabel+string(l)+":"+st, wLabel)
			}
		}
		add(kFolded+w, wFolded)
		for _, v := range x.typos(w) {
			add(kFolded+v, wTypo)
		}
		c.optional = x.an.stopWord(w)
		if len(c.terms) == 0 {
			if !c.optional {
				missing = append(missing, w)
			}
			continue
		}
		cs = append(cs, c)
	}
	return x.conceptClauses(text, cs), missing
}

// conceptClauses adds a clause for each lexicon concept the text names:
// its words are then no longer required (they still score), the concept
// is, through the services whose name or description holds it in any
// language ("banque alimentaire" finds "Voedselpakketten").
func (x *Index) conceptClauses(text string, cs []clause) []clause {
	ws := words(text)
	covered := map[string]bool{}
	seenConcept := map[string]bool{}
	var extra []clause
	for _, l := range directory.Langs {
		var seq []string
		var at []int // the word of each stem
		for i, w := range ws {
			if st := x.an.word(l, w); len(st) > 0 {
				seq, at = append(seq, st[0]), append(at, i)
			}
		}
		for _, f := range x.lex.find(l, seq) {
			if seenConcept[f.concept] {
				continue
			}
			var c clause
			c.word = f.text
			for key, weight := range map[string]float64{kConceptN + f.concept: wName, kConceptT + f.concept: wText} {
				if id, ok := x.terms[key]; ok {
					c.terms, c.weights = append(c.terms, id), append(c.weights, weight)
				}
			}
			if len(c.terms) == 0 {
				continue
			}
			seenConcept[f.concept] = true
			var all []*roaring.Bitmap
			for _, i := range at[f.from:f.to] {
				covered[ws[i]] = true
				for _, wc := range cs {
					if wc.word == ws[i] {
						all = append(all, x.termsBitmap(wc.terms))
					}
				}
			}
			if len(all) == f.to-f.from {
				c.alt = roaring.FastAnd(all...)
			}
			extra = append(extra, c)
		}
	}
	for i := range cs {
		if covered[cs[i].word] {
			cs[i].optional = true
		}
	}
	return append(cs, extra...)
}

// typos returns the indexed words one edit (insertion, deletion or
// substitution) away from w, for words of minFuzzy letters or more.
func (x *Index) typos(w string) []string {
	r := []rune(w)
	if len(r) < minFuzzy {
		return nil
	}
	found := map[string]bool{}
	consider := func(c string) {
		if c != w && editDistanceOne([]rune(c), r) {
			found[c] = true
		}
	}
	for _, c := range x.near[w] { // w is one of their deletions: insertion
		consider(c)
	}
	for i := range r {
		v := string(r[:i]) + string(r[i+1:])
		if _, ok := x.terms[kFolded+v]; ok { // deletion
			consider(v)
		}
		for _, c := range x.near[v] { // substitution
			consider(c)
		}
	}
	out := make([]string, 0, len(found))
	for c := range found {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// editDistanceOne reports whether a and b differ by at most one edit.
func editDistanceOne(a, b []rune) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a)-len(b) > 1 {
		return false
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		return string(a[i+1:]) == string(b[min(i+1, len(b)):])
	}
	return string(a[i+1:]) == string(b[i:])
}

// post returns the bitmap of a term key, or an empty one.
func (x *Index) post(key string) *roaring.Bitmap {
	if id, ok := x.terms[key]; ok {
		return x.posts[id]
	}
	return roaring.New()
}

// cells returns the slots with a point in the map cells that cover the
// circle, with fine cells for short radii and wide ones for long.
func (x *Index) cells(c directory.Point, radiusKm float64) *roaring.Bitmap {
	dLat := radiusKm / 111.2
	dLon := radiusKm / (111.32 * math.Max(0.01, math.Cos(c.Lat*math.Pi/180)))
	kind, size := kCell, cellDeg
	if (2*dLat/cellDeg+2)*(2*dLon/cellDeg+2) > 400 {
		kind, size = kWide, wideDeg
	}
	var bs []*roaring.Bitmap
	for i := int(math.Floor((c.Lat - dLat) / size)); i <= int(math.Floor((c.Lat+dLat)/size)); i++ {
		for j := int(math.Floor((c.Lon - dLon) / size)); j <= int(math.Floor((c.Lon+dLon)/size)); j++ {
			if id, ok := x.terms[kind+strconv.Itoa(i)+":"+strconv.Itoa(j)]; ok {
				bs = append(bs, x.posts[id])
			}
		}
	}
	return roaring.FastOr(bs...)
}

// matchPool keeps the buffers of matches between searches: a broad
// search at 100,000 services matches tens of thousands.
var matchPool = sync.Pool{New: func() any { return new([]match) }}

// scorePool keeps the per-slot score arrays between searches.
var scorePool = sync.Pool{New: func() any { return new([]float64) }}

// weighted is a term of a query word, with what it adds to the score.
type weighted struct {
	post   *roaring.Bitmap
	weight float64
}

// score returns the scores of the candidates, by slot, in an array taken
// from scorePool that is zero outside cand; the caller zeroes what it
// reads before putting it back. Each word adds the weight of
// the best of its terms that a candidate has (scoring holds each word's
// terms, highest weight first). Bitmap operations find, term by term, the
// candidates not yet scored for the word that have it, instead of asking
// each candidate's membership term after term.
func (x *Index) score(cand *roaring.Bitmap, scoring [][]weighted) []float64 {
	scores := *scorePool.Get().(*[]float64)
	if len(scores) < len(x.hot) {
		scores = make([]float64, len(x.hot)+len(x.hot)/4)
	}
	var slots [256]uint32
	for _, terms := range scoring {
		rest := cand
		for j, w := range terms {
			hit := roaring.And(rest, w.post)
			it := hit.ManyIterator()
			for n := it.NextMany(slots[:]); n > 0; n = it.NextMany(slots[:]) {
				for _, slot := range slots[:n] {
					scores[slot] += w.weight
				}
			}
			if j == len(terms)-1 {
				break
			}
			if rest == cand {
				rest = roaring.AndNot(cand, hit)
			} else {
				rest.AndNot(hit)
			}
			if rest.IsEmpty() {
				break
			}
		}
	}
	return scores
}

// match is a candidate that passed every filter.
type match struct {
	slot  uint32
	order uint32 // hot[slot].Order, here for the sort
	score float64
	dist  float64
	key   float64 // what ranks it, lower first: -score, or dist
}

// Search runs q.
func (x *Index) Search(q Query) (*Result, error) {
	if err := q.check(x.tax); err != nil {
		return nil, err
	}
	var at time.Time
	var atDate string
	var atMin directory.Clock
	sure := roaring.New()
	if q.OpenAt != nil {
		at = q.OpenAt.In(x.loc)
		atDate, atMin = at.Format(time.DateOnly), directory.Clock(at.Hour()*60+at.Minute())
	}
	now := x.now()
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := &Result{Facets: map[string][]FacetCount{"category": {}, "organization": {}}}

	cs, missing := x.clauses(q.Text)
	// Candidates: the intersection of every required word and filter.
	// When the words together find nothing (one is in no service, or no
	// service has them all), the services with any of them are the
	// candidates, ranked first by how many words they have (partial).
	var must, wordSets []*roaring.Bitmap
	for _, c := range cs {
		if c.optional {
			continue
		}
		set := x.termsBitmap(c.terms)
		if c.alt != nil {
			set.Or(c.alt)
		}
		wordSets = append(wordSets, set)
	}
	partial := len(missing) > 0
	if !partial && len(wordSets) > 1 && roaring.FastAnd(wordSets...).IsEmpty() {
		partial = true
	}
	switch {
	case partial && len(wordSets) == 0:
		out.Partial, out.Missing = true, missing
		return out, nil
	case partial:
		must = append(must, roaring.FastOr(wordSets...))
	default:
		must = append(must, wordSets...)
	}
	filter := func(key string) { must = append(must, x.post(key)) }
	if q.Category != "" {
		filter(kCategory + q.Category)
	}
	if q.Audience != "" {
		filter(kAudience + q.Audience)
	}
	if q.Language != "" {
		filter(kLanguage + directory.Fold(q.Language))
	}
	if q.Referrals {
		filter(kReferral + "true")
	}
	if q.HasPlaces {
		filter(kPlaces)
	}
	if q.Scope == ScopeLocal || q.Scope == ScopePartners {
		filter(kOrigin + q.Scope)
	}
	if q.OpenAt != nil {
		// Open in this half hour of the week, or with an exception that
		// day, or a dated change of hours that month; each is then
		// checked exactly (its schedule's periods apply and lift
		// themselves by the date, without reindexing).
		changed := roaring.Or(x.post(kExcept+atDate), x.post(kPeriod+atDate[:7]))
		open := x.post(bucketTerm(kOpen, at.Weekday(), at.Hour()*60+at.Minute()))
		must = append(must, roaring.Or(open, changed))
		// Open all that half hour (open in it, and no slot opening or
		// closing within it), with no exception that day and no change
		// that month: no need to check.
		sure = roaring.AndNot(open, roaring.Or(x.post(bucketTerm(kOpenPart, at.Weekday(), at.Hour()*60+at.Minute())), changed))
	}
	if q.Near != nil && q.RadiusKm > 0 {
		must = append(must, x.cells(*q.Near, q.RadiusKm))
	}
	var cand *roaring.Bitmap
	switch len(must) {
	case 0:
		cand = x.live
	case 1:
		cand = must[0]
	default:
		cand = roaring.FastAnd(must...)
	}

	if partial {
		// Half the words at least, or a query of one rare word and many
		// unknown ones would answer with anything.
		out.Partial, out.Missing = true, missing
		need := (len(wordSets) + len(missing) + 1) / 2
		if need > 1 {
			counts := map[uint32]int{}
			for _, ws := range wordSets {
				it := roaring.And(cand, ws).Iterator()
				for it.HasNext() {
					counts[it.Next()]++
				}
			}
			keep := roaring.New()
			for slot, k := range counts {
				if k >= need {
					keep.Add(slot)
				}
			}
			cand = keep
		}
	}

	// Exact checks, scores, facets.
	idf := func(id uint32) float64 {
		return math.Log(1 + float64(len(x.byURI))/float64(1+x.posts[id].GetCardinality()))
	}
	// Each word's terms by weight, highest first: the first a candidate
	// has is the word's score for it.
	scoring := make([][]weighted, len(cs))
	for i, c := range cs {
		for j, id := range c.terms {
			if x.posts[id].IsEmpty() {
				continue
			}
			scoring[i] = append(scoring[i], weighted{x.posts[id], c.weights[j] * idf(id)})
		}
		sort.Slice(scoring[i], func(a, b int) bool { return scoring[i][a].weight > scoring[i][b].weight })
	}
	orgs := make([]int, len(x.actors))
	var catCount [hotCats]int
	// The matches as a bitmap, for counting categories beyond the first
	// hotCats, and only then: when exact checks drop candidates.
	exact := (q.OpenAt != nil || (q.Near != nil && q.RadiusKm > 0)) && len(x.catCodes) > hotCats
	var kept *roaring.Bitmap
	if exact {
		kept = roaring.New()
	}
	var nx, ny, nz, maxChord float64
	if q.Near != nil {
		nx, ny, nz = unit(*q.Near)
		maxChord = math.Inf(1)
		if q.RadiusKm > 0 {
			maxChord = chordOf(q.RadiusKm) * (1 + 1e-9)
		}
	}
	byDistance := q.SortBy == "distance"
	var scores []float64
	if len(scoring) > 0 {
		scores = x.score(cand, scoring)
		defer scorePool.Put(&scores)
	}
	if partial {
		// How many words each candidate has weighs above what they are.
		matched := map[string]bool{}
		for i, ws := range wordSets {
			in := roaring.And(cand, ws)
			if !in.IsEmpty() {
				matched[wordOf(cs, i)] = true
			}
			it := in.Iterator()
			for it.HasNext() {
				scores[it.Next()] += partialWord
			}
		}
		for _, c := range cs {
			if matched[c.word] {
				out.Matched = append(out.Matched, c.word)
			}
		}
	}
	buf := matchPool.Get().(*[]match)
	defer func() { matchPool.Put(buf) }()
	ms := (*buf)[:0]
	// Candidates are read a batch at a time, their records first copied
	// in a tight loop: the loads are independent, so the processor has
	// many memory reads in flight instead of one per candidate.
	var slots [256]uint32
	var hots [256]hotSlot
	it := cand.ManyIterator()
	for {
		n := it.NextMany(slots[:])
		if n == 0 {
			break
		}
		for i, slot := range slots[:n] {
			hots[i] = x.hot[slot]
		}
		for i, slot := range slots[:n] {
			h := &hots[i]
			// Every scored slot is a candidate: reading its score
			// clears it for the next search.
			m := match{slot: slot, order: h.Order, dist: math.Inf(1)}
			if scores != nil {
				m.score, scores[slot] = scores[slot], 0
			}
			if q.Near != nil {
				// dist holds the squared chord until the page is cut.
				m.dist = h.chord2(nx, ny, nz)
				if h.Bits&hotMany != 0 {
					for _, p := range x.more[slot] {
						px, py, pz := unit(p)
						dx, dy, dz := px-nx, py-ny, pz-nz
						m.dist = min(m.dist, dx*dx+dy*dy+dz*dz)
					}
				}
				if m.dist > maxChord {
					continue
				}
			}
			if q.OpenAt != nil && !sure.Contains(slot) && !x.sched[slot].openOn(atDate, at.Weekday(), atMin) {
				continue
			}
			m.key = -m.score
			if byDistance {
				m.key = m.dist
			}
			ms = append(ms, m)
			orgs[h.actor()]++
			for w, bits := range h.Cats {
				for bits != 0 {
					catCount[w*32+mathbits.TrailingZeros32(bits)]++
					bits &= bits - 1
				}
			}
			if exact {
				kept.Add(slot)
			}
		}
	}
	if !exact {
		kept = cand
	}
	*buf = ms
	out.Total = len(ms)
	cats := map[string]int{}
	for id, c := range x.catCodes {
		n := 0
		if id < hotCats {
			n = catCount[id]
		} else {
			n = int(kept.AndCardinality(x.post(kCategory + c)))
		}
		if n > 0 {
			cats[c] = n
		}
	}
	out.Facets["category"] = topCounts(cats, 100)
	out.Facets["organization"] = x.topActors(orgs, 50)

	// Ranking: by distance or by score; ties by a hash of the service's
	// names and association (contentOrder), the same on every node, after
	// every restart and every reload; then by address.
	less := func(a, b match) bool {
		if a.key != b.key {
			return a.key < b.key
		}
		if a.order != b.order {
			return a.order < b.order
		}
		return x.slots[a.slot].uri < x.slots[b.slot].uri
	}
	start := (q.Page - 1) * q.PerPage
	if start >= len(ms) {
		return out, nil
	}
	top := firstN(ms, start+q.PerPage, less)
	for _, m := range top[start:] {
		sm := x.summaryOf(x.slots[m.slot])
		hit := Hit{URI: sm.doc.URI, Service: sm.doc.Service, Actor: sm.doc.Actor, Provider: sm.doc.Provider, Local: sm.doc.Local,
			OpenNow: sm.doc.Service.Schedule.OpenAt(now, x.loc), Score: m.score, Points: sm.doc.Points, AreaOnly: sm.doc.AreaOnly}
		if q.Near != nil && len(sm.doc.Points) > 0 {
			// Exact, from the points: the scan's chord is within
			// millimetres.
			d := math.Inf(1)
			for _, p := range sm.doc.Points {
				d = min(d, distanceKm(*q.Near, p))
			}
			hit.DistanceKm = &d
		}
		out.Hits = append(out.Hits, hit)
	}
	return out, nil
}

// firstN returns the n first matches in order, sorted: a bounded heap
// when n is small against the matches, a full sort otherwise.
func firstN(ms []match, n int, less func(a, b match) bool) []match {
	cmp := func(a, b match) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	}
	if n >= len(ms)/4 {
		slices.SortFunc(ms, cmp)
		return ms[:min(n, len(ms))]
	}
	// h is a max-heap (by less) of the n best seen so far.
	h := make([]match, 0, n)
	down := func(i int) {
		for {
			l, worst := 2*i+1, i
			if l < len(h) && less(h[worst], h[l]) {
				worst = l
			}
			if r := l + 1; r < len(h) && less(h[worst], h[r]) {
				worst = r
			}
			if worst == i {
				return
			}
			h[i], h[worst] = h[worst], h[i]
			i = worst
		}
	}
	for _, m := range ms {
		if len(h) < n {
			h = append(h, m)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !less(h[p], h[i]) {
					break
				}
				h[p], h[i] = h[i], h[p]
				i = p
			}
		} else if m.key <= h[0].key && less(m, h[0]) { // most are out at the first test
			h[0] = m
			down(0)
		}
	}
	slices.SortFunc(h, cmp)
	return h
}

// topActors returns the n actors with the most matches, from counts by
// actor id. There may be thousands of actors: they are ranked by count
// first, and their names compared only to break ties.
func (x *Index) topActors(counts []int, n int) []FacetCount {
	type actorCount struct{ id, n int }
	var top []actorCount
	for id, c := range counts {
		if c > 0 {
			top = append(top, actorCount{id, c})
		}
	}
	// Only the counts of the nth best and above matter: select them
	// before sorting when there are many more.
	if len(top) > 4*n {
		cs := make([]int, len(top))
		for i, a := range top {
			cs[i] = a.n
		}
		slices.Sort(cs)
		floor := cs[len(cs)-n]
		kept := top[:0]
		for _, a := range top {
			if a.n >= floor {
				kept = append(kept, a)
			}
		}
		top = kept
	}
	slices.SortFunc(top, func(a, b actorCount) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(x.actors[a.id], x.actors[b.id])
	})
	out := make([]FacetCount, 0, min(n, len(top)))
	for _, a := range top[:min(n, len(top))] {
		out = append(out, FacetCount{Value: x.actors[a.id], Count: a.n})
	}
	return out
}

func topCounts(counts map[string]int, n int) []FacetCount {
	out := make([]FacetCount, 0, len(counts))
	for v, c := range counts {
		out = append(out, FacetCount{Value: v, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out[:min(n, len(out))]
}
