package search

import (
	"encoding/json"
	"testing"

	"github.com/maillage/maillage/directory"
)

// The lexicon keeps its own rules (lexicon.md): every concept named in
// the three languages, a phrase in one concept only, broader concepts
// that exist; and a text naming a concept names its broader one too.
func TestLexicon(t *testing.T) {
	var f struct {
		Concepts []struct {
			ID         string
			FR, NL, EN []string
			Broader    []string
		}
	}
	if err := json.Unmarshal(lexiconJSON, &f); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, c := range f.Concepts {
		if ids[c.ID] {
			t.Errorf("concept %s twice", c.ID)
		}
		ids[c.ID] = true
	}
	owner := map[string]string{}
	for _, c := range f.Concepts {
		for l, list := range map[string][]string{"fr": c.FR, "nl": c.NL, "en": c.EN} {
			if len(list) == 0 {
				t.Errorf("%s has no %s phrase", c.ID, l)
			}
			for _, p := range list {
				k := l + ":" + directory.Fold(p)
				if o, ok := owner[k]; ok && o != c.ID {
					t.Errorf("%s phrase %q in %s and %s", l, p, o, c.ID)
				}
				owner[k] = c.ID
			}
		}
		for _, b := range c.Broader {
			if !ids[b] || b == c.ID {
				t.Errorf("%s: broader %q is no other concept", c.ID, b)
			}
		}
	}
	an, err := newAnalyzers()
	if err != nil {
		t.Fatal(err)
	}
	lx, err := loadLexicon(an)
	if err != nil {
		t.Fatal(err)
	}
	got := lx.concepts(an, directory.T(directory.FR, "Distribution de colis alimentaires"))
	if got["food-parcel"] == "" || got["food-aid"] != got["food-parcel"] {
		t.Errorf("colis alimentaires: %v, want food-parcel and its broader food-aid, said by the same phrase", got)
	}
}
