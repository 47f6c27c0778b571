package search

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/klauspost/compress/s2"

	"github.com/maillage/maillage/directory"
)

// Doc is one service as the index sees it.
type Doc struct {
	URI      string // ActivityPub id: the same key on every node
	Service  *directory.Service
	Actor    string // the providing association
	Provider string // its name
	Local    bool   // offered by this node's association
	Points   []directory.Point
	// AreaOnly is set when the service has no place of its own and the
	// index placed it at the centres of the Brussels postcodes it serves
	// (see placeByArea): found near them, "serves this area".
	AreaOnly bool
}

// nameText is a service's name and alternate name, per language.
func nameText(s *directory.Service) directory.Text {
	t := directory.Text{}
	for _, l := range directory.Langs {
		if v := s.Name[l] + " " + s.AlternateName[l]; v != " " {
			t[l] = v
		}
	}
	return t
}

// placeByArea places a service without a point at the centres of the
// postcodes of its service area, so that a search near one of them finds
// it; its distance then says it serves the area.
func placeByArea(d Doc) Doc {
	if len(d.Points) > 0 || d.Service == nil {
		return d
	}
	for _, pc := range d.Service.Area.Postcodes {
		if c, ok := postcodes[pc]; ok {
			d.Points = append(d.Points, c)
		}
	}
	d.AreaOnly = len(d.Points) > 0
	return d
}

// summary is what a result needs, kept in memory so that a search answers
// without reading the store: the service without its long texts.
type summary struct {
	doc Doc
}

// PartnerDoc is the document of a partner's service as this node
// stores it.
func PartnerDoc(ps *directory.PartnerService) Doc {
	return Doc{URI: ps.URI, Service: ps.Service, Actor: ps.Actor, Provider: ps.Provider, Points: ps.Points}
}

func summarize(d Doc) *summary {
	slim := *d.Service
	slim.Description, slim.Eligibility, slim.ApplicationProcess = nil, nil, nil
	slim.FeesDescription, slim.Interpretation, slim.AlternateName = nil, nil, nil
	slim.Phones, slim.Area = nil, directory.ServiceArea{}
	d.Service = &slim
	return &summary{doc: d}
}

// Index is the search index: an inverted index held in memory. The node
// loads it at start from a snapshot (snapshot.go) and applies the store's
// changes since, or rebuilds it from the store, so that it never
// disagrees with the store after a crash.
//
// Every service gets a slot number; every term (a stemmed word of a name
// in one language, a category, a half hour of the week, a map cell, …)
// has a compressed bitmap of the slots that have it. A search intersects
// the bitmaps of its words and filters, then checks the few candidates
// exactly (distance, opening hours) and ranks them.
//
// bleve was used first and measured: at 100,000 services it answered the
// benchmark mix with a p99 of 182 ms and took 45 s to build, against
// targets of 10 ms and 2 s (see bench_test.go). Its language analysers
// are still used, through the analysis package only.
type Index struct {
	tax *directory.Taxonomy
	loc *time.Location
	now func() time.Time
	an  *analyzers
	lex *lexicon // concepts across languages (lexicon.go)
	// dict compresses the summaries (summarydict.go).
	dict *s2.Dict

	mu    sync.RWMutex
	slots []*entry // by slot; nil when free
	free  []uint32
	byURI map[string]uint32
	live  *roaring.Bitmap
	terms map[string]uint32 // term key → term id
	posts []*roaring.Bitmap // by term id
	// textTerms are the ids of the description terms (kText), to count
	// a service's from its entry's terms (similar.go).
	textTerms *roaring.Bitmap
	// near maps the one-deletion variants of the folded words to the
	// words, to find words one typo away from a query word.
	near map[string][]string
	// Categories seen, for facet counts: the first hotCats are also kept
	// as bits by slot (hotSlot.Cats), counted during the scan of
	// candidates.
	catCodes []string
	catIDs   map[string]int

	// What the scan of candidates reads, by slot, in half a cache line
	// per service: at 100,000 services the scan is bound by memory
	// access, not by arithmetic.
	hot   []hotSlot
	sched []packedSchedule             // for "open at" (schedpack.go)
	more  map[uint32][]directory.Point // points after the first
	// compl are the services each slot says it complements (by URI),
	// for the few that say so: the overlap view checks every pair of
	// look-alikes against them without decoding summaries.
	compl    map[uint32][]string
	actors   []string
	actorIDs map[string]uint32

	// gen counts the changes, for what is computed over the whole index
	// and cached (Coverage).
	gen      uint64
	coverage *Coverage
	covGen   uint64
	cov      *covState // kept up to date once Coverage was asked for
	// decoded counts the summaries decoded since they were last dropped
	// (summaryOf).
	decoded atomic.Int64
	// wall is the real clock, for how old a computation is (now may be a
	// test's clock stopped at an instant, for opening hours).
	wall func() time.Time
}

