package web

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
)

// The network's totals are exact when every figure is shown, and a lower
// bound ("≥", a hidden figure counting as 1) otherwise; sent and received
// stay apart; partners show by name, the node first.
func TestNetworkTotals(t *testing.T) {
	v := func(n int) federation.StatsValue { return federation.StatsValue{N: n} }
	hidden := federation.StatsValue{Hidden: true}
	report := func(sent, received federation.StatsValue, theme string, themeSent federation.StatsValue) []federation.StatsTable {
		return []federation.StatsTable{
			{Name: federation.StatsByMonth, Columns: []string{"sent", "received"}, Totals: &federation.StatsLine{Cells: []federation.StatsValue{sent, received}}},
			{Name: federation.StatsByTheme, Columns: []string{"sent", "received"}, Rows: []federation.StatsLine{{Key: theme, Cells: []federation.StatsValue{themeSent, v(0)}}}},
		}
	}
	period := &federation.StatsPeriod{From: "2025-11", To: "2026-10"}
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	nf := &networkFigures{Now: at, Sharing: true,
		Own: &federation.StatsReport{Period: period, Tables: report(v(12), v(7), "sante", v(12))},
		Partners: []*federation.PartnerStats{
			{Actor: "https://z.example/actor", Updated: at, Period: period, Tables: report(v(20), hidden, "sante", hidden)},
			{Actor: "https://y.example/actor", Updated: at, Period: &federation.StatsPeriod{From: "2025-10", To: "2026-09"}, Tables: report(v(5), v(0), federation.StatsUnknownTheme, v(5))},
		}}
	names := map[string]string{"https://z.example/actor": "Atelier Z", "https://y.example/actor": "Maison Y"}
	p := newPageData(httptest.NewRequest("GET", "/admin/stats?lang=fr", nil), at)
	p.Node = "Maison X"
	l := statsLabels{p: p, tax: directory.DefaultTaxonomy(), partner: func(a string) string { return names[a] }}
	view := l.network(nf)

	var rows [][]string
	for _, r := range view.Associations.Rows {
		rows = append(rows, append([]string{r.Label}, r.Cells...))
	}
	want := [][]string{
		{"Maison X (nous)", "12", "7", p.Date(at)},
		{"Atelier Z", "20", "< 5*", p.Date(at)},
		{"Maison Y", "5", "0", p.T("stats network other period", p.Date(at), l.month("2025-10"), l.month("2026-09"))},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("associations = %q, want %q", rows, want)
	}
	if got := view.Associations.Total.Cells; got[0] != "37" || got[1] != "≥ 8" {
		t.Errorf("totals = %q, want 37 sent and at least 8 received", got)
	}
	if !view.Lower {
		t.Error("a lower bound is not explained")
	}
	themes := map[string]string{}
	for _, r := range view.Themes.Rows {
		themes[r.Label] = r.Cells[0]
	}
	if themes[l.theme("sante")] != "≥ 13" || themes[l.theme("")] != "5" {
		t.Errorf("themes = %v", themes)
	}

	nf.Partners[0].Tables = report(v(20), v(9), "sante", v(20))
	view = l.network(nf)
	sante := ""
	for _, r := range view.Themes.Rows {
		if r.Label == l.theme("sante") {
			sante = r.Cells[0]
		}
	}
	if view.Lower || view.Associations.Total.Cells[1] != "16" || sante != "32" {
		t.Errorf("every figure shown: lower %v, totals %q, health %q", view.Lower, view.Associations.Total.Cells, sante)
	}
}
