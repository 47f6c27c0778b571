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
		ok, err := s.PutPartnerStats(ctx, &federation.PartnerStats{Actor: actor, Updated: at, Period: &federation.StatsPeriod{From: "2025-12", To: "2026-11"},
			Tables: []federation.StatsTable{{Name: federation.StatsByMonth, Columns: []string{"sent", "received"},
				Totals: &federation.StatsLine{Cells: []federation.StatsValue{{N: n}, {Hidden: true}}, Total: federation.StatsValue{Hidden: true}}}}})
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
	if len(got) != 1 || got[0].Tables[0].Totals.Cells[0].N != 7 || !got[0].Tables[0].Totals.Cells[1].Hidden {
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
