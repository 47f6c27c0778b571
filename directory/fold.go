package directory

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold returns s in lower case without accents ("Épicerie" → "epicerie"),
// the form text is compared in across FR/NL/EN.
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// Matches reports whether every word of query occurs, accent- and
// case-insensitively, in one of the service's texts in any language. It is
// the plain matcher used until a full-text index answers the query.
func (s *Service) Matches(query string) bool {
	words := strings.Fields(Fold(query))
	if len(words) == 0 {
		return true
	}
	var hay strings.Builder
	for _, t := range []Text{s.Name, s.AlternateName, s.Description, s.Eligibility} {
		for _, v := range t.All() {
			hay.WriteString(Fold(v))
			hay.WriteByte(' ')
		}
	}
	h := hay.String()
	for _, w := range words {
		if !strings.Contains(h, w) {
			return false
		}
	}
	return true
}
