package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/hsdsio"
)

// The service editor's dated changes: one block per period, with its
// first and last day, "closed", the hours during the period written as
// people write them ("lundi 10:00-12:00; mercredi 14:00-16:00", read by
// the importer's ParseHours in French, Dutch or English), and a message
// in each language. The "closed" and "remove" boxes carry their block's
// number, as the exception rows do.

// periodRow is one block of the form, as stored or as typed.
type periodRow struct {
	N        int // from 1, as the problems number them
	From, To string
	Closed   bool
	Hours    string
	Messages []langField
	New      bool // the empty block to add a period
}

// periodRows are the blocks of the stored periods, and an empty one.
func periodRows(p *pageData, periods []directory.Period) []periodRow {
	var rows []periodRow
	for _, per := range periods {
		rows = append(rows, periodRow{From: per.From, To: per.To, Closed: per.Closed, Hours: hoursText(p, per.Hours),
			Messages: messageFields(per.Message)})
	}
	return withEmptyRow(rows)
}

// withEmptyRow numbers the blocks and adds an empty one.
func withEmptyRow(rows []periodRow) []periodRow {
	rows = append(rows, periodRow{New: true, Messages: messageFields(nil)})
	for i := range rows {
		rows[i].N = i + 1
	}
	return rows
}

func messageFields(t directory.Text) []langField {
	var out []langField
	for _, l := range directory.Langs {
		out = append(out, langField{Lang: l, Label: langLabels[l], Value: t[l]})
	}
	return out
}

// hoursText writes weekly slots as the form reads them back: each day
// by its name in the page's language, Monday first.
func hoursText(p *pageData, slots []directory.Slot) string {
	var days []string
	for i := range 7 {
		day := time.Weekday((i + 1) % 7)
		var spans []string
		for _, sl := range slots {
			if sl.Day == day {
				spans = append(spans, sl.Opens.String()+"-"+sl.Closes.String())
			}
		}
		if len(spans) > 0 {
			days = append(days, p.T("weekday "+strconv.Itoa(int(day)))+" "+strings.Join(spans, ", "))
		}
	}
	return strings.Join(days, "; ")
}

// periodsFromForm reads the blocks: the periods to store, the blocks as
// typed (to show again after a refusal), and what is wrong in them
// before the catalogue's checks (hours that cannot be read). An empty
// block, or one ticked "remove", is left out; a block without a last day
// lasts its first day.
func periodsFromForm(form url.Values, p *pageData) ([]directory.Period, []periodRow, []string) {
	froms, tos, hours := form["per_from"], form["per_to"], form["per_hours"]
	closed, removed := form["per_closed"], form["per_remove"]
	var out []directory.Period
	var rows []periodRow
	var problems []string
	for i := range froms {
		row := periodRow{From: strings.TrimSpace(at(froms, i)), To: strings.TrimSpace(at(tos, i)),
			Closed: slices.Contains(closed, strconv.Itoa(i)), Hours: strings.TrimSpace(at(hours, i))}
		msg := directory.Text{}
		for _, l := range directory.Langs {
			msg.Set(l, at(form["per_msg_"+string(l)], i))
		}
		row.Messages = messageFields(msg)
		if slices.Contains(removed, strconv.Itoa(i)) || (row.From == "" && row.To == "" && row.Hours == "" && msg.IsEmpty()) {
			continue
		}
		per := directory.Period{From: row.From, To: row.To, Closed: row.Closed, Message: msg}
		if per.To == "" {
			per.To = per.From
		}
		if row.Hours != "" {
			sch, bad := hsdsio.ParseHours(row.Hours)
			if len(bad) > 0 || len(sch.Weekly) == 0 || len(sch.Exceptions) > 0 {
				problems = append(problems, p.T("form period hours", len(rows)+1))
			}
			per.Hours = sch.Weekly
		}
		out = append(out, per)
		rows = append(rows, row)
	}
	return out, withEmptyRow(rows), problems
}