// hotSlot is what a search reads of every candidate, 32 bytes: two
// services share a cache line, and the whole array at 100,000 services
// (3.2 MB) stays in the processor's caches.
type hotSlot struct {
	// The first point as a unit vector (x, y, z on the sphere) in
	// fixed point, within 3 mm on the ground: a distance check is then a
	// few multiplications. Results shown get their exact distance.
	X, Y, Z int32
	Bits    uint32    // the actor (into actors), and the flags below
	Order   uint32    // tie-break between equal scores: contentOrder
	Cats    [3]uint32 // the first hotCats categories, as bits (catIDs)
}

const (
	hotCats    = 96
	hotMany    = 1 << 31        // more points than the first, in more
	hotNoPoint = 1 << 30        // no point at all
	hotActor   = hotNoPoint - 1 // a billion providers: memory runs out first
	unitScale  = math.MaxInt32
)

func (h *hotSlot) actor() uint32 { return h.Bits & hotActor }

// setPoint sets the first point, or none when p is nil.
func (h *hotSlot) setPoint(p *directory.Point) {
	if p == nil {
		h.X, h.Y, h.Z = 0, 0, 0
		h.Bits |= hotNoPoint
		return
	}
	x, y, z := unit(*p)
	h.X, h.Y, h.Z = int32(math.Round(x*unitScale)), int32(math.Round(y*unitScale)), int32(math.Round(z*unitScale))
	h.Bits &^= hotNoPoint
}

// chord2 returns the squared chord from the unit vector (nx, ny, nz) to
// the slot's first point, +Inf without one.
func (h *hotSlot) chord2(nx, ny, nz float64) float64 {
	if h.Bits&hotNoPoint != 0 {
		return math.Inf(1)
	}
	const inv = 1.0 / unitScale
	dx, dy, dz := float64(h.X)*inv-nx, float64(h.Y)*inv-ny, float64(h.Z)*inv-nz
	return dx*dx + dy*dy + dz*dz
}

// entry is an indexed service.
type entry struct {
	uri   string
	terms termList // every bitmap the slot is in, to leave them on removal

	// The summary, decoded; and its encoding (savedDoc as JSON), once
	// the entry was loaded from a snapshot or written to one. An entry
	// always has one or both: a summary with an encoding may be dropped
	// (dropSummaries) and is decoded again when a result shows it.
	sum atomic.Pointer[summary]
	raw atomic.Pointer[[]byte]
}

// maxDecoded is how many summaries are decoded from their encoding before
// the decoded ones are dropped again: at 10,000 services the decoded
// summaries held about 18 MB, their encodings 11 MB; 4,096 decoded cover
// what a node's visitors look at within minutes.
const maxDecoded = 4096

// summaryOf returns the entry's summary, decoding it if need be.
func (x *Index) summaryOf(e *entry) *summary {
	if s := e.sum.Load(); s != nil {
		return s
	}
	var d savedDoc
	if raw := e.raw.Load(); raw == nil || x.unmarshalSaved(*raw, &d) != nil || d.Service == nil {
		// The snapshot is authenticated: this is a bug, shown as a
		// result without details rather than a failed search.
		d = savedDoc{URI: e.uri, Service: &directory.Service{}}
	}
	s := summarize(Doc(d))
	e.sum.Store(s)
	if x.decoded.Add(1) >= maxDecoded {
		x.dropSummaries()
	}
	return s
}

