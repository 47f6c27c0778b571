package search

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/nl"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"

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
}

// summary is what a result needs, kept in memory so that a search answers
// without reading the store: the service without its long texts.
type summary struct {
	doc      Doc
	schedule directory.Schedule
}

func summarize(d Doc) *summary {
	slim := *d.Service
	slim.Description, slim.Eligibility, slim.ApplicationProcess = nil, nil, nil
	slim.FeesDescription, slim.Interpretation, slim.AlternateName = nil, nil, nil
	slim.Phones, slim.Area = nil, directory.ServiceArea{}
	d.Service = &slim
	return &summary{doc: d, schedule: slim.Schedule}
}

// Index is the search index.
type Index struct {
	bi   bleve.Index
	tax  *directory.Taxonomy
	loc  *time.Location
	now  func() time.Time
	mu   sync.RWMutex
	docs map[string]*summary
}

// Options configure an Index.
type Options struct {
	Taxonomy *directory.Taxonomy
	Location *time.Location // of opening hours; default Europe/Brussels
	Now      func() time.Time
}

// analyzers: per language, accent-folded, then elision (fr), stop words
// and stemming; "folded" is language-neutral for names and typo matching.
const (
	anFR     = "maillage_fr"
	anNL     = "maillage_nl"
	anEN     = "maillage_en"
	anFolded = "maillage_folded"
)

func indexMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	add := func(name string, filters ...string) error {
		return m.AddCustomAnalyzer(name, map[string]any{
			"type":          custom.Name,
			"char_filters":  []string{asciifolding.Name},
			"tokenizer":     unicode.Name,
			"token_filters": filters,
		})
	}
	for _, a := range []struct {
		name    string
		filters []string
	}{
		{anFR, []string{lowercase.Name, fr.ElisionName, fr.StopName, fr.LightStemmerName}},
		{anNL, []string{lowercase.Name, nl.StopName, nl.SnowballStemmerName}},
		{anEN, []string{lowercase.Name, en.PossessiveName, en.StopName, en.SnowballStemmerName}},
		{anFolded, []string{lowercase.Name}},
	} {
		if err := add(a.name, a.filters...); err != nil {
			return nil, err
		}
	}
	// Nothing is stored, nothing goes to the composite _all field (queries
	// name their fields), and only the fields that facets and sorting read
	// keep doc values: each of these halves indexing work and size.
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	keyword := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	for _, l := range []struct{ lang, analyzer string }{{"fr", anFR}, {"nl", anNL}, {"en", anEN}} {
		dm.AddFieldMappingsAt("name_"+l.lang, text(l.analyzer))
		dm.AddFieldMappingsAt("text_"+l.lang, text(l.analyzer))
	}
	dm.AddFieldMappingsAt("folded", text(anFolded))
	for _, k := range []string{"category", "audience", "language", "fee", "actor", "open", "exception", "referrals", "origin"} {
		dm.AddFieldMappingsAt(k, keyword(k == "category" || k == "actor"))
	}
	geo := bleve.NewGeoPointFieldMapping()
	geo.Store = false
	geo.IncludeInAll = false
	dm.AddFieldMappingsAt("geo", geo)
	m.DefaultMapping = dm
	m.DefaultAnalyzer = anFolded
	return m, nil
}

// Open creates a fresh index in dir (any previous content is removed: the
// store is the truth and the caller refills the index from it).
func Open(dir string, o Options) (*Index, error) {
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
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("search: clear %s: %w", dir, err)
	}
	m, err := indexMapping()
	if err != nil {
		return nil, fmt.Errorf("search: mapping: %w", err)
	}
	bi, err := bleve.NewUsing(dir, m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("search: create index: %w", err)
	}
	return &Index{bi: bi, tax: o.Taxonomy, loc: o.Location, now: o.Now, docs: map[string]*summary{}}, nil
}

// Close closes the index.
func (x *Index) Close() error { return x.bi.Close() }

// Count returns how many services are indexed.
func (x *Index) Count() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.docs)
}

// bucketMinutes is the width of the slots of the week that opening hours
// are indexed in: a coarse filter, each candidate then checked exactly.
// Thirty minutes keep a full-time service to about eighty terms.
const bucketMinutes = 30

func bucketTerm(day time.Weekday, minute int) string {
	return "w" + strconv.Itoa(int(day)*(24*60/bucketMinutes)+minute/bucketMinutes)
}

