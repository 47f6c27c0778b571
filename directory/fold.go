package directory

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold returns s in lower case without accents ("Épicerie" → "epicerie"),
// the form text is compared in across FR/NL/EN.
//
// Latin text, nearly all of what the directory holds, is folded rune by
// rune from a table; anything else goes through Unicode decomposition.
// Both give the same result (fold_test.go checks every Latin rune).
func Fold(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			if b.Cap() == 0 && r == rune(s[i]) {
				continue // unchanged so far: copy nothing yet
			}
		case r < rune(len(latinFold)) || unicode.Is(unicode.Mn, r):
		case norm.NFD.PropertiesString(string(r)).Decomposition() == nil && unicode.ToLower(r) == r:
			// Punctuation, symbols, letters without accent or case:
			// kept as they are.
		default:
			return foldSlow(s)
		}
		if b.Cap() == 0 {
			b.Grow(len(s))
			b.WriteString(s[:i])
		}
		switch {
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		case r < rune(len(latinFold)):
			b.WriteString(latinFold[r])
		case unicode.Is(unicode.Mn, r): // combining marks are dropped
		default:
			b.WriteRune(r)
		}
	}
	if b.Cap() == 0 {
		return s
	}
	return b.String()
}

// latinFold is the fold of every rune of the Latin-1 Supplement and
// Latin Extended-A and -B blocks, computed by foldSlow.
var latinFold = func() []string {
	t := make([]string, 0x250)
	for r := range t {
		t[r] = foldSlow(string(rune(r)))
	}
	return t
}()

// foldSlow decomposes, drops combining marks, recomposes, lower-cases.
func foldSlow(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}
