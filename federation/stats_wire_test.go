package federation

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/referral/stats"
)

// goodMonth is a month as referral/stats protects it: 7 referrals sent
// (to a health service), 12 received (theme unknown); 5 closed
// completed, 2 rejected for lack of capacity.
func goodMonth(month string) StatsMonth {
	cols := []string{stats.Sent, stats.Received}
	byTheme := stats.Protect([]string{"", "sante"}, cols, [][]int{{0, 12}, {7, 0}})
	byState := stats.Protect([]string{"completed", "rejected"}, cols, [][]int{{5, 0}, {2, 0}})
	byReason := stats.Protect([]string{"completed service-provided", "rejected no-capacity"}, cols, [][]int{{5, 0}, {2, 0}})
	byReason.ColTotals = nil
	same := func(k string) string { return k }
	unknown := func(k string) string {
		if k == "" {
			return StatsUnknownTheme
		}
		return k
	}
	return StatsMonth{Month: month, Tables: []StatsTable{wireTable(StatsByTheme, byTheme, unknown),
		wireTable(StatsByState, byState, same), wireTable(StatsByReason, byReason, same)}}
}

// goodStats is a report of three complete months before its time.
func goodStats() StatsReport {
	return StatsReport{ID: "https://a.example/stats", Type: typeStatsReport, AttributedTo: them, Updated: time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC),
		Months: []StatsMonth{goodMonth("2026-01"), goodMonth("2026-02"), goodMonth("2026-03")}}
}

