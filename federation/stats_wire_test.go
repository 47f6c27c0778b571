package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/referral/stats"
)

// goodStats is a report as referral/stats protects it: 7 referrals sent
// in March (5 accepted, 2 rejected for lack of capacity), 12 received.
func goodStats() StatsReport {
	months := []string{"2025-12", "2026-01", "2026-02", "2026-03"}
	byMonth := stats.Protect(months, []string{stats.Sent, stats.Received}, [][]int{{0, 6}, {0, 0}, {0, 6}, {7, 0}})
	byTheme := stats.Protect([]string{"", "sante"}, []string{stats.Sent, stats.Received}, [][]int{{0, 12}, {7, 0}})
	byState := stats.Protect([]string{"accepted", "rejected"}, []string{stats.Sent, stats.Received}, [][]int{{5, 12}, {2, 0}})
	byReason := stats.Protect([]string{"rejected no-capacity"}, []string{stats.Sent, stats.Received}, [][]int{{2, 0}})
	byReason.ColTotals = nil
	same := func(k string) string { return k }
	unknown := func(k string) string {
		if k == "" {
			return StatsUnknownTheme
		}
		return k
	}
	return StatsReport{ID: "https://a.example/stats", Type: typeStatsReport, AttributedTo: them, Updated: time.Now(),
		Period: &StatsPeriod{From: "2025-04", To: "2026-03"},
		Tables: []StatsTable{wireTable(StatsByMonth, byMonth, same), wireTable(StatsByTheme, byTheme, unknown),
			wireTable(StatsByState, byState, same), wireTable(StatsByReason, byReason, same)}}
}

// A partner's statistics are refused whole when any part is off, and
// above all when they are not protected for small numbers: a figure from
// 1 to 4 shown, or a hidden one its line gives back.
func TestStatsReportChecked(t *testing.T) {
	f := referralFederator(t, true, nil)
	if _, err := f.readStatsReport(mustJSON(goodStats()), them); err != nil {
		t.Fatalf("a good report is refused: %v\n%s", err, mustJSON(goodStats()))
	}
	withdrawal := StatsReport{ID: "https://a.example/stats", Type: typeStatsReport, AttributedTo: them, Updated: time.Now(), Tables: []StatsTable{}}
	if _, err := f.readStatsReport(mustJSON(withdrawal), them); err != nil {
		t.Fatalf("a withdrawal is refused: %v", err)
	}
	row := func(r *StatsReport, table, key string) *StatsLine {
		for i := range r.Tables {
			if r.Tables[i].Name != table {
				continue
			}
			for j := range r.Tables[i].Rows {
				if r.Tables[i].Rows[j].Key == key {
					return &r.Tables[i].Rows[j]
				}
			}
		}
		t.Fatalf("no row %s %s", table, key)
		return nil
	}
	cases := map[string]func(r *StatsReport){
		"author":          func(r *StatsReport) { r.AttributedTo = "https://c.example/actor" },
		"id host":         func(r *StatsReport) { r.ID = "https://c.example/stats" },
		"no time":         func(r *StatsReport) { r.Updated = time.Time{} },
		"no period":       func(r *StatsReport) { r.Period = nil },
		"long period":     func(r *StatsReport) { r.Period.From = "2023-01" },
		"period reversed": func(r *StatsReport) { r.Period.From, r.Period.To = r.Period.To, r.Period.From },
		"period text":     func(r *StatsReport) { r.Period.From = "last year" },
		"too many tables": func(r *StatsReport) { r.Tables = append(r.Tables, r.Tables[0]) },
		"twice":           func(r *StatsReport) { r.Tables[1] = r.Tables[0] },
		"unknown table":   func(r *StatsReport) { r.Tables[0].Name = "by_partner" },
		"columns":         func(r *StatsReport) { r.Tables[0].Columns = []string{"received", "sent"} },
		"month outside":   func(r *StatsReport) { row(r, StatsByMonth, "2025-12").Key = "2024-12" },
		"month twice":     func(r *StatsReport) { row(r, StatsByMonth, "2026-01").Key = "2025-12" },
		"theme":           func(r *StatsReport) { row(r, StatsByTheme, "sante").Key = "sante--acces-aux-soins" },
		"state":           func(r *StatsReport) { row(r, StatsByState, "accepted").Key = "Zorglub" },
		"reason":          func(r *StatsReport) { row(r, StatsByReason, "rejected no-capacity").Key = "rejected service-provided" },
		"long key":        func(r *StatsReport) { row(r, StatsByState, "accepted").Key = strings.Repeat("a", maxStatsKey+1) },
		"one cell":        func(r *StatsReport) { row(r, StatsByMonth, "2025-12").Cells = []StatsValue{{N: 0}} },
		"no totals":       func(r *StatsReport) { r.Tables[0].Totals = nil },
		"reason totals":   func(r *StatsReport) { r.Tables[3].Totals = r.Tables[0].Totals },
		"a 3 shown": func(r *StatsReport) {
			l := row(r, StatsByState, "rejected")
			l.Cells[0] = StatsValue{N: 3}
		},
		"a 3 shown, adding up": func(r *StatsReport) {
			// Only the k rule refuses this one: the line adds up.
			l := row(r, StatsByReason, "rejected no-capacity")
			l.Cells[0], l.Total = StatsValue{N: 3}, StatsValue{N: 3}
		},
		"a hidden total shown": func(r *StatsReport) {
			l := row(r, StatsByReason, "rejected no-capacity")
			l.Total = StatsValue{N: 2}
		},
		"hidden alone": func(r *StatsReport) {
			// 7 sent shown in March: the hidden 7 is no secret, but a line
			// with one hidden figure gives it back.
			l := row(r, StatsByMonth, "2026-03")
			l.Cells[0], l.Total = StatsValue{N: 7}, StatsValue{Hidden: true}
		},
		"not adding up": func(r *StatsReport) { r.Tables[0].Totals.Total = StatsValue{N: 99} },
		"negative":      func(r *StatsReport) { row(r, StatsByMonth, "2026-01").Cells[0] = StatsValue{N: -5} },
		"huge":          func(r *StatsReport) { r.Tables[0].Totals.Total = StatsValue{N: maxStatsCount + 1} },
	}
	for name, change := range cases {
		r := goodStats()
		change(&r)
		if _, err := f.readStatsReport(mustJSON(r), them); err == nil {
			t.Errorf("%s: report accepted", name)
		} else if strings.Contains(err.Error(), "Zorglub") || strings.Contains(err.Error(), "sante--") {
			t.Errorf("%s: the error echoes the peer's value: %v", name, err)
		}
	}
	many := goodStats()
	many.Tables = many.Tables[:1]
	for i := range maxStatsRows + 1 {
		many.Tables[0].Rows = append(many.Tables[0].Rows, StatsLine{Key: fmt.Sprint(i), Cells: []StatsValue{{}, {}}})
	}
	if _, err := f.readStatsReport(mustJSON(many), them); err == nil {
		t.Error("a table of too many rows is accepted")
	}
	for _, raw := range []string{
		`{"tables": "many"}`,
		strings.Replace(string(mustJSON(goodStats())), `"cells":[0,`, `"cells":[0.5,`, 1),
		strings.Replace(string(mustJSON(goodStats())), `"cells":[0,`, `"cells":["0",`, 1),
	} {
		if _, err := f.readStatsReport(json.RawMessage(raw), them); err == nil {
			t.Errorf("a report with a bad figure is accepted: %.120s", raw)
		}
	}
}

