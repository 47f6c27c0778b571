package store

import (
	"context"
	"testing"
	"time"

	"github.com/maillage/maillage/federation"
)

// The admin's choice to share statistics is off until made and kept; a
// partner's report replaces an older one only, and is forgotten on
// request (twice is no error).
func TestSharedStatistics(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	if on, err := s.StatsSharing(ctx); err != nil || on {
		t.Fatalf("sharing before any choice = %v, %v; want off", on, err)
	}
	for _, want := range []bool{true, false, true} {
		if err := s.SetStatsSharing(ctx, want); err != nil {
			t.Fatal(err)
		}
		if got, err := s.StatsSharing(ctx); err != nil || got != want {
			t.Errorf("sharing = %v, %v; want %v", got, err, want)
		}
	}

	const actor = "https://b.example/actor"
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	put := func(at time.Time, n int) bool {
		t.Helper()
		ok, err := s.PutPartnerStats(ctx, &federation.PartnerStats{Actor: actor, Updated: at, Months: []federation.StatsMonth{{Month: "2026-11",
			Tables: []federation.StatsTable{{Name: federation.StatsByTheme, Columns: []string{"sent", "received"},
				Totals: &federation.StatsLine{Cells: []federation.StatsValue{{N: n}, {Hidden: true}}, Total: federation.StatsValue{Hidden: true}}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !put(t0, 5) || !put(t0.Add(time.Minute), 7) {
		t.Fatal("a newer report was not applied")
	}
	if put(t0, 9) || put(t0.Add(time.Minute), 9) {
		t.Error("an older or same-time report replaced a newer one")
	}
	var got []federation.PartnerStats
	s.ForEachPartnerStats(ctx, func(p *federation.PartnerStats) error { got = append(got, *p); return nil })
	if len(got) != 1 || got[0].Months[0].Tables[0].Totals.Cells[0].N != 7 || !got[0].Months[0].Tables[0].Totals.Cells[1].Hidden {
		t.Errorf("partner statistics = %+v, want 7 and a hidden figure", got)
	}
	for range 2 {
		if err := s.DeletePartnerStats(ctx, actor); err != nil {
			t.Errorf("delete: %v", err)
		}
	}
	got = nil
	s.ForEachPartnerStats(ctx, func(p *federation.PartnerStats) error { got = append(got, *p); return nil })
	if len(got) != 0 {
		t.Errorf("partner statistics after delete = %+v", got)
	}
}

// The node's own shared months are frozen: the first kept of a month
// stays, whatever is offered later, and they come back oldest first.
func TestStatsMonthsFrozen(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	month := func(m string, n int) *federation.StatsMonth {
		return &federation.StatsMonth{Month: m, Tables: []federation.StatsTable{{Name: federation.StatsByTheme, Columns: []string{"sent", "received"},
			Rows: []federation.StatsLine{}, Totals: &federation.StatsLine{Cells: []federation.StatsValue{{N: n}, {N: 0}}, Total: federation.StatsValue{N: n}}}}}
	}
	if got, err := s.FrozenStatsMonths(ctx); err != nil || len(got) != 0 {
		t.Fatalf("frozen months at first: %+v, %v", got, err)
	}
	for _, m := range []*federation.StatsMonth{month("2026-11", 12), month("2026-10", 5)} {
		if kept, err := s.FreezeStatsMonth(ctx, m); err != nil || kept.Tables[0].Totals.Total.N != m.Tables[0].Totals.Total.N {
			t.Fatalf("freeze %s: %+v, %v", m.Month, kept, err)
		}
	}
	kept, err := s.FreezeStatsMonth(ctx, month("2026-11", 7))
	if err != nil || kept.Tables[0].Totals.Total.N != 12 {
		t.Errorf("freezing November again gives %+v, %v; want the 12 first kept", kept, err)
	}
	got, err := s.FrozenStatsMonths(ctx)
	if err != nil || len(got) != 2 || got[0].Month != "2026-10" || got[1].Month != "2026-11" || got[1].Tables[0].Totals.Total.N != 12 {
		t.Errorf("frozen months: %+v, %v", got, err)
	}
	if _, err := s.FreezeStatsMonth(ctx, &federation.StatsMonth{}); err == nil {
		t.Error("a month without its name is kept")
	}
}
