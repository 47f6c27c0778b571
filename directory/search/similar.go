package search

import (
	"fmt"
	"math"
	mathbits "math/bits"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/maillage/maillage/directory"
)

// Similar services: before an association publishes a service, and on
// the network's overlap view, the services that may already do the same
// nearby. A score in [0, 1] is what they do alike, weighed by how near
// they are, each part with its reason:
//
//   - theme: the categories shared, parents included (Jaccard);
//   - name: the words of their names in any of the three languages,
//     stemmed and accent-folded (Dice), so that "Épicerie sociale" and
//     "Sociale kruidenier" meet through their shared words and stems;
//   - description: the terms their descriptions share, over the shorter
//     one's (the same from either side);
//   - audience and languages spoken: what they share (Jaccard);
//   - place: the distance between their nearest points, 1 up to 300 m,
//     falling to 0 at 5 km. It multiplies the rest (from 0.4 far away to
//     1 next door; 0.7 when a side has no point): the same service in
//     another commune is not a duplicate, whatever its name.
//
// The weights and the threshold were chosen on the labelled pairs of
// testdata/similar-pairs.json (TestSimilarityOnLabelledPairs).

// Weights of what the services do alike; they sum to 1.
const (
	simTheme    = 0.35
	simName     = 0.35
	simText     = 0.10
	simAudience = 0.10
	simLanguage = 0.10
)

// The place factor: farFactor far away, 1 next door, noPlace unknown.
const (
	farFactor = 0.4
	noPlace   = 0.7
)

// SimilarThreshold is the score from which two services are likely the
// same service (or two that duplicate each other).
const SimilarThreshold = 0.48

// placeFull and placeZero bound the place part: full up to placeFull km
// apart, none from placeZero km.
const (
	placeFull = 0.3
	placeZero = 3.0
)

// namePool keeps the per-slot name-term counts between lookups.
var namePool = sync.Pool{New: func() any { return new([]uint8) }}

// Reason is one part of a similarity score.
type Reason struct {
	Part   string  `json:"part"` // theme, place, name, description, audience, language
	Score  float64 `json:"score"`
	Detail string  `json:"detail,omitempty"`
}

// SimilarHit is a service like the one asked about.
type SimilarHit struct {
	URI        string
	Service    *directory.Service
	Actor      string
	Provider   string
	Score      float64
	DistanceKm *float64
	Reasons    []Reason
}

// features is what a comparison needs of one side.
type features struct {
	cats  map[string]bool // expanded
	names map[string]bool // stems and folded words of the names
	// concepts of the lexicon in the names and in the description, each
	// with the phrase that said it ("" when read from the postings).
	concepts, descConcepts map[string]string
	// ages are the age groups of the lexicon its texts name (children,
	// teenagers, …), with the phrase that said it.
	ages map[string]string
	// span is the range of ages its name or age fields say (ages.go).
	span      *ageRange
	audiences []string
	languages []string
	points    []directory.Point
}

func (x *Index) featuresOf(d Doc) features {
	d = placeByArea(d)
	f := features{cats: map[string]bool{}, names: map[string]bool{}, points: d.Points}
	s := d.Service
	for _, c := range x.tax.Expand(s.Categories) {
		f.cats[c] = true
	}
	// Numbers and the words of ages ("0-3 ans", "6-12 jaar") say whom,
	// not what: the age ranges compare them (ages.go).
	for _, l := range directory.Langs {
		for _, t := range x.an.stems(l, s.Name[l]+" "+s.AlternateName[l]) {
			if !ageToken(t) {
				f.names[t] = true
			}
		}
	}
	for _, t := range append(s.Name.All(), s.AlternateName.All()...) {
		for _, w := range words(t) {
			if !x.an.stopWord(w) && len(w) > 1 && !ageToken(w) {
				f.names[w] = true
			}
		}
	}
	f.audiences, f.languages = s.Audiences, s.Languages
	f.concepts = x.lex.concepts(x.an, nameText(s))
	f.descConcepts = x.lex.concepts(x.an, s.Description)
	f.ages = map[string]string{}
	f.span = agesOf(s)
	for _, set := range []map[string]string{f.descConcepts, f.concepts} {
		for c, p := range set {
			if slices.Contains(ageGroups, c) {
				f.ages[c] = p
			}
		}
	}
	return f
}

