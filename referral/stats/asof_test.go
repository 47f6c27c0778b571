package stats_test

import (
	"context"
	"testing"
	"time"

	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/referral/stats"
)

// With AsOf, each referral counts in the state it had then: a referral
// accepted in March and completed in May counts as accepted as of April,
// as completed (with its reason) as of June, and without AsOf as it is
// now.
func TestAsOfCountsPastStates(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	loc, _ := time.LoadLocation("Europe/Brussels")
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	march := time.Date(2026, 3, 10, 9, 0, 0, 0, loc)
	for range 6 {
		put(t, st, referral.Sender, "https://b.example/actor", "https://b.example/services/s1", march, time.Hour, 60*24*time.Hour, referral.Completed, "service-provided")
	}
	states := func(asOf time.Time) map[string]stats.Value {
		rep, err := stats.Compute(ctx, st.ForEachReferral, stats.Options{From: from, To: from.AddDate(1, 0, 0), Loc: loc, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]stats.Value{}
		for i, k := range rep.ByState.Rows {
			out[k] = rep.ByState.Cells[i][0]
		}
		for i, k := range rep.ByReason.Rows {
			out[k] = rep.ByReason.Cells[i][0]
		}
		return out
	}
	april := time.Date(2026, 4, 1, 0, 0, 0, 0, loc)
	if got := states(april); len(got) != 1 || got["accepted"] != (stats.Value{N: 6}) {
		t.Errorf("as of April: %+v, want 6 accepted", got)
	}
	june := time.Date(2026, 6, 1, 0, 0, 0, 0, loc)
	for _, got := range []map[string]stats.Value{states(june), states(time.Time{})} {
		if len(got) != 2 || got["completed"] != (stats.Value{N: 6}) || got["completed service-provided"] != (stats.Value{N: 6}) {
			t.Errorf("as of June, or now: %+v, want 6 completed, service provided", got)
		}
	}
}
