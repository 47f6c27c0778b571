package search

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/maillage/maillage/directory"
)

// Age ranges: what a service's name or its age fields say of the ages it
// serves ("0-3 ans", "6 tot 12 jaar", "45 ans et plus", "60-plussers",
// "under 12"). Two services whose ranges do not overlap serve different
// people, whatever else they share (a crèche and an after-school club of
// one house). Only names and the age fields are read: they are what the
// index keeps of every service, so that a pair scores the same from
// either side.

// ageRange is a range of ages in years, both ends included, with the
// words that said it.
type ageRange struct {
	lo, hi int
	said   string
}

const ageMax = 120

var (
	ageWords   = `(?:ans|an|jaar|years?|yrs?)`
	ageBetween = regexp.MustCompile(`(?i)\b(?:de |van |from |vanaf )?(\d{1,2}) ?(?:-|–|à|a|tot|to|/) ?(\d{1,2}) ?` + ageWords + `\b`)
	ageAtLeast = regexp.MustCompile(`(?i)(?:\b(?:plus de|à partir de|dès|vanaf|ouder dan|over|from|aged) (\d{1,2}) ?` + ageWords + `?\b|\b(\d{1,2}) ?` + ageWords + ` (?:et plus|en ouder|en meer|and over|and older|or older)\b|\b(\d{1,2}) ?(?:\+|-plussers?|plussers?)(?:\s|$|\W))`)
	ageBelow   = regexp.MustCompile(`(?i)\b(?:(?:moins de|jusqu'à|onder|jonger dan|under|up to) (\d{1,2}) ?` + ageWords + `\b|under[- ](\d{1,2})s\b)`)
)

// agesOf returns the range of ages s says it serves, if it says one: the
// span of every range its names give, or its age fields.
func agesOf(s *directory.Service) *ageRange {
	var found []ageRange
	for _, t := range append(s.Name.All(), s.AlternateName.All()...) {
		if !strings.ContainsAny(t, "0123456789") {
			continue // every range names a number: most names are passed at once
		}
		t = strings.ToLower(t)
		for _, m := range ageBetween.FindAllStringSubmatch(t, -1) {
			lo, _ := strconv.Atoi(m[1])
			hi, _ := strconv.Atoi(m[2])
			if lo <= hi {
				found = append(found, ageRange{lo, hi, strings.TrimSpace(m[0])})
			}
		}
		for _, m := range ageAtLeast.FindAllStringSubmatch(t, -1) {
			for _, g := range m[1:] {
				if g != "" {
					lo, _ := strconv.Atoi(g)
					found = append(found, ageRange{lo, ageMax, strings.TrimSpace(m[0])})
				}
			}
		}
		for _, m := range ageBelow.FindAllStringSubmatch(t, -1) {
			hi, _ := strconv.Atoi(m[1] + m[2])
			if hi > 0 {
				found = append(found, ageRange{0, hi - 1, strings.TrimSpace(m[0])})
			}
		}
	}
	if len(found) == 0 && (s.MinimumAge != nil || s.MaximumAge != nil) {
		r := ageRange{0, ageMax, ""}
		if s.MinimumAge != nil {
			r.lo = *s.MinimumAge
		}
		if s.MaximumAge != nil {
			r.hi = *s.MaximumAge
		}
		r.said = strconv.Itoa(r.lo) + "-" + strconv.Itoa(r.hi)
		if r.hi >= ageMax {
			r.said = strconv.Itoa(r.lo) + "+"
		}
		found = append(found, r)
	}
	if len(found) == 0 {
		return nil
	}
	out := found[0]
	for _, r := range found[1:] {
		out.lo, out.hi = min(out.lo, r.lo), max(out.hi, r.hi)
		out.said += ", " + r.said
	}
	if out.lo > out.hi || out.hi > ageMax {
		return nil
	}
	return &out
}

// apart reports whether two age ranges share no more than a birthday: 0-3
// and 3-12 are apart, 6-12 and 10-14 are not.
func (a *ageRange) apart(b *ageRange) bool {
	return a != nil && b != nil && min(a.hi, b.hi) <= max(a.lo, b.lo)
}

// ageToken reports whether a word of a name is a number or a word of age.
func ageToken(w string) bool {
	switch w {
	case "an", "ans", "jaar", "year", "years", "yr", "yrs":
		return true
	}
	return strings.Trim(w, "0123456789") == ""
}