// document builds what bleve indexes for d.
func (x *Index) document(d Doc) map[string]any {
	s := d.Service
	doc := map[string]any{}
	for _, l := range directory.Langs {
		doc["name_"+string(l)] = s.Name[l] + " " + s.AlternateName[l]
		doc["text_"+string(l)] = s.Description[l] + " " + s.Eligibility[l]
	}
	var folded []string
	folded = append(folded, s.Name.All()...)
	folded = append(folded, s.AlternateName.All()...)
	folded = append(folded, s.Description.All()...)
	folded = append(folded, d.Provider)
	doc["folded"] = folded
	doc["category"] = x.tax.Expand(s.Categories)
	doc["audience"] = s.Audiences
	doc["language"] = s.Languages
	doc["fee"] = s.Fee
	doc["actor"] = d.Actor
	doc["referrals"] = strconv.FormatBool(s.AcceptsReferrals())
	doc["origin"] = map[bool]string{true: "local", false: "partner"}[d.Local]
	var open []string
	for _, sl := range s.Schedule.Weekly {
		for m := int(sl.Opens) - int(sl.Opens)%bucketMinutes; m < int(sl.Closes); m += bucketMinutes {
			open = append(open, bucketTerm(sl.Day, m))
		}
	}
	doc["open"] = open
	var exc []string
	for _, e := range s.Schedule.Exceptions {
		exc = append(exc, e.Date)
	}
	doc["exception"] = exc
	if len(d.Points) > 0 {
		var pts []any
		for _, p := range d.Points {
			pts = append(pts, []float64{p.Lon, p.Lat})
		}
		doc["geo"] = pts
	}
	return doc
}

// Put adds or replaces a service.
func (x *Index) Put(d Doc) error {
	if d.URI == "" || d.Service == nil {
		return errors.New("search: document without id or service")
	}
	// The summary goes in first: a search that sees the new document in
	// bleve must find its summary (one left over after a failed write is
	// harmless, as only bleve's hits are looked up).
	x.mu.Lock()
	x.docs[d.URI] = summarize(d)
	x.mu.Unlock()
	if err := x.bi.Index(d.URI, x.document(d)); err != nil {
		return fmt.Errorf("search: index %s: %w", d.URI, err)
	}
	return nil
}

// PutBatch adds many services at once (start-up rebuild).
func (x *Index) PutBatch(docs []Doc) error {
	b := x.bi.NewBatch()
	for _, d := range docs {
		if err := b.Index(d.URI, x.document(d)); err != nil {
			return fmt.Errorf("search: index %s: %w", d.URI, err)
		}
	}
	x.mu.Lock()
	for _, d := range docs {
		x.docs[d.URI] = summarize(d)
	}
	x.mu.Unlock()
	if err := x.bi.Batch(b); err != nil {
		return fmt.Errorf("search: batch: %w", err)
	}
	return nil
}

// Apply indexes puts and removes deletes in one batch.
func (x *Index) Apply(puts []Doc, deletes []string) error {
	b := x.bi.NewBatch()
	for _, d := range puts {
		if err := b.Index(d.URI, x.document(d)); err != nil {
			return fmt.Errorf("search: index %s: %w", d.URI, err)
		}
	}
	for _, uri := range deletes {
		b.Delete(uri)
	}
	// Summaries of new documents before bleve, removals after it: a hit
	// always has its summary.
	x.mu.Lock()
	for _, d := range puts {
		x.docs[d.URI] = summarize(d)
	}
	x.mu.Unlock()
	if err := x.bi.Batch(b); err != nil {
		return fmt.Errorf("search: batch: %w", err)
	}
	x.mu.Lock()
	for _, uri := range deletes {
		delete(x.docs, uri)
	}
	x.mu.Unlock()
	return nil
}

// Delete removes a service.
func (x *Index) Delete(uri string) error {
	if err := x.bi.Delete(uri); err != nil {
		return fmt.Errorf("search: delete %s: %w", uri, err)
	}
	x.mu.Lock()
	delete(x.docs, uri)
	x.mu.Unlock()
	return nil
}

// distanceKm is the great-circle distance between two points.
func distanceKm(a, b directory.Point) float64 {
	const r = 6371.0088
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dla, dlo := la2-la1, (b.Lon-a.Lon)*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}
