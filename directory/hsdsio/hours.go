package hsdsio

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// ParseHours reads opening hours written the simple way of the CSV
// template (cmd/maillage/docs/import-template.md):
//
//	lun-ven 9h-12h, 13h30-17h; sam 10:00-12:00; 2026-12-25 fermé
//
// Rules are separated by ";" or new lines. A rule is days then periods:
// days are names or abbreviations in French, Dutch or English, or the
// iCalendar codes MO…SU, listed with "," or "et"/"en"/"and", with ranges
// written "lun-ven" or "du lundi au vendredi"; periods are "9h-12h",
// "09:00-12:00" or "9h30 à 12h", several separated by ",". A rule that
// starts with a date (YYYY-MM-DD) is an exception for that date: its
// periods, or "fermé"/"gesloten"/"closed". "ma" and "di" mean Monday and
// Tuesday in Dutch but Tuesday and Sunday in French: they are read in
// the language of the other days of the cell, and refused when nothing
// tells.
//
// It returns every problem found, each quoting the rule it is in.
func ParseHours(s string) (directory.Schedule, []string) {
	var sch directory.Schedule
	var problems []string
	s = strings.NewReplacer("–", "-", "—", "-", "\r", "\n").Replace(s)
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' })
	dutch, french := dayLanguage(parts)
	exceptions := map[string]int{}
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		folded := directory.Fold(part)
		if m := datePrefix.FindString(folded); m != "" {
			if _, err := time.Parse(time.DateOnly, m); err != nil {
				problems = append(problems, fmt.Sprintf("%q: %s is not a date", part, m))
				continue
			}
			j, ok := exceptions[m]
			if !ok {
				j = len(sch.Exceptions)
				exceptions[m] = j
				sch.Exceptions = append(sch.Exceptions, directory.Exception{Date: m})
			}
			rest := strings.TrimSpace(folded[len(m):])
			if closedWords[strings.Trim(rest, " .:")] {
				sch.Exceptions[j].Closed = true
				continue
			}
			spans, errs := parseSpans(rest)
			for _, e := range errs {
				problems = append(problems, fmt.Sprintf("%q: %s", part, e))
			}
			sch.Exceptions[j].Hours = append(sch.Exceptions[j].Hours, spans...)
			continue
		}
		i := strings.IndexFunc(folded, func(r rune) bool { return '0' <= r && r <= '9' })
		daysText, spansText := folded, ""
		if i >= 0 {
			daysText, spansText = folded[:i], folded[i:]
		}
		days, errs := parseDays(daysText, dutch, french)
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("%q: %s", part, e))
		}
		if i < 0 {
			if !closedWords[strings.Trim(lastWord(daysText), " .:")] {
				problems = append(problems, fmt.Sprintf("%q: no opening hours (write them like 9h-12h)", part))
			}
			continue // "dimanche fermé": nothing to add
		}
		if len(days) == 0 && len(errs) == 0 {
			problems = append(problems, fmt.Sprintf("%q: say which days (lun-ven, ma-vr, mon-fri)", part))
			continue
		}
		spans, errs := parseSpans(spansText)
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("%q: %s", part, e))
		}
		for _, d := range days {
			for _, sp := range spans {
				sch.Weekly = append(sch.Weekly, directory.Slot{Day: d, Opens: sp.Opens, Closes: sp.Closes})
			}
		}
	}
	return sch, problems
}

var datePrefix = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)

var closedWords = map[string]bool{"ferme": true, "fermee": true, "closed": true, "gesloten": true, "dicht": true}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// Day names by language; "ma" and "di" are in both French and Dutch.
var (
	days = map[string]time.Weekday{
		"mo": time.Monday, "tu": time.Tuesday, "we": time.Wednesday, "th": time.Thursday, "fr": time.Friday, "sa": time.Saturday, "su": time.Sunday,
		"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
		"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
	}
	frenchDays = map[string]time.Weekday{
		"lundi": time.Monday, "mardi": time.Tuesday, "mercredi": time.Wednesday, "jeudi": time.Thursday, "vendredi": time.Friday, "samedi": time.Saturday, "dimanche": time.Sunday,
		"lun": time.Monday, "mar": time.Tuesday, "mer": time.Wednesday, "jeu": time.Thursday, "ven": time.Friday, "sam": time.Saturday, "dim": time.Sunday,
		"lu": time.Monday, "me": time.Wednesday, "je": time.Thursday, "ve": time.Friday,
	}
	dutchDays = map[string]time.Weekday{
		"maandag": time.Monday, "dinsdag": time.Tuesday, "woensdag": time.Wednesday, "donderdag": time.Thursday, "vrijdag": time.Friday, "zaterdag": time.Saturday, "zondag": time.Sunday,
		"maa": time.Monday, "din": time.Tuesday, "woe": time.Wednesday, "don": time.Thursday, "vri": time.Friday, "zat": time.Saturday, "zon": time.Sunday,
		"wo": time.Wednesday, "do": time.Thursday, "vr": time.Friday, "za": time.Saturday, "zo": time.Sunday,
	}
	ambiguousDays = map[string][2]time.Weekday{"ma": {time.Tuesday, time.Monday}, "di": {time.Sunday, time.Tuesday}} // French, Dutch
)