// unmarshalSaved decodes an encoded summary (encoded).
func (x *Index) unmarshalSaved(raw []byte, d *savedDoc) error {
	b, err := x.dict.Decode(nil, raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, d)
}

// dropSummaries drops the decoded summaries that have an encoding. The
// caller holds x.mu, for reading or writing.
func (x *Index) dropSummaries() {
	x.decoded.Store(0)
	for _, e := range x.slots {
		if e != nil && e.raw.Load() != nil {
			e.sum.Store(nil)
		}
	}
}

// ReleaseCaches drops what the index keeps only to answer faster: the
// decoded summaries that have an encoding, decoded again for the results
// shown, and the memo of analysed words (stemmed again, about a
// microsecond each). A quiet node calls it before handing its free
// memory back (cmd/maillage, idletrim.go): at start the memo holds the
// words of the lexicon's 4,503 phrases, and after a day of searches up
// to 4,096 decoded summaries.
func (x *Index) ReleaseCaches() {
	x.mu.RLock()
	x.dropSummaries()
	x.mu.RUnlock()
	x.an.forget()
}

// Generation moves whenever the index changes (a service put or removed,
// a snapshot loaded): what was read before it moved may have changed.
func (x *Index) Generation() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.gen
}

// Options configure an Index.
type Options struct {
	Taxonomy *directory.Taxonomy
	Location *time.Location // of opening hours; default Europe/Brussels
	Now      func() time.Time
}

// New returns an empty index.
func New(o Options) (*Index, error) {
	if o.Taxonomy == nil {
		o.Taxonomy = directory.DefaultTaxonomy()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		loc, err := time.LoadLocation("Europe/Brussels")
		if err != nil {
			return nil, fmt.Errorf("search: time zone: %w", err)
		}
		o.Location = loc
	}
	an, err := newAnalyzers()
	if err != nil {
		return nil, err
	}
	lex, err := loadLexicon(an)
	if err != nil {
		return nil, err
	}
	return &Index{
		tax: o.Taxonomy, loc: o.Location, now: o.Now, an: an, lex: lex, dict: summaryDict(o.Taxonomy), wall: time.Now,
		byURI: map[string]uint32{}, live: roaring.New(), terms: map[string]uint32{}, textTerms: roaring.New(), near: map[string][]string{},
		catIDs: map[string]int{}, more: map[uint32][]directory.Point{}, compl: map[uint32][]string{}, actorIDs: map[string]uint32{},
	}, nil
}

// Count returns how many services are indexed.
func (x *Index) Count() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byURI)
}

// URIs returns the URIs of every indexed service, in no order.
func (x *Index) URIs() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]string, 0, len(x.byURI))
	for u := range x.byURI {
		out = append(out, u)
	}
	return out
}

// Term keys: a one-letter kind, then the value.
const (
	kName     = "n" // + language + ":" + stem
	kText     = "t" // + language + ":" + stem
	kLabel    = "b" // + language + ":" + stem of a category's label
	kFolded   = "f:"
	kConceptN = "cn:" // + a lexicon concept found in the name
	kConceptT = "ct:" // + a lexicon concept found in the description
	kCategory = "c:"
	kAudience = "a:"
	kLanguage = "l:"
	kFee      = "e:"
	kReferral = "r:"
	kOrigin   = "o:"
	kOpen     = "w:" // open during part of a half hour of the week
	kOpenPart = "W:" // open during only part of it: the others are open all of it
	kExcept   = "x:"
	// kPeriod + YYYY-MM marks the services with a dated change of hours
	// (a closure, other hours) during that month: the bucket terms do not
	// know of it, so a search by opening time checks them exactly.
	kPeriod = "p:"
	// kPlaces marks the services with places free now.
	kPlaces = "v:"
	kCell   = "g:"
	kWide   = "G:"
	// kComplements marks the services that say they complement others:
	// only their pairs need their summaries read to be set apart.
	kComplements = "k:"
)

