package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// exceptionsFromForm reads the service editor's exception rows: one date
// each, closed that day or open at the hours given. The "closed" boxes
// carry their row's number, not its date: a row added in one go has no
// date yet when the page is drawn, and its box would be sent empty.
//
// A dated row with neither the box ticked nor hours says nothing people
// can use, so it is refused with the row's date and what to do, and the
// form comes back with everything typed.
func exceptionsFromForm(form url.Values, p *pageData) ([]directory.Exception, []string) {
	dates, closed := form["exc_date"], form["exc_closed"]
	opens, closes := form["exc_opens"], form["exc_closes"]
	var out []directory.Exception
	var problems []string
	for i, date := range dates {
		date = strings.TrimSpace(date)
		if date == "" {
			continue
		}
		e := directory.Exception{Date: date, Closed: slices.Contains(closed, strconv.Itoa(i))}
		o, c := strings.TrimSpace(at(opens, i)), strings.TrimSpace(at(closes, i))
		switch {
		case e.Closed:
		case o == "" && c == "":
			problems = append(problems, p.T("form exception empty", exceptionDay(p, date)))
		default:
			span, ok := parseSpan(o, c)
			if !ok {
				problems = append(problems, p.T("form exception hours", exceptionDay(p, date)))
				break
			}
			e.Hours = []directory.Span{span}
		}
		out = append(out, e)
	}
	return out, problems
}

// parseSpan reads an opening and a closing time of a form row.
func parseSpan(opens, closes string) (directory.Span, bool) {
	o, err1 := directory.ParseClock(opens)
	c, err2 := directory.ParseClock(closes)
	return directory.Span{Opens: o, Closes: c}, err1 == nil && err2 == nil && o < c
}

// at returns the i-th value of a form list, "" past its end: a browser
// sends every row's inputs, a hand-made request may not.
func at(vs []string, i int) string {
	if i < len(vs) {
		return vs[i]
	}
	return ""
}

// exceptionDay writes an exception's date as people read it, or as typed
// when it is not a date.
func exceptionDay(p *pageData, date string) string {
	if t, err := time.Parse(time.DateOnly, date); err == nil {
		return p.Date(t)
	}
	return date
}