var dashSpaces = regexp.MustCompile(`\s*-\s*`)

var dayWords = strings.NewReplacer(" au ", "-", " a ", "-", " tot ", "-", " t/m ", "-", " to ", "-", " et ", ",", " en ", ",", " and ", ",", "&", ",", "+", ",")

// dayTokens splits the days of a rule into tokens and ranges.
func dayTokens(text string) [][]string {
	text = " " + strings.Trim(text, " :") + " "
	for _, w := range []string{" du ", " van ", " from ", " le ", " les ", " de "} {
		text = strings.ReplaceAll(text, w, " ")
	}
	text = dayWords.Replace(text)
	text = dashSpaces.ReplaceAllString(text, "-")
	var out [][]string
	for _, tok := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '.' }) {
		if closedWords[tok] {
			continue
		}
		out = append(out, strings.Split(tok, "-"))
	}
	return out
}

// dayLanguage tells whether the days of a cell are written in Dutch or
// in French, from the names that belong to one language only.
func dayLanguage(parts []string) (dutch, french bool) {
	for _, part := range parts {
		folded := directory.Fold(part)
		if i := strings.IndexFunc(folded, func(r rune) bool { return '0' <= r && r <= '9' }); i >= 0 {
			folded = folded[:i]
		}
		for _, tok := range dayTokens(folded) {
			for _, t := range tok {
				if _, ok := dutchDays[t]; ok {
					dutch = true
				}
				if _, ok := frenchDays[t]; ok {
					french = true
				}
			}
		}
	}
	return dutch, french
}

func parseDays(text string, dutch, french bool) ([]time.Weekday, []string) {
	var out []time.Weekday
	var problems []string
	day := func(t string) (time.Weekday, bool) {
		if d, ok := days[t]; ok {
			return d, true
		}
		if d, ok := frenchDays[t]; ok {
			return d, true
		}
		if d, ok := dutchDays[t]; ok {
			return d, true
		}
		if both, ok := ambiguousDays[t]; ok {
			switch {
			case dutch && !french:
				return both[1], true
			case french && !dutch:
				return both[0], true
			}
			problems = append(problems, fmt.Sprintf("%q is a day in French and another in Dutch: write it in full (mardi, maandag…) or use mo, tu, we…", t))
			return 0, false
		}
		problems = append(problems, fmt.Sprintf("%q is not a day (lun, ma, mon, MO…)", t))
		return 0, false
	}
	for _, tok := range dayTokens(text) {
		switch len(tok) {
		case 1:
			if d, ok := day(tok[0]); ok {
				out = append(out, d)
			}
		case 2:
			from, ok1 := day(tok[0])
			to, ok2 := day(tok[1])
			if ok1 && ok2 {
				for d := from; ; d = (d + 1) % 7 {
					out = append(out, d)
					if d == to {
						break
					}
				}
			}
		default:
			problems = append(problems, fmt.Sprintf("%q is not a range of days", strings.Join(tok, "-")))
		}
	}
	return out, problems
}

var spanWords = strings.NewReplacer(" et ", ",", " en ", ",", " and ", ",", "&", ",", "/", ",", " a ", "-", " tot ", "-", " to ", "-")

func parseSpans(text string) ([]directory.Span, []string) {
	var out []directory.Span
	var problems []string
	text = spanWords.Replace(" " + text + " ")
	for _, sp := range strings.Split(text, ",") {
		sp = strings.TrimSpace(sp)
		if sp == "" {
			continue
		}
		ends := strings.Split(sp, "-")
		if len(ends) != 2 {
			problems = append(problems, fmt.Sprintf("%q is not a period like 9h-12h", sp))
			continue
		}
		o, err1 := parseTime(ends[0])
		c, err2 := parseTime(ends[1])
		for _, err := range []error{err1, err2} {
			if err != nil {
				problems = append(problems, err.Error())
			}
		}
		if err1 == nil && err2 == nil {
			out = append(out, directory.Span{Opens: o, Closes: c})
		}
	}
	return out, problems
}

var timeRE = regexp.MustCompile(`^(\d{1,2})(?:[:h.](\d{2})?)?h?$`)

// parseTime reads 9, 9h, 9h30, 09:30 or 9.30.
func parseTime(s string) (directory.Clock, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	m := timeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a time (9h, 9h30, 09:30)", s)
	}
	h, _ := strconv.Atoi(m[1])
	min := 0
	if m[2] != "" {
		min, _ = strconv.Atoi(m[2])
	}
	if h > 24 || min > 59 || (h == 24 && min != 0) {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return directory.Clock(h*60 + min), nil
}