// ageGroups are the lexicon's concepts of age: two services whose texts
// name only different ones serve different people ("enfants ≠
// adolescents"), whatever else they share.
var ageGroups = []string{"early-childhood", "children", "teenagers", "young-adults", "adults", "seniors"}

// ageMismatch is the factor of a score when the two sides name age
// groups and none in common.
const ageMismatch = 0.7

// conceptName scores the names through the lexicon: the concepts both
// names hold (Dice), or a's name found in b's description and b's in
// a's (counted at 0.8), with the phrases that met as the reason.
func conceptName(a, b features) (float64, string) {
	best, detail := 0.0, ""
	if len(a.concepts) > 0 && len(b.concepts) > 0 {
		var shared []string
		for c, pa := range a.concepts {
			if pb, ok := b.concepts[c]; ok {
				shared = append(shared, meet(pa, pb))
			}
		}
		if len(shared) > 0 {
			slices.Sort(shared)
			best, detail = 2*float64(len(shared))/float64(len(a.concepts)+len(b.concepts)), strings.Join(shared, ", ")
		}
	}
	if n := len(a.concepts) + len(b.concepts); n > 0 {
		var met []string
		for c, pa := range a.concepts {
			if pb, ok := b.descConcepts[c]; ok {
				met = append(met, meet(pa, pb))
			}
		}
		for c, pb := range b.concepts {
			if pa, ok := a.descConcepts[c]; ok {
				met = append(met, meet(pa, pb))
			}
		}
		if s := 0.8 * float64(len(met)) / float64(n); s > best && len(met) > 0 {
			slices.Sort(met)
			best, detail = s, "description: "+strings.Join(slices.Compact(met), ", ")
		}
	}
	return best, detail
}

// meet writes two phrases that mean the same: "mantelzorg ≈ aidant proche".
func meet(a, b string) string {
	switch {
	case a == b || b == "":
		return a
	case a == "":
		return b
	}
	return a + " ≈ " + b
}

