package search

import (
	"slices"
	"testing"
)

// A word no service contains gets the indexed words close to it (two
// edits, one for a short word), the nearest first; a known word or one far
// from every indexed word gets none; a deleted service's words are not
// offered.
func TestCloseWords(t *testing.T) {
	x := fixture(t)
	for _, tt := range []struct {
		text string
		want []Spelling
	}{
		{"episserie", []Spelling{{Word: "episserie", Close: []string{"epicerie"}}}},
		{"colis voedselhlup", []Spelling{{Word: "voedselhlup", Close: []string{"voedselhulp"}}}},
		{"Épicerie", nil}, // known
		{"cour", []Spelling{{Word: "cour", Close: []string{"cours"}}}}, // one edit only: not "voor"
		{"xyzxyzxyz", nil},   // nothing close
		{"frannnnçais", nil}, // three edits away
	} {
		got := x.CloseWords(tt.text, 3)
		if !slices.EqualFunc(got, tt.want, func(a, b Spelling) bool { return a.Word == b.Word && slices.Equal(a.Close, b.Close) }) {
			t.Errorf("CloseWords(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	if err := x.Delete("https://n.example/services/voedsel"); err != nil {
		t.Fatal(err)
	}
	if got := x.CloseWords("voedselhlup", 3); len(got) != 0 {
		t.Errorf("a deleted service's word is still offered: %v", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"epicerie", "episserie", 2}, {"abc", "abc", 0}, {"abc", "abd", 1}, {"voedselhulp", "voedselhlup", 2}, {"a", "bcdef", 3}, {"aaaa", "bbbb", 3},
	} {
		if got := editDistance([]rune(tt.a), []rune(tt.b), 2); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