// A partner's statistics are refused whole when any part is off, and
// above all when a month is not protected for small numbers: a figure
// from 1 to 4 shown, or a hidden one its line gives back.
func TestStatsReportChecked(t *testing.T) {
	f := referralFederator(t, true, nil)
	if _, err := f.readStatsReport(mustJSON(goodStats()), them); err != nil {
		t.Fatalf("a good report is refused: %v\n%s", err, mustJSON(goodStats()))
	}
	withdrawal := StatsReport{ID: "https://a.example/stats", Type: typeStatsReport, AttributedTo: them, Updated: time.Now(), Months: []StatsMonth{}}
	if _, err := f.readStatsReport(mustJSON(withdrawal), them); err != nil {
		t.Fatalf("a withdrawal is refused: %v", err)
	}
	year := goodStats()
	year.Months = nil
	for m := 4; m <= 15; m++ {
		year.Months = append(year.Months, goodMonth(time.Date(2025, time.Month(m), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")))
	}
	if _, err := f.readStatsReport(mustJSON(year), them); err != nil {
		t.Fatalf("the 12 months before the report are refused: %v", err)
	}
	row := func(r *StatsReport, table, key string) *StatsLine {
		ts := r.Months[2].Tables
		for i := range ts {
			if ts[i].Name != table {
				continue
			}
			for j := range ts[i].Rows {
				if ts[i].Rows[j].Key == key {
					return &ts[i].Rows[j]
				}
			}
		}
		t.Fatalf("no row %s %s", table, key)
		return nil
	}
	tables := func(r *StatsReport) []StatsTable { return r.Months[2].Tables }
	cases := map[string]func(r *StatsReport){
		"author":            func(r *StatsReport) { r.AttributedTo = "https://c.example/actor" },
		"id host":           func(r *StatsReport) { r.ID = "https://c.example/stats" },
		"no time":           func(r *StatsReport) { r.Updated = time.Time{} },
		"13 months":         func(r *StatsReport) { *r = year; r.Months = append(r.Months, goodMonth("2025-03")) },
		"month text":        func(r *StatsReport) { r.Months[0].Month = "last month" },
		"month format":      func(r *StatsReport) { r.Months[0].Month = "2026-1" },
		"month day":         func(r *StatsReport) { r.Months[0].Month = "2026-01-01" },
		"month twice":       func(r *StatsReport) { r.Months[1].Month = r.Months[0].Month },
		"current month":     func(r *StatsReport) { r.Months[2].Month = "2026-04" },
		"future month":      func(r *StatsReport) { r.Months[2].Month = "2027-03" },
		"month too old":     func(r *StatsReport) { r.Months[0].Month = "2025-03" },
		"too many tables":   func(r *StatsReport) { r.Months[2].Tables = append(tables(r), tables(r)[0]) },
		"table twice":       func(r *StatsReport) { tables(r)[1] = tables(r)[0] },
		"unknown table":     func(r *StatsReport) { tables(r)[0].Name = "by_partner" },
		"window table":      func(r *StatsReport) { tables(r)[0].Name = "by_month" },
		"columns":           func(r *StatsReport) { tables(r)[0].Columns = []string{"received", "sent"} },
		"theme":             func(r *StatsReport) { row(r, StatsByTheme, "sante").Key = "sante--acces-aux-soins" },
		"state":             func(r *StatsReport) { row(r, StatsByState, "completed").Key = "Zorglub" },
		"open state":        func(r *StatsReport) { row(r, StatsByState, "completed").Key = "accepted" },
		"reason":            func(r *StatsReport) { row(r, StatsByReason, "rejected no-capacity").Key = "rejected service-provided" },
		"long key":          func(r *StatsReport) { row(r, StatsByState, "completed").Key = strings.Repeat("a", maxStatsKey+1) },
		"one cell":          func(r *StatsReport) { row(r, StatsByTheme, "sante").Cells = []StatsValue{{N: 7}} },
		"no totals":         func(r *StatsReport) { tables(r)[0].Totals = nil },
		"reason totals":     func(r *StatsReport) { tables(r)[2].Totals = tables(r)[0].Totals },
		"a 3 shown":         func(r *StatsReport) { row(r, StatsByState, "rejected").Cells[0] = StatsValue{N: 3} },
		"in an older month": func(r *StatsReport) { r.Months[0].Tables[1].Rows[1].Cells[0] = StatsValue{N: 3} },
		"a 3 shown, adding up": func(r *StatsReport) {
			// Only the k rule refuses this one: the line adds up.
			l := row(r, StatsByReason, "rejected no-capacity")
			l.Cells[0], l.Total = StatsValue{N: 3}, StatsValue{N: 3}
		},
		"a hidden total shown": func(r *StatsReport) { row(r, StatsByReason, "rejected no-capacity").Total = StatsValue{N: 2} },
		"hidden alone": func(r *StatsReport) {
			// 7 sent shown: the hidden 7 is no secret, but a line with
			// one hidden figure gives it back.
			l := row(r, StatsByTheme, "sante")
			l.Cells[0], l.Total = StatsValue{N: 7}, StatsValue{Hidden: true}
		},
		"not adding up": func(r *StatsReport) { tables(r)[0].Totals.Total = StatsValue{N: 99} },
		"negative":      func(r *StatsReport) { row(r, StatsByTheme, "unknown").Cells[0] = StatsValue{N: -5} },
		"huge":          func(r *StatsReport) { tables(r)[0].Totals.Total = StatsValue{N: maxStatsCount + 1} },
	}
	for name, change := range cases {
		r := goodStats()
		r.Months = slices.Clone(r.Months)
		for i := range r.Months {
			var m StatsMonth
			json.Unmarshal(mustJSON(r.Months[i]), &m) // a deep copy
			r.Months[i] = m
		}
		change(&r)
		if _, err := f.readStatsReport(mustJSON(r), them); err == nil {
			t.Errorf("%s: report accepted", name)
		} else if strings.Contains(err.Error(), "Zorglub") || strings.Contains(err.Error(), "sante--") || strings.Contains(err.Error(), "last month") {
			t.Errorf("%s: the error echoes the peer's value: %v", name, err)
		}
	}
	many := goodStats()
	for i := range maxStatsRows + 1 {
		many.Months[0].Tables[0].Rows = append(many.Months[0].Tables[0].Rows, StatsLine{Key: fmt.Sprint(i), Cells: []StatsValue{{}, {}}})
	}
	if _, err := f.readStatsReport(mustJSON(many), them); err == nil {
		t.Error("a table of too many rows is accepted")
	}
	for _, raw := range []string{
		`{"months": "many"}`,
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
	rnd := mrand.New(mrand.NewPCG(20, 1))
	themes := []string{"", "sante", "famille", "trouver-un-emploi", "logement-hebergement", "numerique"}
	for i := range 300 {
		counts := make([][]int, len(themes))
		for j := range counts {
			counts[j] = []int{rnd.IntN(9) * rnd.IntN(2), rnd.IntN(9) * rnd.IntN(2)}
		}
		tab := wireTable(StatsByTheme, stats.Protect(themes, []string{stats.Sent, stats.Received}, counts), func(k string) string {
			if k == "" {
				return StatsUnknownTheme
			}
			return k
		})
		rep := goodStats()
		rep.Months[1].Tables[0] = tab
		if _, err := f.readStatsReport(mustJSON(rep), them); err != nil {
			t.Fatalf("case %d: counts %v: %v\n%s", i, counts, err, mustJSON(tab))
		}
	}
}

// The months a node computes, from referrals of any states and reasons,
// pass the receiver's checks too.
func TestComputedReportsPassTheChecks(t *testing.T) {
	f := referralFederator(t, true, nil)
	rnd := mrand.New(mrand.NewPCG(20, 2))
	loc := brussels()
	to := time.Date(2026, 4, 1, 0, 0, 0, 0, loc)
	from := to.AddDate(0, -12, 0)
	var months []time.Time
	for m := from; m.Before(to); m = m.AddDate(0, 1, 0) {
		months = append(months, m)
	}
	themes := map[string]string{"https://a.example/services/1": "sante", "https://c.example/services/2": "famille"}
	services := []string{"https://a.example/services/1", "https://c.example/services/2", "https://d.example/services/3"}
	ends := []struct {
		state  referral.State
		reason string
	}{{referral.Accepted, ""}, {referral.Requested, ""}, {referral.Rejected, "no-capacity"}, {referral.Rejected, "other"},
		{referral.Completed, "service-provided"}, {referral.Failed, "resident-unreachable"}, {referral.Cancelled, ""}, {referral.Expired, ""}}
	for i := range 100 {
		var refs []*referral.Referral
		for range rnd.IntN(80) {
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
				r.History = append(r.History, referral.Event{At: at.Add(time.Duration(rnd.IntN(60*24)) * time.Hour), To: end.state, Reason: end.reason})
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
		got, _, err := stats.ComputeMonths(context.Background(), src, stats.MonthsOptions{Months: months, Loc: loc,
			Theme: func(s string) string { return themes[s] }})
		if err != nil {
			t.Fatal(err)
		}
		out := StatsReport{ID: "https://a.example/stats", Type: typeStatsReport, AttributedTo: them, Updated: to.Add(time.Hour)}
		for _, m := range got {
			out.Months = append(out.Months, *sharedMonth(m))
		}
		if _, err := f.readStatsReport(mustJSON(out), them); err != nil {
			t.Fatalf("case %d (%d referrals): %v\n%s", i, len(refs), err, mustJSON(out))
		}
	}
}

// statsStore is a node's store as shared statistics use it: referrals,
// the admin's choice, the frozen months, one partner, and what is
// queued for it.
type statsStore struct {
	noStore
	mu      sync.Mutex
	refs    []*referral.Referral
	sharing bool
	months  map[string]StatsMonth
	queued  [][]byte
}

func (s *statsStore) Relations(context.Context) ([]*Relation, error) {
	return []*Relation{{Actor: them, Ours: StateAccepted, Theirs: StateAccepted, Kind: KindAssociation, Inbox: "https://a.example/inbox"}}, nil
}

func (s *statsStore) ForEachPartnerService(_ context.Context, fn func(*directory.PartnerService) error) error {
	for uri, theme := range map[string]string{"https://a.example/services/famille": "famille", "https://a.example/services/sante": "sante"} {
		if err := fn(&directory.PartnerService{URI: uri, Service: &directory.Service{Categories: []string{theme}}}); err != nil {
			return err
		}
	}
	return nil
}

func (s *statsStore) ForEachReferral(_ context.Context, fn func(*referral.Referral) error) error {
	s.mu.Lock()
	refs := slices.Clone(s.refs)
	s.mu.Unlock()
	for _, r := range refs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *statsStore) StatsSharing(context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sharing, nil
}

func (s *statsStore) SetStatsSharing(_ context.Context, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sharing = on
	return nil
}

func (s *statsStore) FrozenStatsMonths(context.Context) ([]StatsMonth, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []StatsMonth
	for _, m := range s.months {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b StatsMonth) int { return strings.Compare(a.Month, b.Month) })
	return out, nil
}

func (s *statsStore) FreezeStatsMonth(_ context.Context, m *StatsMonth) (*StatsMonth, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.months == nil {
		s.months = map[string]StatsMonth{}
	}
	if kept, ok := s.months[m.Month]; ok {
		return &kept, nil
	}
	var kept StatsMonth
	json.Unmarshal(mustJSON(m), &kept) // as a store would: a copy
	s.months[m.Month] = kept
	return &kept, nil
}

func (s *statsStore) QueueActivity(_ context.Context, _ string, activity []byte, _ []*Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued = append(s.queued, activity)
	return nil
}

// reports are the reports queued so far, as the partner reads them.
func (s *statsStore) reports(t *testing.T, partner *Federator) []*StatsReport {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*StatsReport
	for _, raw := range s.queued {
		var a Activity
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		rep, err := partner.readStatsReport(a.Object, "https://b.example/actor")
		if err != nil {
			t.Fatalf("the partner refuses a report: %v\n%s", err, a.Object)
		}
		out = append(out, rep)
	}
	return out
}

type statsCatalogStore struct{ memCatalogStore }

func (statsCatalogStore) ForEachService(context.Context, func(*directory.Service) error) error {
	return nil
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// statsNode is a node B (https://b.example) sharing statistics with its
// partner A on st, on the clock c, and A's federator, which reads what
// B sends.
func statsNode(t *testing.T, st *statsStore, c *clock) (b, a *Federator) {
	t.Helper()
	b, err := New(Options{BaseURL: "https://b.example", Handle: "b", Key: testKey(t), SealingKey: []byte{1},
		Catalog: directory.NewCatalog(statsCatalogStore{}, directory.Options{}), Store: st, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	a, err = New(Options{BaseURL: "https://a.example", Handle: "a", Key: testKey(t), SealingKey: []byte{1},
		Catalog: directory.NewCatalog(memCatalogStore{}, directory.Options{}), Store: noStore{}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return b, a
}

var statsRefSeq int

// sentAt records on st n referrals B sent at at to A's service of theme,
// rejected (no-capacity) an hour later when reject is set.
func (s *statsStore) sentAt(n int, at time.Time, theme string, reject bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		statsRefSeq++
		r := &referral.Referral{ID: fmt.Sprintf("https://b.example/referrals/r%d", statsRefSeq), Side: referral.Sender, Sender: "https://b.example/actor",
			Recipient: them, Service: "https://a.example/services/" + theme, State: referral.Requested, Created: at,
			History: []referral.Event{{At: at, From: referral.Draft, To: referral.Requested, By: referral.Sender}}}
		if reject {
			r.History = append(r.History, referral.Event{At: at.Add(time.Hour), From: referral.Requested, To: referral.Rejected, By: referral.Recipient, Reason: "no-capacity"})
			r.State, r.Reason = referral.Rejected, "no-capacity"
		}
		s.refs = append(s.refs, r)
	}
}

// sharingDifferencingData is B holding differencingData, sharing its
// statistics with its partner A since 15 December 2026 (c's time).
func sharingDifferencingData(t *testing.T) (st *statsStore, c *clock, b, a *Federator) {
	loc := brussels()
	st = &statsStore{}
	differencingData(st, loc)
	c = &clock{t: time.Date(2026, 12, 15, 9, 0, 0, 0, loc)}
	b, a = statsNode(t, st, c)
	if err := b.ShareStats(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	return st, c, b, a
}

// differencingData is a year of referrals where December 2025 holds 3
// referrals to a family service (rejected for lack of capacity), a
// number the reports must never let A work out: every month from
// December 2025 to November 2026 10 referrals to a health service, 10 to
// a family service in May 2026, and 20 health referrals in December
// 2026. Tables over a rolling 12-month window would show 13 family
// referrals in the report of December 2026 and 10 in that of January
// 2027, and 13 − 10 = 3.
func differencingData(st *statsStore, loc *time.Location) {
	st.sentAt(3, time.Date(2025, 12, 8, 10, 0, 0, 0, loc), "famille", true)
	for m := time.Date(2025, 12, 1, 0, 0, 0, 0, loc); m.Before(time.Date(2026, 12, 1, 0, 0, 0, 0, loc)); m = m.AddDate(0, 1, 0) {
		st.sentAt(10, m.AddDate(0, 0, 14), "sante", false)
	}
	st.sentAt(10, time.Date(2026, 5, 20, 10, 0, 0, 0, loc), "famille", false)
	st.sentAt(20, time.Date(2026, 12, 3, 10, 0, 0, 0, loc), "sante", false)
}

// figure is one published figure of a report: table, row key ("" for the
// totals), column (2: the row's total).
type figure struct {
	table, key string
	col        int
}

// sums adds up each figure of rep over its months, as a partner showing
// the year would; a sum with a hidden figure in it is left out.
func sums(rep *StatsReport) map[figure]int {
	out, hidden := map[figure]int{}, map[figure]bool{}
	for _, m := range rep.Months {
		for _, tb := range m.Tables {
			lines := slices.Clone(tb.Rows)
			if tb.Totals != nil {
				lines = append(lines, *tb.Totals)
			}
			for _, l := range lines {
				for j, v := range append(slices.Clone(l.Cells), l.Total) {
					k := figure{tb.Name, l.Key, j}
					if v.Hidden {
						hidden[k] = true
					}
					out[k] += v.N
				}
			}
		}
	}
	for k := range hidden {
		delete(out, k)
	}
	return out
}

// Issue 20 (privacy): two consecutive reports, as the partner receives
// them, do not let it subtract one from the other to work out a hidden
// small number. The 3 family referrals of December 2025 stay hidden in
// every report that holds that month, no published figure is 3, the
// months both reports hold are the same figures, and no difference of
// two yearly sums a partner could compute is 3.
func TestStatsReportsCannotBeSubtracted(t *testing.T) {
	loc := brussels()
	st, c, b, a := sharingDifferencingData(t)
	ctx := context.Background()
	c.Set(time.Date(2027, 1, 15, 9, 0, 0, 0, loc))
	if sent, err := b.PublishStats(ctx); err != nil || !sent {
		t.Fatalf("January's report: sent %v, %v", sent, err)
	}
	reps := st.reports(t, a)
	if len(reps) != 2 || len(reps[0].Months) != 12 || len(reps[1].Months) != 12 ||
		reps[0].Months[0].Month != "2025-12" || reps[1].Months[11].Month != "2026-12" {
		t.Fatalf("reports: %d, want December's and January's, of 12 months each", len(reps))
	}
	held := 0
	for i, rep := range reps {
		for _, m := range rep.Months {
			for _, tb := range m.Tables {
				lines := slices.Clone(tb.Rows)
				if tb.Totals != nil {
					lines = append(lines, *tb.Totals)
				}
				for _, l := range lines {
					for _, v := range append(slices.Clone(l.Cells), l.Total) {
						if !v.Hidden && v.N == 3 {
							t.Errorf("report %d, %s, %s %q: a 3 is published", i, m.Month, tb.Name, l.Key)
						}
					}
				}
			}
			if m.Month != "2025-12" {
				continue
			}
			held++
			tb, _ := m.Table(StatsByTheme)
			for _, l := range tb.Rows {
				if l.Key == "famille" && (!l.Cells[0].Hidden || !l.Total.Hidden) {
					t.Errorf("report %d: December 2025's family referrals are shown: %+v", i, l)
				}
			}
			tb, _ = m.Table(StatsByState)
			for _, l := range tb.Rows {
				if l.Key == "rejected" && !l.Cells[0].Hidden {
					t.Errorf("report %d: December 2025's rejections are shown: %+v", i, l)
				}
			}
		}
	}
	if held != 1 {
		t.Errorf("December 2025 is in %d reports, want the first only", held)
	}
	// The months both reports hold are the very same figures.
	for _, m := range reps[1].Months {
		for _, old := range reps[0].Months {
			if old.Month == m.Month && !bytes.Equal(mustJSON(old), mustJSON(m)) {
				t.Errorf("%s differs from one report to the next", m.Month)
			}
		}
	}
	// A partner subtracting the yearly sums gets December 2026 minus
	// December 2025, never 3.
	first, second := sums(reps[0]), sums(reps[1])
	for k, n := range first {
		if m, ok := second[k]; ok && (n-m == 3 || m-n == 3) {
			t.Errorf("%v: %d in one report, %d in the next: 3 worked out", k, n, m)
		}
	}
	if n, ok := second[figure{StatsByTheme, "famille", 0}]; !ok || n != 10 {
		t.Errorf("January's report: family referrals over the year %d (shown %v), want 10", n, ok)
	}
	if _, ok := first[figure{StatsByTheme, "famille", 0}]; ok {
		t.Error("December's report: the family referrals over the year are all shown, hidden 3 included")
	}
}

// A month, once computed, is sent as it was frozen: erasing or
// withdrawing referrals of that month afterwards (retention, a resident's
// request) does not change one figure of it, even on a node that
// restarts; only a month not frozen yet counts what is there.
func TestStatsMonthsFrozen(t *testing.T) {
	loc := brussels()
	st, c, b, a := sharingDifferencingData(t)
	ctx := context.Background()
	before := st.reports(t, a)[0]
	if len(st.months) != 12 {
		t.Fatalf("%d months frozen, want 12", len(st.months))
	}
	// The 3 family referrals of December 2025 are erased for good, May's
	// 10 are withdrawn (cancelled now, their records emptied), and
	// referrals of March disappear.
	st.mu.Lock()
	var kept []*referral.Referral
	for _, r := range st.refs {
		start := r.History[0].At
		switch {
		case strings.HasSuffix(r.Service, "famille") && start.Month() == time.December:
		case start.Year() == 2026 && start.Month() == time.March:
		case strings.HasSuffix(r.Service, "famille"):
			r.History = append(r.History, referral.Event{At: c.Now(), From: r.State, To: referral.Cancelled, By: referral.System})
			r.State, r.Service = referral.Cancelled, ""
			kept = append(kept, r)
		default:
			kept = append(kept, r)
		}
	}
	st.refs = kept
	st.mu.Unlock()
	// Recomputed, these months would differ: the test means something.
	var again []time.Time
	for _, m := range []string{"2025-12", "2026-03", "2026-05"} {
		at, _ := time.ParseInLocation("2006-01", m, loc)
		again = append(again, at)
	}
	themes, _ := b.serviceThemes(ctx)
	recomputed, _, err := stats.ComputeMonths(ctx, st.ForEachReferral, stats.MonthsOptions{Months: again, Loc: loc, Theme: func(s string) string { return themes[s] }})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range recomputed {
		for _, old := range before.Months {
			if old.Month == m.Month && bytes.Equal(mustJSON(old), mustJSON(sharedMonth(m))) {
				t.Fatalf("%s recomputed is the same: the test changes nothing", m.Month)
			}
		}
	}
	// The same node, and the node restarted (nothing in memory): the
	// months are sent as frozen.
	restarted, _ := statsNode(t, st, c)
	for name, f := range map[string]*Federator{"same node": b, "restarted": restarted} {
		own, err := f.OwnStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mustJSON(own.Months), mustJSON(before.Months)) {
			t.Errorf("%s: the frozen months changed:\n%s\nwant\n%s", name, mustJSON(own.Months), mustJSON(before.Months))
		}
	}
	// A month later, December 2026 is frozen as it is then; the months
	// before still as they were.
	c.Set(time.Date(2027, 1, 15, 9, 0, 0, 0, loc))
	if sent, err := b.PublishStats(ctx); err != nil || !sent {
		t.Fatalf("January's report: sent %v, %v", sent, err)
	}
	after := st.reports(t, a)[1]
	if !bytes.Equal(mustJSON(after.Months[:11]), mustJSON(before.Months[1:])) {
		t.Errorf("January's report changed a month already sent")
	}
	dec, _ := after.Months[11].Table(StatsByTheme)
	if after.Months[11].Month != "2026-12" || dec.Totals == nil || dec.Totals.Cells[0] != (StatsValue{N: 20}) {
		t.Errorf("December 2026: %s", mustJSON(after.Months[11]))
	}
	// The months before the node's first referral are not shared.
	empty := &statsStore{}
	empty.sentAt(6, time.Date(2026, 10, 5, 10, 0, 0, 0, loc), "sante", false)
	young, _ := statsNode(t, empty, &clock{t: time.Date(2026, 12, 15, 9, 0, 0, 0, loc)})
	own, err := young.OwnStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(own.Months) != 2 || own.Months[0].Month != "2026-10" || own.Months[1].Month != "2026-11" {
		t.Errorf("a node with referrals since October 2026 shares %s", mustJSON(own.Months))
	}
}

// The report goes again to the partners when it changes (checked every
// 10 minutes), and once a day when it does not: a partner that refused
// it, not knowing yet of the partnership, gets it the next day.
func TestStatsResentDaily(t *testing.T) {
	loc := brussels()
	st := &statsStore{}
	st.sentAt(6, time.Date(2026, 11, 5, 10, 0, 0, 0, loc), "sante", false)
	t0 := time.Date(2026, 12, 10, 9, 0, 0, 0, loc)
	c := &clock{t: t0}
	b, a := statsNode(t, st, c)
	ctx := context.Background()
	if err := b.ShareStats(ctx, true); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		after time.Duration
		sent  bool
	}{{0, false}, {10 * time.Minute, false}, {23 * time.Hour, false}, {24*time.Hour - time.Second, false},
		{24 * time.Hour, true}, {24*time.Hour + 10*time.Minute, false}, {47 * time.Hour, false}, {48 * time.Hour, true}} {
		c.Set(t0.Add(step.after))
		if sent, err := b.PublishStats(ctx); err != nil || sent != step.sent {
			t.Errorf("after %v: sent %v (%v), want %v", step.after, sent, err, step.sent)
		}
	}
	reps := st.reports(t, a)
	if len(reps) != 3 {
		t.Fatalf("%d reports sent, want 3", len(reps))
	}
	for i := 1; i < len(reps); i++ {
		if !reps[i].Updated.After(reps[i-1].Updated) || !bytes.Equal(mustJSON(reps[i].Months), mustJSON(reps[0].Months)) {
			t.Errorf("report %d: not a newer copy of the first", i)
		}
	}
	// A change goes at the next check, not a day later.
	c.Set(time.Date(2027, 1, 1, 9, 0, 0, 0, loc))
	if sent, err := b.PublishStats(ctx); err != nil || !sent {
		t.Errorf("the new month's report: sent %v, %v", sent, err)
	}
}

func testKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// The report of PROTOCOL.md, "Shared statistics", passes the receiver's
// checks.
func TestStatsProtocolExample(t *testing.T) {
	doc, err := os.ReadFile("PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## Shared statistics")
	_, block, _ := strings.Cut(section, "```json\n")
	block, _, _ = strings.Cut(block, "```")
	var a Activity
	if err := json.Unmarshal([]byte(block), &a); err != nil {
		t.Fatalf("the example is not JSON: %v", err)
	}
	f := referralFederator(t, true, nil)
	rep, err := f.readStatsReport(a.Object, a.Actor)
	if err != nil {
		t.Fatalf("the example is refused: %v", err)
	}
	if len(rep.Months) != 2 || rep.Months[1].Month != "2026-11" {
		t.Errorf("the example reads as %+v", rep.Months)
	}
}
