package directory

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

//go:embed taxonomy.json
var taxonomyJSON []byte

//go:embed vocabulary-brussels.json
var brusselsJSON []byte

// Term is one entry of a controlled vocabulary, labelled in every language.
type Term struct {
	Code   string `json:"code"`
	Parent string `json:"parent,omitempty"`
	Labels Text   `json:"labels"`
	// Hidden terms are not offered in lists, but a service that a partner
	// filed under one still validates and shows its label: nodes exchange
	// the codes of the base vocabulary, whatever their profile.
	Hidden bool `json:"hidden,omitempty"`
	// Featured terms are offered among the top categories where a list of
	// themes is short (search, home): food aid, say, is asked for more
	// than the category it belongs to.
	Featured bool `json:"featured,omitempty"`
	// Base are the base vocabulary's labels when a profile relabelled the
	// term: a spreadsheet or a search in data·inclusion's words (the
	// French "Alimentation") still finds it.
	Base Text `json:"base_labels,omitempty"`
}

// Names returns every label of the term, the profile's first, then the
// base vocabulary's, each once.
func (t Term) Names() []string {
	var out []string
	for _, labels := range []Text{t.Labels, t.Base} {
		for _, l := range Langs {
			if v := labels[l]; v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// ID is the term's stable UUID, the same on every node.
func (t Term) ID() string { return DerivedID("taxonomy-term", t.Code) }

// Taxonomy is the network's shared vocabulary: service categories (16 top
// categories and their terms), audiences and fee kinds. Every node ships
// the same one, so codes mean the same thing across nodes and languages.
type Taxonomy struct {
	Source     string `json:"source"`
	Categories []Term `json:"categories"`
	Terms      []Term `json:"terms"`
	Audiences  []Term `json:"audiences"`
	Fees       []Term `json:"fees"`
	// Communes are the local authorities of the profile's territory, for
	// the lists that name them; the base vocabulary has none.
	Communes []Commune `json:"communes,omitempty"`

	byCode map[string]Term   // categories and terms
	kind   map[string]string // "kind:code" → kind, for every vocabulary
}

// TaxonomyID is the UUID of the shared category taxonomy in HSDS output.
var TaxonomyID = DerivedID("taxonomy", "maillage-themes")

// DefaultTaxonomy returns the taxonomy a node uses: the base vocabulary
// with the Brussels profile's labels, both shipped in the binary.
func DefaultTaxonomy() *Taxonomy {
	p, err := ParseProfile(brusselsJSON)
	if err == nil {
		var t *Taxonomy
		if t, err = BaseTaxonomy().WithProfile(p); err == nil {
			return t
		}
	}
	panic("directory: embedded vocabulary profile: " + err.Error()) // a build defect, caught by tests
}

// BaseTaxonomy returns the data·inclusion vocabulary as shipped, with its
// own labels: the codes every node exchanges.
func BaseTaxonomy() *Taxonomy {
	t, err := ParseTaxonomy(taxonomyJSON)
	if err != nil {
		panic("directory: embedded taxonomy: " + err.Error()) // a build defect, caught by tests
	}
	return t
}

// ParseTaxonomy reads and checks a taxonomy document.
func ParseTaxonomy(data []byte) (*Taxonomy, error) {
	var t Taxonomy
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("taxonomy: %w", err)
	}
	t.byCode = map[string]Term{}
	t.kind = map[string]string{}
	add := func(kind string, terms []Term) error {
		for _, term := range terms {
			if term.Code == "" {
				return fmt.Errorf("taxonomy: %s with empty code", kind)
			}
			if t.kind[kind+":"+term.Code] != "" || (kind == "category" || kind == "term") && t.byCode[term.Code].Code != "" {
				return fmt.Errorf("taxonomy: duplicate code %q", term.Code)
			}
			for _, l := range Langs {
				if term.Labels[l] == "" {
					return fmt.Errorf("taxonomy: %s %q has no %s label", kind, term.Code, l)
				}
			}
			if kind == "category" || kind == "term" {
				t.byCode[term.Code] = term
			}
			t.kind[kind+":"+term.Code] = kind
		}
		return nil
	}
	for _, part := range []struct {
		kind  string
		terms []Term
	}{{"category", t.Categories}, {"term", t.Terms}, {"audience", t.Audiences}, {"fee", t.Fees}} {
		if err := add(part.kind, part.terms); err != nil {
			return nil, err
		}
	}
	for _, term := range t.Terms {
		if t.kind["category:"+term.Parent] == "" {
			return nil, fmt.Errorf("taxonomy: term %q has unknown parent %q", term.Code, term.Parent)
		}
	}
	return &t, nil
}

// Category returns the top category or term with code.
func (t *Taxonomy) Category(code string) (Term, bool) {
	term, ok := t.byCode[code]
	return term, ok
}

// IsAudience reports whether code is an audience of the vocabulary.
func (t *Taxonomy) IsAudience(code string) bool { return t.kind["audience:"+code] != "" }

// IsFee reports whether code is a fee kind of the vocabulary.
func (t *Taxonomy) IsFee(code string) bool { return t.kind["fee:"+code] != "" }

// Audience returns the audience with code.
func (t *Taxonomy) Audience(code string) (Term, bool) { return findTerm(t.Audiences, code) }

// Fee returns the fee kind with code.
func (t *Taxonomy) Fee(code string) (Term, bool) { return findTerm(t.Fees, code) }

func findTerm(terms []Term, code string) (Term, bool) {
	for _, term := range terms {
		if term.Code == code {
			return term, true
		}
	}
	return Term{}, false
}

// TermByID returns the category or term whose UUID is id.
func (t *Taxonomy) TermByID(id string) (Term, bool) {
	for _, term := range t.byCode {
		if term.ID() == id {
			return term, true
		}
	}
	return Term{}, false
}

// Expand returns codes with the parent category of every term added, so
// that a search or comparison on a top category finds its terms' services.
func (t *Taxonomy) Expand(codes []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range codes {
		for _, x := range []string{c, t.byCode[c].Parent} {
			if x != "" && !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TopOf returns the top category code of a category or term code.
func TopOf(code string) string {
	top, _, _ := strings.Cut(code, "--")
	return top
}

// Themes returns the themes to offer where a short list is shown (search,
// home): the visible top categories, each followed by its featured terms.
func (t *Taxonomy) Themes() []Term {
	var out []Term
	for _, top := range t.Categories {
		if top.Hidden {
			continue
		}
		out = append(out, top)
		for _, term := range t.Terms {
			if term.Parent == top.Code && term.Featured && !term.Hidden {
				out = append(out, term)
			}
		}
	}
	return out
}

// Commune is a local authority of a profile's territory, with the
// postcodes it serves.
type Commune struct {
	Code      string   `json:"code"`
	Labels    Text     `json:"labels"`
	Postcodes []string `json:"postcodes"`
}

// CommuneOf returns the commune that serves postcode.
func (t *Taxonomy) CommuneOf(postcode string) (Commune, bool) {
	for _, c := range t.Communes {
		if slices.Contains(c.Postcodes, postcode) {
			return c, true
		}
	}
	return Commune{}, false
}

// Profile relabels the base vocabulary for one territory and hides the
// terms that mean nothing there. It changes no code: a node with another
// profile, or none, reads the same services.
type Profile struct {
	Name       string                  `json:"profile"`
	Source     string                  `json:"source"`
	Categories map[string]ProfileEntry `json:"categories"` // top categories and their terms
	Audiences  map[string]ProfileEntry `json:"audiences"`
	Fees       map[string]ProfileEntry `json:"fees"`
	Communes   []Commune               `json:"communes"`
}

// ProfileEntry is what a profile says of one code. Why is required when
// the term is hidden, so that the next reader can judge the choice.
type ProfileEntry struct {
	Labels   Text   `json:"labels"`
	Hidden   bool   `json:"hidden,omitempty"`
	Featured bool   `json:"featured,omitempty"`
	Why      string `json:"why,omitempty"`
}

// ParseProfile reads a profile document; a field it does not know is an
// error, so that a typo ("hiden") cannot silently show a term.
func ParseProfile(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("vocabulary profile: %w", err)
	}
	return &p, nil
}

// WithProfile returns a copy of t labelled by p. Every code of t must
// have an entry in p and every entry a code of t: a code added to the
// base vocabulary must be relabelled or hidden on purpose, never forgotten.
func (t *Taxonomy) WithProfile(p *Profile) (*Taxonomy, error) {
	out := *t
	out.Source = strings.TrimSpace(t.Source + " " + p.Source)
	out.byCode = map[string]Term{}
	var errs []error
	parts := []struct {
		kind    string
		terms   *[]Term
		entries map[string]ProfileEntry
	}{{"category", &out.Categories, p.Categories}, {"audience", &out.Audiences, p.Audiences}, {"fee", &out.Fees, p.Fees}}
	for _, part := range parts {
		*part.terms = slices.Clone(*part.terms)
		errs = append(errs, relabel(part.kind, *part.terms, part.entries))
	}
	out.Terms = slices.Clone(t.Terms)
	errs = append(errs, relabel("category", out.Terms, p.Categories))
	errs = append(errs, unknownEntries(p.Categories, out.Categories, out.Terms), unknownEntries(p.Audiences, out.Audiences), unknownEntries(p.Fees, out.Fees))
	for _, term := range append(slices.Clone(out.Categories), out.Terms...) {
		out.byCode[term.Code] = term
	}
	errs = append(errs, checkProfileShape(&out), checkCommunes(p.Communes))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("vocabulary profile %q: %w", p.Name, err)
	}
	out.Communes = p.Communes
	return &out, nil
}

// relabel sets the labels and flags of terms from entries.
func relabel(kind string, terms []Term, entries map[string]ProfileEntry) error {
	var errs []error
	for i, term := range terms {
		e, ok := entries[term.Code]
		if !ok {
			errs = append(errs, fmt.Errorf("%s %q has no entry: relabel it or hide it", kind, term.Code))
			continue
		}
		for _, l := range Langs {
			if strings.TrimSpace(e.Labels[l]) == "" {
				errs = append(errs, fmt.Errorf("%s %q has no %s label", kind, term.Code, l))
			}
		}
		if e.Hidden && strings.TrimSpace(e.Why) == "" {
			errs = append(errs, fmt.Errorf("%s %q is hidden without a reason (why)", kind, term.Code))
		}
		terms[i].Base = term.Labels
		terms[i].Labels, terms[i].Hidden, terms[i].Featured = e.Labels, e.Hidden, e.Featured
	}
	return errors.Join(errs...)
}

// unknownEntries reports entries for codes the base vocabulary lacks: a
// code renamed upstream would otherwise leave its old label unused.
func unknownEntries(entries map[string]ProfileEntry, lists ...[]Term) error {
	var errs []error
	for code := range entries {
		if !slices.ContainsFunc(lists, func(terms []Term) bool {
			return slices.ContainsFunc(terms, func(t Term) bool { return t.Code == code })
		}) {
			errs = append(errs, fmt.Errorf("entry %q is not a code of the base vocabulary", code))
		}
	}
	return errors.Join(errs...)
}

// checkProfileShape keeps what other parts rely on: every top category
// stays visible (it is a row of every node's coverage and a theme needs
// are signalled under), and only a visible term can be featured.
func checkProfileShape(t *Taxonomy) error {
	var errs []error
	for _, top := range t.Categories {
		if top.Hidden {
			errs = append(errs, fmt.Errorf("top category %q cannot be hidden: hide its terms", top.Code))
		}
		if top.Featured {
			errs = append(errs, fmt.Errorf("top category %q cannot be featured: it is a theme already", top.Code))
		}
	}
	for _, list := range [][]Term{t.Terms, t.Audiences, t.Fees} {
		for _, term := range list {
			if term.Featured && (term.Hidden || term.Parent == "") {
				errs = append(errs, fmt.Errorf("%q cannot be featured: only a visible term of a category can", term.Code))
			}
		}
	}
	return errors.Join(errs...)
}

// checkCommunes checks the profile's communes: a code, a label in every
// language, and postcodes of four digits that no two communes share.
func checkCommunes(communes []Commune) error {
	var errs []error
	seen := map[string]string{}
	for _, c := range communes {
		if c.Code == "" || len(c.Postcodes) == 0 {
			errs = append(errs, fmt.Errorf("commune %q needs a code and postcodes", c.Code))
		}
		for _, l := range Langs {
			if strings.TrimSpace(c.Labels[l]) == "" {
				errs = append(errs, fmt.Errorf("commune %q has no %s label", c.Code, l))
			}
		}
		for _, pc := range c.Postcodes {
			if !postcodeBE.MatchString(pc) {
				errs = append(errs, fmt.Errorf("commune %q: %q is not a postcode", c.Code, pc))
			}
			if other := seen[pc]; other != "" {
				errs = append(errs, fmt.Errorf("postcode %s is in communes %q and %q", pc, other, c.Code))
			}
			seen[pc] = c.Code
		}
	}
	return errors.Join(errs...)
}
