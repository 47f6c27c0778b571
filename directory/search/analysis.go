package search

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/nl"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/maillage/maillage/directory"
)

// analyzers turn text of one language into the terms the index keeps:
// accents folded, lower case, stop words dropped and words stemmed, so
// that "colis alimentaires" finds "colis alimentaire". The linguistic
// work is bleve's analysis package; each distinct word goes through it
// once and its stems are remembered, as a directory repeats the same few
// thousand words.
type analyzers struct {
	by map[directory.Lang]analysis.Analyzer

	mu   sync.RWMutex
	memo map[directory.Lang]map[string][]string // folded word → stems; none for a stop word
}

// maxMemo bounds the remembered words of one language; past it the memo
// starts again (hostile text cannot grow it without limit).
const maxMemo = 200_000

// forget empties the memo.
func (a *analyzers) forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for l := range a.memo {
		a.memo[l] = map[string][]string{}
	}
}

func newAnalyzers() (*analyzers, error) {
	cache := registry.NewCache()
	a := &analyzers{by: map[directory.Lang]analysis.Analyzer{}, memo: map[directory.Lang]map[string][]string{}}
	for _, l := range []struct {
		lang    directory.Lang
		filters []string
	}{
		{directory.FR, []string{lowercase.Name, fr.ElisionName, fr.StopName, fr.LightStemmerName}},
		{directory.NL, []string{lowercase.Name, nl.StopName, nl.SnowballStemmerName}},
		{directory.EN, []string{lowercase.Name, en.PossessiveName, en.StopName, en.SnowballStemmerName}},
	} {
		an, err := cache.DefineAnalyzer("maillage_"+string(l.lang), map[string]any{
			"type":          custom.Name,
			"char_filters":  []string{asciifolding.Name},
			"tokenizer":     unicode.Name,
			"token_filters": l.filters,
		})
		if err != nil {
			return nil, fmt.Errorf("search: analyser %s: %w", l.lang, err)
		}
		a.by[l.lang] = an
		a.memo[l.lang] = map[string][]string{}
	}
	return a, nil
}

// word returns the stems of one folded word in language l.
func (a *analyzers) word(l directory.Lang, w string) []string {
	a.mu.RLock()
	st, ok := a.memo[l][w]
	a.mu.RUnlock()
	if ok {
		return st
	}
	for _, t := range a.by[l].Analyze([]byte(w)) {
		st = append(st, string(t.Term))
	}
	if len(st) > 0 {
		// Forms the stemmers leave apart: their base form's stems too.
		for _, v := range variants(l, w) {
			for _, t := range a.by[l].Analyze([]byte(v)) {
				if !slices.Contains(st, string(t.Term)) {
					st = append(st, string(t.Term))
				}
			}
		}
	}
	a.mu.Lock()
	if len(a.memo[l]) >= maxMemo {
		a.memo[l] = map[string][]string{}
	}
	a.memo[l][w] = st
	a.mu.Unlock()
	return st
}

// stems returns the terms of text in language l, each once.
func (a *analyzers) stems(l directory.Lang, text string) []string {
	if a.by[l] == nil || len(text) == 0 {
		return nil
	}
	var out []string
	for _, w := range words(text) {
		for _, s := range a.word(l, w) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// stopWord reports whether w is dropped as a stop word by one of the
// languages: such a word ("de", "van", "the") is not required to match.
func (a *analyzers) stopWord(w string) bool {
	for _, l := range directory.Langs {
		if len(a.word(l, w)) == 0 {
			return true
		}
	}
	return false
}

// variants are the base forms of a folded word that the Snowball
// stemmers do not reach: Dutch diminutives (huiswerkklasje, taalcafeetje,
// boompje, klasjes → huiswerkklas, taalcafe, boom, klas) and plurals in
// -ssen (cursussen → cursus), French plurals in -aux (travaux → travail,
// hôpitaux → hopital). Both forms are indexed and searched, so either
// finds the other.
func variants(l directory.Lang, w string) []string {
	if len(w) < 6 {
		return nil
	}
	var out []string
	switch l {
	case directory.NL:
		base := strings.TrimSuffix(w, "s") // klasjes → klasje
		for _, suf := range []string{"etje", "tje", "pje", "je"} {
			// Every reading: pakketje is pakket+je, cafeetje cafe+etje.
			if stem, ok := strings.CutSuffix(base, suf); ok && len(stem) >= 3 {
				out = append(out, stem)
			}
		}
		if stem, ok := strings.CutSuffix(w, "ssen"); ok && len(stem) >= 3 {
			out = append(out, stem+"s")
		}
	case directory.FR:
		if stem, ok := strings.CutSuffix(w, "aux"); ok {
			out = append(out, stem+"ail", stem+"al")
		}
	}
	return out
}
