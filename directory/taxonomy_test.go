package directory

import (
	"encoding/json"
	"os"
	"testing"
)

func TestDefaultTaxonomy(t *testing.T) {
	tax := DefaultTaxonomy()
	if got, want := len(tax.Categories), 16; got != want {
		t.Errorf("categories = %d, want %d", got, want)
	}
	if got, want := len(tax.Terms), 69; got != want {
		t.Errorf("terms = %d, want %d", got, want)
	}
	if got, want := len(tax.Audiences), 14; got != want {
		t.Errorf("audiences = %d, want %d", got, want)
	}
	if got, want := len(tax.Fees), 2; got != want {
		t.Errorf("fees = %d, want %d", got, want)
	}
	// Every term of the reference vocabulary is in, with its French label.
	raw, err := os.ReadFile("../../shared/taxonomy/data-inclusion-thematiques.json")
	if err != nil {
		t.Skipf("reference vocabulary not beside the repository: %v", err)
	}
	var ref []struct{ Value, Label string }
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	for _, r := range ref {
		term, ok := tax.Category(r.Value)
		if !ok {
			t.Errorf("term %q missing", r.Value)
			continue
		}
		if term.Labels[FR] != r.Label {
			t.Errorf("term %q French label = %q, want %q", r.Value, term.Labels[FR], r.Label)
		}
		if _, ok := tax.TermByID(term.ID()); !ok {
			t.Errorf("TermByID(%s) does not find %q", term.ID(), r.Value)
		}
	}
}

func TestTaxonomyExpandAddsParents(t *testing.T) {
	tax := DefaultTaxonomy()
	got := tax.Expand([]string{"sante--acces-aux-soins", "famille"})
	want := []string{"famille", "sante", "sante--acces-aux-soins"}
	if len(got) != len(want) {
		t.Fatalf("Expand = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Expand = %v, want %v", got, want)
		}
	}
}

func TestParseTaxonomyRefusesBrokenDocuments(t *testing.T) {
	tests := map[string]string{
		"missing label": `{"categories":[{"code":"a","labels":{"fr":"A","nl":"A"}}]}`,
		"orphan term":   `{"categories":[],"terms":[{"code":"a--b","parent":"a","labels":{"fr":"x","nl":"x","en":"x"}}]}`,
		"duplicate":     `{"categories":[{"code":"a","labels":{"fr":"A","nl":"A","en":"A"}},{"code":"a","labels":{"fr":"A","nl":"A","en":"A"}}]}`,
		"not json":      `{`,
	}
	for name, doc := range tests {
		if _, err := ParseTaxonomy([]byte(doc)); err == nil {
			t.Errorf("%s: ParseTaxonomy accepted a broken document", name)
		}
	}
}

func TestFold(t *testing.T) {
	if got := Fold("Épicerie SOCIALE à Forêt"); got != "epicerie sociale a foret" {
		t.Errorf("Fold = %q", got)
	}
}
