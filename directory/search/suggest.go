package search

import (
	"sort"
	"strings"
)

// Spelling is a word of a search that no service contains, with the
// indexed words spelled closest to it, the most used first.
type Spelling struct {
	Word  string   // folded, as the index compares words
	Close []string // folded indexed words at most two edits away
}

// spellingEdits is how far a suggested word may be from a typed one: two
// edits catch what a resident types by ear ("episserie", a word of five
// letters or more being already matched one edit away by the search
// itself); a short word gets one, or "cour" would bring "voor".
func spellingEdits(word []rune) int {
	if len(word) < 6 {
		return 1
	}
	return 2
}

// CloseWords returns, for each word of text of four letters or more that
// no service contains, up to n indexed words spelled closely (see
// spellingEdits). It reads the whole dictionary, which a search with
// results never needs: it is meant for the page that found nothing.
func (x *Index) CloseWords(text string, n int) []Spelling {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Spelling
	for _, w := range words(text) {
		if len([]rune(w)) < 4 || x.post(kFolded+w).GetCardinality() > 0 {
			continue
		}
		if close := x.closeTo(w, n); len(close) > 0 {
			out = append(out, Spelling{Word: w, Close: close})
		}
	}
	return out
}

// closeTo finds the live indexed words closest to w, nearest first, then
// the most used.
func (x *Index) closeTo(w string, n int) []string {
	type cand struct {
		word  string
		dist  int
		count uint64
	}
	rw := []rune(w)
	limit := spellingEdits(rw)
	var found []cand
	for key, id := range x.terms {
		c, ok := strings.CutPrefix(key, kFolded)
		if !ok {
			continue
		}
		rc := []rune(c)
		if abs(len(rc)-len(rw)) > limit {
			continue
		}
		d := editDistance(rw, rc, limit)
		if d > limit {
			continue
		}
		if count := x.posts[id].GetCardinality(); count > 0 {
			found = append(found, cand{c, d, count})
		}
	}
	sort.Slice(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if a.dist != b.dist {
			return a.dist < b.dist
		}
		if a.count != b.count {
			return a.count > b.count
		}
		return a.word < b.word
	})
	var out []string
	for _, c := range found[:min(n, len(found))] {
		out = append(out, c.word)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b, or limit+1 as
// soon as it is known to exceed limit.
func editDistance(a, b []rune, limit int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit+1)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