// bucketMinutes is the width of the slots of the week that opening hours
// are indexed in: a coarse filter, each candidate then checked exactly.
// Thirty minutes keep a full-time service to about eighty terms.
const bucketMinutes = 30

func bucketTerm(kind string, day time.Weekday, minute int) string {
	return kind + strconv.Itoa(int(day)*(24*60/bucketMinutes)+minute/bucketMinutes)
}

// Map cells: fine ones of about 2 km for searches nearby, wide ones of
// about 50 km for long radii.
const (
	cellDeg = 0.02
	wideDeg = 0.5
)

func cellOf(kind string, size float64, lat, lon float64) string {
	return kind + strconv.Itoa(int(math.Floor(lat/size))) + ":" + strconv.Itoa(int(math.Floor(lon/size)))
}

// prepared is a document analysed outside the index lock.
type prepared struct {
	sum   *summary
	keys  []string
	cats  []string
	words []string // folded words, for typo matching
}

func (x *Index) prepare(d Doc) (*prepared, error) {
	if d.URI == "" || d.Service == nil {
		return nil, errors.New("search: document without id or service")
	}
	s := d.Service
	seen := map[string]bool{}
	p := &prepared{sum: summarize(d)}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			p.keys = append(p.keys, k)
		}
	}
	// The labels of its categories are words of the service too, in every
	// language, weighing less than its own: "food" finds a service filed
	// under Alimentation even when its own texts are French only, after
	// the services that say "food" themselves. The base vocabulary's labels count
	// too, so data·inclusion's words still find what the profile renamed.
	var labels directory.Text = directory.Text{}
	for _, c := range s.Categories {
		if t, ok := x.tax.Category(c); ok {
			for _, l := range directory.Langs {
				labels[l] += " " + t.Labels[l] + " " + t.Base[l]
			}
		}
	}
	for _, l := range directory.Langs {
		for _, t := range x.an.stems(l, s.Name[l]+" "+s.AlternateName[l]) {
			add(kName + string(l) + ":" + t)
		}
		for _, t := range x.an.stems(l, s.Description[l]+" "+s.Eligibility[l]) {
			add(kText + string(l) + ":" + t)
		}
		for _, t := range x.an.stems(l, labels[l]) {
			add(kLabel + string(l) + ":" + t)
		}
	}
	for c := range x.lex.concepts(x.an, nameText(s)) {
		add(kConceptN + c)
	}
	for c := range x.lex.concepts(x.an, s.Description) {
		add(kConceptT + c)
	}
	var all []string
	all = append(all, s.Name.All()...)
	all = append(all, s.AlternateName.All()...)
	all = append(all, s.Description.All()...)
	all = append(all, d.Provider)
	for _, text := range all {
		for _, w := range words(text) {
			if !seen[kFolded+w] {
				p.words = append(p.words, w)
			}
			add(kFolded + w)
		}
	}
	p.cats = x.tax.Expand(s.Categories)
	for _, c := range p.cats {
		add(kCategory + c)
	}
	for _, a := range s.Audiences {
		add(kAudience + a)
	}
	for _, l := range s.Languages {
		add(kLanguage + directory.Fold(l))
	}
	if s.Fee != "" {
		add(kFee + s.Fee)
	}
	add(kReferral + strconv.FormatBool(s.AcceptsReferrals()))
	if len(s.Complements) > 0 {
		add(kComplements)
	}
	add(kOrigin + map[bool]string{true: ScopeLocal, false: ScopePartners}[d.Local])
	for _, sl := range s.Schedule.Weekly {
		for m := int(sl.Opens) - int(sl.Opens)%bucketMinutes; m < int(sl.Closes); m += bucketMinutes {
			add(bucketTerm(kOpen, sl.Day, m))
			if int(sl.Opens) > m || m+bucketMinutes > int(sl.Closes) {
				// Few services open or close within a half hour: this
				// list is short where one of those open all of it
				// would hold nearly every service of kOpen again.
				add(bucketTerm(kOpenPart, sl.Day, m))
			}
		}
	}
	for _, e := range s.Schedule.Exceptions {
		add(kExcept + e.Date)
	}
	for _, per := range s.Schedule.Periods {
		if per.ChangesHours() {
			for _, m := range periodMonths(per) {
				add(kPeriod + m)
			}
		}
	}
	if s.Capacity.HasPlaces() {
		add(kPlaces)
	}
	for _, pt := range d.Points {
		add(cellOf(kCell, cellDeg, pt.Lat, pt.Lon))
		add(cellOf(kWide, wideDeg, pt.Lat, pt.Lon))
	}
	return p, nil
}

