package directory

import (
	"slices"
	"strings"
)

// Lang is one of the languages Maillage publishes text in.
type Lang string

// The supported languages. French is the default.
const (
	FR Lang = "fr"
	NL Lang = "nl"
	EN Lang = "en"
)

// Langs lists the supported languages, default first.
var Langs = []Lang{FR, NL, EN}

// ParseLang returns the Lang for a code such as "nl" or "nl-BE".
func ParseLang(code string) (Lang, bool) {
	code = strings.ToLower(strings.TrimSpace(code))
	if i := strings.IndexAny(code, "-_"); i > 0 {
		code = code[:i]
	}
	l := Lang(code)
	return l, slices.Contains(Langs, l)
}

// Text is a free-text field written in one or more of the supported
// languages. Empty values are not kept.
type Text map[Lang]string

// T builds a Text from language/value pairs: T(FR, "Épicerie", NL, "Kruidenier").
func T(pairs ...any) Text {
	t := Text{}
	for i := 0; i+1 < len(pairs); i += 2 {
		t.Set(pairs[i].(Lang), pairs[i+1].(string))
	}
	return t
}

// Set stores v for l, or removes l when v is blank.
func (t Text) Set(l Lang, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		delete(t, l)
		return
	}
	t[l] = v
}

// In returns the text in l, falling back to the other languages in the
// order of Langs.
func (t Text) In(l Lang) string {
	if v := t[l]; v != "" {
		return v
	}
	for _, o := range Langs {
		if v := t[o]; v != "" {
			return v
		}
	}
	return ""
}

// Primary returns the first language, in the order of Langs, that has text.
func (t Text) Primary() Lang {
	for _, l := range Langs {
		if t[l] != "" {
			return l
		}
	}
	return FR
}

// IsEmpty reports whether no language has text.
func (t Text) IsEmpty() bool {
	for _, v := range t {
		if v != "" {
			return false
		}
	}
	return true
}

// All returns every value, default language first; search and similarity
// use it to match across languages.
func (t Text) All() []string {
	var out []string
	for _, l := range Langs {
		if v := t[l]; v != "" {
			out = append(out, v)
		}
	}
	return out
}
