package search

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/maillage/maillage/directory"
)

// The lexicon (lexicon.json, written for Maillage; see lexicon.md) groups
// the words and phrases of the social sector that mean the same thing in
// French, Dutch and English: "aidant proche", "mantelzorg" and "carer"
// are one concept. Services are matched through the concepts their names
// and descriptions hold, so that two services published in two languages
// meet although their names share no word, and a search for "banque
// alimentaire" finds a "Voedselpakket".

//go:embed lexicon.json
var lexiconJSON []byte

// lexPhrase is a phrase of the lexicon as the analyser reads it: the
// stems of its words, in order.
type lexPhrase struct {
	stems   []string
	concept string
	text    string
}

// lexicon matches phrases in texts, per language.
type lexicon struct {
	first map[directory.Lang]map[string][]lexPhrase // by the stem of its first word, longest first
	// broader are the concepts each concept is a kind of ("colis
	// alimentaire" is a kind of "aide alimentaire"): a text that names
	// one names its broader ones too.
	broader map[string][]string
}

var (
	lexOnce sync.Once
	lexMemo *lexicon
	lexErr  error
)

// loadLexicon reads the embedded lexicon once, stemmed by an.
func loadLexicon(an *analyzers) (*lexicon, error) {
	lexOnce.Do(func() { lexMemo, lexErr = parseLexicon(an, lexiconJSON) })
	return lexMemo, lexErr
}

func parseLexicon(an *analyzers, raw []byte) (*lexicon, error) {
	var f struct {
		Concepts []map[string]any `json:"concepts"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("search: lexicon: %w", err)
	}
	lx := &lexicon{first: map[directory.Lang]map[string][]lexPhrase{}, broader: map[string][]string{}}
	ids := map[string]bool{}
	for _, c := range f.Concepts {
		if id, _ := c["id"].(string); id != "" {
			ids[id] = true
		}
	}
	for _, l := range directory.Langs {
		lx.first[l] = map[string][]lexPhrase{}
	}
	for _, c := range f.Concepts {
		id, _ := c["id"].(string)
		if id == "" {
			return nil, fmt.Errorf("search: lexicon: a concept without id")
		}
		list, _ := c["broader"].([]any)
		for _, v := range list {
			b, _ := v.(string)
			if !ids[b] || b == id {
				return nil, fmt.Errorf("search: lexicon: %s: broader %q is no other concept", id, b)
			}
			lx.broader[id] = append(lx.broader[id], b)
		}
		for _, l := range directory.Langs {
			list, _ := c[string(l)].([]any)
			for _, v := range list {
				text, _ := v.(string)
				st := an.sequence(l, text)
				if len(st) == 0 {
					continue
				}
				lx.first[l][st[0]] = append(lx.first[l][st[0]], lexPhrase{stems: st, concept: id, text: text})
			}
		}
	}
	for _, m := range lx.first {
		for _, ps := range m {
			sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].stems) > len(ps[j].stems) })
		}
	}
	return lx, nil
}

// sequence returns the stems of text's words in order, one per word (its
// first), stop words left out.
func (a *analyzers) sequence(l directory.Lang, text string) []string {
	var out []string
	for _, w := range words(text) {
		if st := a.word(l, w); len(st) > 0 {
			out = append(out, st[0])
		}
	}
	return out
}

// found is a concept found in a text: the phrase that said it, and the
// positions of its words in the text's sequence.
type found struct {
	concept, text string
	from, to      int
}

// find returns the concepts of a sequence of stems in language l, the
// longest phrase first where two start at one word.
func (lx *lexicon) find(l directory.Lang, seq []string) []found {
	var out []found
	for i := 0; i < len(seq); i++ {
		for _, p := range lx.first[l][seq[i]] {
			if i+len(p.stems) <= len(seq) && slices.Equal(seq[i:i+len(p.stems)], p.stems) {
				out = append(out, found{p.concept, p.text, i, i + len(p.stems)})
				break
			}
		}
	}
	return out
}

// concepts returns the concepts of a text in every language it is
// given in, each with the phrase that said it.
func (lx *lexicon) concepts(an *analyzers, t directory.Text) map[string]string {
	out := map[string]string{}
	for _, l := range directory.Langs {
		if t[l] == "" {
			continue
		}
		for _, f := range lx.find(l, an.sequence(l, t[l])) {
			if _, ok := out[f.concept]; !ok {
				out[f.concept] = f.text
			}
			// One level up only: "colis" is food aid, not every
			// social service.
			for _, b := range lx.broader[f.concept] {
				if _, ok := out[b]; !ok {
					out[b] = f.text
				}
			}
		}
	}
	return out
}
