package directory

import (
	"testing"
	"unicode/utf8"
)

// The table path and the decomposition path agree on every Latin rune,
// on combining accents, and on text mixing them.
func TestFoldAgreesWithDecomposition(t *testing.T) {
	for r := rune(0); r < 0x3400; r++ { // Latin, Greek, Cyrillic, Arabic, punctuation, symbols, kana, …
		if !utf8.ValidRune(r) {
			continue
		}
		s := "a" + string(r) + "Z"
		if got, want := Fold(s), foldSlow(s); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
	for _, s := range []string{"Épicerie sociale", "E\u0301picerie", "Œuvre", "Straße", "ÇA VA", "Ελλάδα", "l’épicerie — 10 €", "한국어", "crème brûlée", "plain", ""} {
		if got, want := Fold(s), foldSlow(s); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
	if got := Fold("Épicerie Sociale"); got != "epicerie sociale" {
		t.Errorf("Fold = %q", got)
	}
}

func BenchmarkFold(b *testing.B) {
	for range b.N {
		Fold("Colis alimentaires et produits de première nécessité à prix réduit.")
	}
}
