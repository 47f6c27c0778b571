package stats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/referral/stats"
)

// ComputeMonths counts each month apart: the referrals sent or received
// in it by theme, and those closed in it by final state and reason, a
// referral in the month it closed only; first is the earliest start.
func TestComputeMonths(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	loc, _ := time.LoadLocation("Europe/Brussels")
	march := time.Date(2026, 3, 10, 9, 0, 0, 0, loc)
	for range 6 {
		// Sent in March, accepted, completed in May.
		put(t, st, referral.Sender, "https://b.example/actor", "https://b.example/services/s1", march, time.Hour, 60*24*time.Hour, referral.Completed, "service-provided")
		// Sent in March, rejected in March.
		put(t, st, referral.Sender, "https://b.example/actor", "https://b.example/services/s1", march, 2*time.Hour, 0, referral.Rejected, "no-capacity")
		// Received in April, still open.
		put(t, st, referral.Recipient, "https://c.example/actor", "https://a.example/services/mine", march.AddDate(0, 1, 0), 0, 0, "", "")
	}
	put(t, st, referral.Sender, "https://b.example/actor", "https://b.example/services/s1", time.Date(2025, 6, 1, 9, 0, 0, 0, loc), 0, 0, "", "")
	var months []time.Time
	for m := 3; m <= 5; m++ {
		months = append(months, time.Date(2026, time.Month(m), 1, 0, 0, 0, 0, loc))
	}
	themes := map[string]string{"https://b.example/services/s1": "sante"}
	got, first, err := stats.ComputeMonths(ctx, st.ForEachReferral, stats.MonthsOptions{Months: months, Loc: loc, Theme: func(s string) string { return themes[s] }})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equal(time.Date(2025, 6, 1, 9, 0, 0, 0, loc)) {
		t.Errorf("first = %v, want June 2025", first)
	}
	if len(got) != 3 || got[0].Month != "2026-03" || got[2].Month != "2026-05" {
		t.Fatalf("months: %+v", got)
	}
	cells := func(tb stats.Table) map[string][2]stats.Value {
		out := map[string][2]stats.Value{}
		for i, k := range tb.Rows {
			out[k] = [2]stats.Value{tb.Cells[i][0], tb.Cells[i][1]}
		}
		if tb.ColTotals != nil {
			out["total"] = [2]stats.Value{tb.ColTotals[0], tb.ColTotals[1]}
		}
		return out
	}
	v := func(n int) stats.Value { return stats.Value{N: n} }
	want := []struct{ theme, state, reason map[string][2]stats.Value }{
		{theme: map[string][2]stats.Value{"sante": {v(12), v(0)}, "total": {v(12), v(0)}},
			state:  map[string][2]stats.Value{"rejected": {v(6), v(0)}, "total": {v(6), v(0)}},
			reason: map[string][2]stats.Value{"rejected no-capacity": {v(6), v(0)}}},
		{theme: map[string][2]stats.Value{"": {v(0), v(6)}, "total": {v(0), v(6)}},
			state:  map[string][2]stats.Value{"total": {v(0), v(0)}},
			reason: map[string][2]stats.Value{}},
		{theme: map[string][2]stats.Value{"total": {v(0), v(0)}},
			state:  map[string][2]stats.Value{"completed": {v(6), v(0)}, "total": {v(6), v(0)}},
			reason: map[string][2]stats.Value{"completed service-provided": {v(6), v(0)}}},
	}
	for i, w := range want {
		m := got[i]
		for name, pair := range map[string][2]map[string][2]stats.Value{"theme": {cells(m.ByTheme), w.theme}, "state": {cells(m.ByState), w.state}, "reason": {cells(m.ByReason), w.reason}} {
			if fmt.Sprint(pair[0]) != fmt.Sprint(pair[1]) {
				t.Errorf("%s by %s: %v, want %v", m.Month, name, pair[0], pair[1])
			}
		}
	}
}
