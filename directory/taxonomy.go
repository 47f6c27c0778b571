package directory

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

//go:embed taxonomy.json
var taxonomyJSON []byte

// Term is one entry of a controlled vocabulary, labelled in every language.
type Term struct {
	Code   string `json:"code"`
	Parent string `json:"parent,omitempty"`
	Labels Text   `json:"labels"`
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

	byCode map[string]Term   // categories and terms
	kind   map[string]string // "kind:code" → kind, for every vocabulary
}

// TaxonomyID is the UUID of the shared category taxonomy in HSDS output.
var TaxonomyID = DerivedID("taxonomy", "maillage-themes")

// DefaultTaxonomy returns the taxonomy shipped in the binary.
func DefaultTaxonomy() *Taxonomy {
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