// Whatever the counts, the tables referral/stats protects pass the
// receiver's checks: a node never refuses an honest partner's report.
func TestProtectedTablesPassTheChecks(t *testing.T) {
	f := referralFederator(t, true, nil)
	rnd := rand.New(rand.NewPCG(20, 1))
	months := []string{"2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"}
	for i := range 300 {
		counts := make([][]int, len(months))
		for j := range counts {
			counts[j] = []int{rnd.IntN(9) * rnd.IntN(2), rnd.IntN(9) * rnd.IntN(2)}
		}
		tab := wireTable(StatsByMonth, stats.Protect(months, []string{stats.Sent, stats.Received}, counts), func(k string) string { return k })
		rep := goodStats()
		rep.Tables[0] = tab
		if _, err := f.readStatsReport(mustJSON(rep), them); err != nil {
			t.Fatalf("case %d: counts %v: %v\n%s", i, counts, err, mustJSON(tab))
		}
	}
}

// The whole report a node computes, from referrals of any states and
// reasons, passes the receiver's checks too.
func TestComputedReportsPassTheChecks(t *testing.T) {
	f := referralFederator(t, true, nil)
	rnd := rand.New(rand.NewPCG(20, 2))
	loc := brussels()
	to := time.Date(2026, 4, 1, 0, 0, 0, 0, loc)
	from := to.AddDate(0, -12, 0)
	themes := map[string]string{"https://a.example/services/1": "sante", "https://c.example/services/2": "famille"}
	services := []string{"https://a.example/services/1", "https://c.example/services/2", "https://d.example/services/3"}
	ends := []struct {
		state  referral.State
		reason string
	}{{referral.Accepted, ""}, {referral.Requested, ""}, {referral.Rejected, "no-capacity"}, {referral.Rejected, "other"},
		{referral.Completed, "service-provided"}, {referral.Failed, "resident-unreachable"}, {referral.Cancelled, ""}}
	for i := range 200 {
		var refs []*referral.Referral
		for range rnd.IntN(60) {
			at := from.Add(time.Duration(rnd.IntN(365*24)) * time.Hour)
			end := ends[rnd.IntN(len(ends))]
			r := &referral.Referral{Side: referral.Sender, Sender: us, Recipient: them, Service: services[rnd.IntN(len(services))],
				State: end.state, Reason: end.reason, Created: at,
				History: []referral.Event{{At: at, To: referral.Requested}}}
			if rnd.IntN(2) == 0 {
				r.Side, r.Sender, r.Recipient = referral.Recipient, them, us
				r.History[0].To = referral.Received
			}
			if end.state != referral.Requested {
				r.History = append(r.History, referral.Event{At: at.Add(time.Hour), To: end.state, Reason: end.reason})
			}
			refs = append(refs, r)
		}
		src := func(_ context.Context, fn func(*referral.Referral) error) error {
			for _, r := range refs {
				if err := fn(r); err != nil {
					return err
				}
			}
			return nil
		}
		rep, err := stats.Compute(context.Background(), src, stats.Options{From: from, To: to, Loc: loc, AsOf: to,
			Theme: func(s string) string { return themes[s] }})
		if err != nil {
			t.Fatal(err)
		}
		out := sharedReport(rep)
		out.ID, out.Type, out.AttributedTo, out.Updated = "https://a.example/stats", typeStatsReport, them, time.Now()
		if _, err := f.readStatsReport(mustJSON(out), them); err != nil {
			t.Fatalf("case %d (%d referrals): %v\n%s", i, len(refs), err, mustJSON(out))
		}
	}
}