// compare scores a and b, with reasons; textShare is the description
// part (descriptionShare), computed by the caller. The same from either
// side.
func compare(a, b features, textShare float64, l directory.Lang) (float64, *float64, []Reason) {
	var reasons []Reason
	add := func(part string, score, weight float64, detail string) float64 {
		if score > 0 {
			reasons = append(reasons, Reason{Part: part, Score: round2(score), Detail: detail})
		}
		return score * weight
	}
	// Only the parts known on both sides count: a service that does not
	// say its audience is not unlike one that does.
	total, weights := 0.0, 0.0
	shared := 0
	var sharedCats []string
	for c := range a.cats {
		if b.cats[c] {
			shared++
			sharedCats = append(sharedCats, c)
		}
	}
	slices.Sort(sharedCats)
	if len(a.cats) > 0 && len(b.cats) > 0 {
		total += add("theme", float64(shared)/float64(len(a.cats)+len(b.cats)-shared), simTheme, strings.Join(sharedCats, ", "))
		weights += simTheme
	}
	common := 0
	var words []string
	for w := range a.names {
		if b.names[w] {
			common++
			words = append(words, w)
		}
	}
	slices.Sort(words)
	if n := len(a.names) + len(b.names); n > 0 {
		ns, detail := 2*float64(common)/float64(n), strings.Join(words, " ")
		if cs, cd := conceptName(a, b); cs > ns {
			ns, detail = cs, cd
		}
		total += add("name", ns, simName, detail)
		weights += simName
	}
	if textShare >= 0 {
		total += add("description", textShare, simText, "")
		weights += simText
	}
	if len(a.audiences) > 0 && len(b.audiences) > 0 {
		j := jaccard(a.audiences, b.audiences)
		total += add("audience", j, simAudience, "")
		if j == 0 {
			// What lowers the score is said too.
			reasons = append(reasons, Reason{Part: "audience", Detail: strings.Join(a.audiences, ", ") + " ≠ " + strings.Join(b.audiences, ", ")})
		}
		weights += simAudience
	}
	if len(a.languages) > 0 && len(b.languages) > 0 {
		total += add("language", jaccard(a.languages, b.languages), simLanguage, "")
		weights += simLanguage
	}
	if weights > 0 {
		total /= weights
	}
	if a.span.apart(b.span) {
		total *= ageMismatch
		reasons = append(reasons, Reason{Part: "audience", Detail: a.span.said + " ≠ " + b.span.said})
	} else if len(a.ages) > 0 && len(b.ages) > 0 {
		var as, bs []string
		shared := false
		for c, p := range a.ages {
			as = append(as, p)
			_, in := b.ages[c]
			shared = shared || in
		}
		for _, p := range b.ages {
			bs = append(bs, p)
		}
		if !shared {
			slices.Sort(as)
			slices.Sort(bs)
			total *= ageMismatch
			reasons = append(reasons, Reason{Part: "audience", Detail: strings.Join(as, ", ") + " ≠ " + strings.Join(bs, ", ")})
		}
	}
	factor := noPlace
	var dist *float64
	if len(a.points) > 0 && len(b.points) > 0 {
		d := math.Inf(1)
		for _, p := range a.points {
			for _, q := range b.points {
				d = min(d, distanceKm(p, q))
			}
		}
		dist = &d
		ps := placeScore(d)
		factor = farFactor + (1-farFactor)*ps
		reasons = append(reasons, Reason{Part: "place", Score: round2(ps), Detail: fmt.Sprintf("%.1f km", d)})
	}
	return min(1, total*factor), dist, reasons
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func placeScore(km float64) float64 {
	switch {
	case km <= placeFull:
		return 1
	case km >= placeZero:
		return 0
	}
	return (placeZero - km) / (placeZero - placeFull)
}

func jaccard(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	shared := 0
	for _, x := range a {
		if slices.Contains(b, x) {
			shared++
		}
	}
	return float64(shared) / float64(len(a)+len(b)-shared)
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// descriptionKeys are the terms of d's description and eligibility, as
// the index keys them (kText): what the description part compares.
func (x *Index) descriptionKeys(d Doc) map[string]bool {
	keys := map[string]bool{}
	for _, l := range directory.Langs {
		for _, t := range x.an.stems(l, d.Service.Description[l]+" "+d.Service.Eligibility[l]) {
			keys[kText+string(l)+":"+t] = true
		}
	}
	return keys
}

// descriptionShare is the description part: the terms two descriptions
// share over the shorter one's (the overlap coefficient), the same from
// either side; -1 when a side says nothing, and the part does not count.
func descriptionShare(common, na, nb int) float64 {
	if na == 0 || nb == 0 {
		return -1
	}
	return float64(common) / float64(min(na, nb))
}

// Similar returns the indexed services most like d, best first: at most
// n, scoring at least minScore, d itself (by URI) left out. Candidates
// are the services that share a theme (a parent's too) or a concept with
// d, or stand within placeZero km of it (without a theme, those sharing
// a name word too); each is bounded, then scored.
func (x *Index) Similar(d Doc, n int, minScore float64, l directory.Lang) ([]SimilarHit, error) {
	if d.Service == nil {
		return nil, fmt.Errorf("%w: no service to compare", ErrQuery)
	}
	if n < 1 || n > MaxPerPage {
		return nil, fmt.Errorf("%w: between 1 and %d similar services", ErrQuery, MaxPerPage)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	a := x.featuresOf(d)
	// Candidates: the services sharing a theme (a parent's too), or a
	// concept of the lexicon, or near it; without a theme, those sharing
	// a name term too. Any pair that may reach the threshold is among
	// them from either side.
	var bs []*roaring.Bitmap
	for c := range a.cats {
		bs = append(bs, x.post(kCategory+c))
	}
	for _, p := range d.Points {
		bs = append(bs, x.cells(p, placeZero))
	}
	var nameTerms []uint32
	for _, l := range directory.Langs {
		for _, t := range x.an.stems(l, d.Service.Name[l]+" "+d.Service.AlternateName[l]) {
			if id, ok := x.terms[kName+string(l)+":"+t]; ok {
				nameTerms = append(nameTerms, id)
			}
		}
	}
	for w := range a.names {
		if id, ok := x.terms[kFolded+w]; ok {
			nameTerms = append(nameTerms, id)
		}
	}
	// The services sharing a concept with d may score their names in
	// full through the lexicon: their bound takes the name at its best.
	var byConcept []*roaring.Bitmap
	for c := range a.concepts {
		byConcept = append(byConcept, x.post(kConceptN+c), x.post(kConceptT+c))
	}
	for c := range a.descConcepts {
		byConcept = append(byConcept, x.post(kConceptN+c))
	}
	conceptHit := roaring.FastOr(byConcept...)
	bs = append(bs, conceptHit)
	if len(a.cats) == 0 {
		for _, id := range nameTerms {
			bs = append(bs, x.posts[id])
		}
	}
	cand := roaring.FastOr(bs...)
	if self, ok := x.byURI[d.URI]; ok {
		cand.Remove(self)
	}
	// d's description terms, those the index knows by id: a candidate's
	// are read from its entry's terms.
	descKeys := x.descriptionKeys(d)
	descIDs := map[uint32]bool{}
	for k := range descKeys {
		if id, ok := x.terms[k]; ok {
			descIDs[id] = true
		}
	}
	// An upper bound of each candidate's score from what is cheap to read
	// (its theme bits and first point in the hot record, and how many of
	// d's name words it has anywhere, from the postings), so that only
	// those that may reach minScore are read and scored in full.
	var aMask [3]uint32
	for c := range a.cats {
		if id, ok := x.catIDs[c]; ok && id < hotCats {
			aMask[id/32] |= 1 << (id % 32)
		}
	}
	// How many of d's name terms each candidate has, by slot, in an array
	// from a pool: zeroed back as it is read below.
	hitsBuf := namePool.Get().(*[]uint8)
	defer namePool.Put(hitsBuf)
	if len(*hitsBuf) < len(x.hot) {
		*hitsBuf = make([]uint8, len(x.hot)+len(x.hot)/4)
	}
	nameHits := *hitsBuf
	for _, id := range nameTerms {
		it := roaring.And(x.posts[id], cand).Iterator()
		for it.HasNext() {
			if slot := it.Next(); nameHits[slot] < 255 {
				nameHits[slot]++
			}
		}
	}
	var hx, hy, hz float64
	if len(d.Points) > 0 {
		hx, hy, hz = unit(d.Points[0])
	}
	type bounded struct {
		slot  uint32
		bound float64
	}
	var todo []bounded
	it := cand.Iterator()
	for it.HasNext() {
		slot := it.Next()
		k := nameHits[slot]
		nameHits[slot] = 0
		if x.slots[slot] == nil {
			continue
		}
		h := &x.hot[slot]
		// The parts that may count at their best (the candidate's
		// description, audience and languages are not read yet), the
		// theme from the bits, the name from the postings; with or
		// without the theme, whichever is higher.
		num, den := 0.0, 0.0
		for _, part := range [][2]float64{{simText, b2f(len(descKeys) > 0)}, {simAudience, b2f(len(a.audiences) > 0)}, {simLanguage, b2f(len(a.languages) > 0)}} {
			num += part[0] * part[1]
			den += part[0] * part[1]
		}
		nb := 0.0
		if k > 0 && len(a.names) > 0 {
			nb = min(1, 2*float64(k)/float64(len(a.names)+int(k)))
		}
		if conceptHit.Contains(slot) {
			nb = 1
		}
		num, den = num+simName*nb, den+simName
		bound := num / den
		if len(a.cats) > 0 {
			inter, union := 0, 0
			for i := range aMask {
				inter += mathbits.OnesCount32(aMask[i] & h.Cats[i])
				union += mathbits.OnesCount32(aMask[i] | h.Cats[i])
			}
			tb := 1.0 // categories beyond the bits: unknown, at best
			if len(x.catCodes) <= hotCats && union > 0 {
				tb = float64(inter) / float64(union)
			}
			bound = max(bound, (num+simTheme*tb)/(den+simTheme))
		}
		factor := noPlace
		if len(d.Points) > 0 {
			// The first point only is in the hot record: with more
			// points either side, assume the best.
			if h.Bits&hotMany != 0 || len(d.Points) > 1 {
				factor = 1
			} else if c2 := h.chord2(hx, hy, hz); !math.IsInf(c2, 1) {
				// The chord is shorter than the arc: its score is
				// the higher, a bound.
				factor = farFactor + (1-farFactor)*placeScore(math.Sqrt(c2)*earthKm)
			}
		}
		if round2(bound*factor) >= minScore {
			todo = append(todo, bounded{slot, min(1, bound*factor)})
		}
	}
	// Highest bounds first: once the n best scores found are above the
	// next bound, no other candidate can enter.
	sort.Slice(todo, func(i, j int) bool { return todo[i].bound > todo[j].bound })
	var hits []SimilarHit
	nth := func() float64 {
		if len(hits) < n {
			return -1
		}
		lowest := hits[0].Score
		for _, h := range hits {
			lowest = min(lowest, h.Score)
		}
		return lowest
	}
	complements := map[string]bool{}
	for _, c := range d.Service.Complements {
		complements[c.URI] = true
	}
	for _, c := range todo {
		if c.bound < nth() {
			break
		}
		slot := c.slot
		e := x.slots[slot]
		sm := x.summaryOf(e)
		// Said to complement one another, by either side: not a
		// look-alike.
		if complements[e.uri] || slices.ContainsFunc(sm.doc.Service.Complements, func(c directory.Complement) bool { return c.URI == d.URI && d.URI != "" }) {
			continue
		}
		b := x.featuresOf(sm.doc)
		for _, c := range ageGroups {
			if id, ok := x.terms[kConceptT+c]; ok && x.posts[id].Contains(slot) {
				if _, named := b.ages[c]; !named {
					b.ages[c] = c
				}
			}
		}
		// The summary has no description: its concepts are read from
		// the postings, for those of d's concepts that matter.
		for _, set := range []map[string]string{a.concepts, a.descConcepts} {
			for c := range set {
				if id, ok := x.terms[kConceptT+c]; ok && x.posts[id].Contains(slot) {
					b.descConcepts[c] = ""
				}
			}
		}
		common, nb := 0, 0
		for id := range e.terms.all() {
			if x.textTerms.Contains(id) {
				nb++
				if descIDs[id] {
					common++
				}
			}
		}
		share := descriptionShare(common, len(descKeys), nb)
		score, dist, reasons := compare(a, b, share, l)
		if round2(score) < minScore {
			continue // the threshold applies to the score as shown
		}
		hit := SimilarHit{URI: e.uri, Service: sm.doc.Service, Actor: sm.doc.Actor, Provider: sm.doc.Provider,
			Score: round2(score), DistanceKm: dist, Reasons: reasons}
		if len(hits) < n {
			hits = append(hits, hit)
			continue
		}
		worst := 0
		for i := range hits {
			if hits[i].Score < hits[worst].Score || (hits[i].Score == hits[worst].Score && hits[i].URI > hits[worst].URI) {
				worst = i
			}
		}
		if hit.Score > hits[worst].Score || (hit.Score == hits[worst].Score && hit.URI < hits[worst].URI) {
			hits[worst] = hit
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].URI < hits[j].URI
	})
	return hits[:min(n, len(hits))], nil
}

// Similarity scores two services directly, as Similar would: for a pair
// of documents that need not be indexed (the labelled evaluation, a form
// being filled in against one service).
func (x *Index) Similarity(a, b Doc, l directory.Lang) (float64, []Reason) {
	fa, fb := x.featuresOf(a), x.featuresOf(b)
	ka, kb := x.descriptionKeys(a), x.descriptionKeys(b)
	common := 0
	for k := range ka {
		if kb[k] {
			common++
		}
	}
	share := descriptionShare(common, len(ka), len(kb))
	score, _, reasons := compare(fa, fb, share, l)
	return round2(score), reasons
}