// periodMonths lists the months (YYYY-MM) a period covers, at most 13
// (a period lasts a year at most).
func periodMonths(p directory.Period) []string {
	from, err1 := time.Parse(time.DateOnly, p.From)
	to, err2 := time.Parse(time.DateOnly, p.To)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	last := to.Format("2006-01")
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); len(out) < 13; m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
		if out[len(out)-1] >= last {
			break
		}
	}
	return out
}

// Put adds or replaces a service.
func (x *Index) Put(d Doc) error { return x.Apply([]Doc{d}, nil) }

// PutBatch adds many services at once (start-up rebuild).
func (x *Index) PutBatch(docs []Doc) error { return x.Apply(docs, nil) }

// Delete removes a service.
func (x *Index) Delete(uri string) error { return x.Apply(nil, []string{uri}) }

// Apply indexes puts and removes deletes, all or nothing: documents are
// analysed before the index is locked, so a bad one changes nothing. A
// service that is not offered (inactive or defunct) is not searchable:
// putting it removes it.
func (x *Index) Apply(puts []Doc, deletes []string) error {
	ps := make([]*prepared, 0, len(puts))
	for _, d := range puts {
		d = placeByArea(d)
		if d.Service != nil && (d.Service.Status == directory.StatusInactive || d.Service.Status == directory.StatusDefunct) {
			deletes = append(slices.Clip(deletes), d.URI)
			continue
		}
		p, err := x.prepare(d)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.gen++
	for _, p := range ps {
		x.put(p)
	}
	for _, uri := range deletes {
		x.remove(uri)
	}
	return nil
}

func (x *Index) put(p *prepared) {
	uri := p.sum.doc.URI
	x.remove(uri)
	var slot uint32
	if n := len(x.free); n > 0 {
		slot, x.free = x.free[n-1], x.free[:n-1]
	} else {
		slot = uint32(len(x.slots))
		x.slots = append(x.slots, nil)
		x.hot = append(x.hot, hotSlot{})
		x.sched = append(x.sched, "")
	}
	e := &entry{uri: uri}
	ids := make([]uint32, len(p.keys))
	e.sum.Store(p.sum)
	h := &x.hot[slot]
	*h = hotSlot{}
	for _, c := range p.cats {
		id, ok := x.catIDs[c]
		if !ok {
			id = len(x.catCodes)
			x.catIDs[c] = id
			x.catCodes = append(x.catCodes, c)
		}
		if id < hotCats {
			h.Cats[id/32] |= 1 << (id % 32)
		}
	}
	d := p.sum.doc
	x.sched[slot] = packSchedule(p.sum.doc.Service.Schedule)
	var first *directory.Point
	if len(d.Points) > 0 {
		first = &d.Points[0]
	}
	h.setPoint(first)
	if len(d.Points) > 1 {
		x.more[slot] = d.Points[1:]
		h.Bits |= hotMany
	}
	if cs := d.Service.Complements; len(cs) > 0 {
		uris := make([]string, len(cs))
		for i, c := range cs {
			uris[i] = c.URI
		}
		x.compl[slot] = uris
	}
	a, ok := x.actorIDs[d.Actor]
	if !ok {
		a = uint32(len(x.actors))
		x.actors = append(x.actors, d.Actor)
		x.actorIDs[d.Actor] = a
	}
	h.Bits |= a
	h.Order = contentOrder(d)
	for i, k := range p.keys {
		id, ok := x.terms[k]
		if !ok {
			id = uint32(len(x.posts))
			x.terms[k] = id
			if strings.HasPrefix(k, kText) {
				x.textTerms.Add(id)
			}
			x.posts = append(x.posts, roaring.New())
		}
		x.posts[id].Add(slot)
		ids[i] = id
	}
	e.terms = packTerms(ids)
	for _, w := range p.words {
		x.addNear(w)
	}
	x.slots[slot] = e
	x.byURI[uri] = slot
	x.live.Add(slot)
	if x.cov != nil {
		x.cov.add(x, slot, nameTerms(p.keys, ids))
	}
}

// addNear records a folded word under its one-deletion variants, once.
func (x *Index) addNear(w string) {
	r := []rune(w)
	if len(r) < minFuzzy-1 {
		return
	}
	key := string(r[1:]) // the first variant tells whether w is known
	for _, known := range x.near[key] {
		if known == w {
			return
		}
	}
	for i := range r {
		v := string(r[:i]) + string(r[i+1:])
		x.near[v] = append(x.near[v], w)
	}
}

func (x *Index) remove(uri string) {
	slot, ok := x.byURI[uri]
	if !ok {
		return
	}
	if x.cov != nil {
		x.cov.drop(x, slot)
	}
	for id := range x.slots[slot].terms.all() {
		x.posts[id].Remove(slot)
	}
	x.slots[slot] = nil
	x.sched[slot] = ""
	delete(x.more, slot)
	delete(x.compl, slot)
	x.free = append(x.free, slot)
	x.live.Remove(slot)
	delete(x.byURI, uri)
}

const earthKm = directory.EarthRadius / 1000

// unit returns p as a unit vector.
func unit(p directory.Point) (x, y, z float64) {
	la, lo := p.Lat*math.Pi/180, p.Lon*math.Pi/180
	return math.Cos(la) * math.Cos(lo), math.Cos(la) * math.Sin(lo), math.Sin(la)
}

// chordOf is the squared chord between two points d km apart along the
// sphere: it grows with d, so candidates compare chords, and only the
// results shown get a distance in km (kmOfChord).
func chordOf(d float64) float64 {
	c := 2 * math.Sin(math.Min(d/earthKm, math.Pi)/2)
	return c * c
}

func kmOfChord(c2 float64) float64 { return 2 * earthKm * math.Asin(math.Min(1, math.Sqrt(c2)/2)) }

// distanceKm is the great-circle distance between two points.
func distanceKm(a, b directory.Point) float64 { return directory.Distance(a, b) / 1000 }

// contentOrder breaks ties between equal scores: a hash of what the
// service says (its names and its association), not of its address, so
// that the same services loaded twice, under other ids or on another
// node, come in the same order.
func contentOrder(d Doc) uint32 {
	f := fnv.New32a()
	for _, l := range directory.Langs {
		f.Write([]byte(d.Service.Name[l]))
		f.Write([]byte{0})
	}
	f.Write([]byte(d.Provider))
	return f.Sum32()
}

// termList is a slot's term ids, sorted, written as the varint gaps
// between them: at 10,000 services the ids as []uint32 held 5.4 MB of a
// node's heap (.ci/measure-rss, heap profile), the gaps about a third.
type termList []byte

func packTerms(ids []uint32) termList {
	s := slices.Clone(ids)
	slices.Sort(s)
	s = slices.Compact(s)
	b := make([]byte, 0, 2*len(s))
	prev := uint32(0)
	for _, id := range s {
		b = binary.AppendUvarint(b, uint64(id-prev))
		prev = id
	}
	return termList(slices.Clip(b))
}

// all yields the ids in increasing order.
func (t termList) all() iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		var id uint64
		for b := t; len(b) > 0; {
			gap, n := binary.Uvarint(b)
			if n <= 0 {
				return
			}
			id, b = id+gap, b[n:]
			if !yield(uint32(id)) {
				return
			}
		}
	}
}

// check reports whether t decodes whole into ids below n.
func (t termList) check(n int) bool {
	var id uint64
	for b := t; len(b) > 0; {
		gap, k := binary.Uvarint(b)
		if k <= 0 {
			return false
		}
		if id += gap; id >= uint64(n) {
			return false
		}
		b = b[k:]
	}
	return true
}
