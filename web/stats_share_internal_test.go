package web

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
)

// The network's totals add up the complete months each association
// shares: exact when every figure is shown, and a lower bound ("≥", a
// hidden figure counting as 1) otherwise; sent and received stay apart;
// partners show by name, the node first, with their months when they
// are not the node's.
func TestNetworkTotals(t *testing.T) {
	v := func(n int) federation.StatsValue { return federation.StatsValue{N: n} }
	hidden := federation.StatsValue{Hidden: true}
	month := func(m string, sent, received federation.StatsValue, theme string, themeSent federation.StatsValue) federation.StatsMonth {
		return federation.StatsMonth{Month: m, Tables: []federation.StatsTable{
			{Name: federation.StatsByTheme, Columns: []string{"sent", "received"}, Rows: []federation.StatsLine{{Key: theme, Cells: []federation.StatsValue{themeSent, v(0)}}},
				Totals: &federation.StatsLine{Cells: []federation.StatsValue{sent, received}}},
			{Name: federation.StatsByState, Columns: []string{"sent", "received"}, Totals: &federation.StatsLine{Cells: []federation.StatsValue{v(40), v(40)}}},
		}}
	}
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	nf := &networkFigures{Now: at, Sharing: true,
		Own: &federation.StatsReport{Months: []federation.StatsMonth{month("2026-09", v(12), v(7), "sante", v(12)), month("2026-10", v(0), v(0), "sante", v(0))}},
		Partners: []*federation.PartnerStats{
			{Actor: "https://z.example/actor", Updated: at, Months: []federation.StatsMonth{month("2026-09", v(20), hidden, "sante", hidden), month("2026-10", v(5), v(0), "sante", v(5))}},
			{Actor: "https://y.example/actor", Updated: at, Months: []federation.StatsMonth{month("2026-08", v(5), v(0), federation.StatsUnknownTheme, v(5))}},
		}}
	names := map[string]string{"https://z.example/actor": "Atelier Z", "https://y.example/actor": "Maison Y"}
	p := newPageData(httptest.NewRequest("GET", "/admin/stats?lang=fr", nil), at)
	p.Node = "Maison X"
	l := statsLabels{p: p, tax: directory.DefaultTaxonomy(), partner: func(a string) string { return names[a] }}
	view := l.network(nf)

	if want := p.T("stats period", l.month("2026-09"), l.month("2026-10")); view.Period != want {
		t.Errorf("period = %q, want %q", view.Period, want)
	}
	var rows [][]string
	for _, r := range view.Associations.Rows {
		rows = append(rows, append([]string{r.Label}, r.Cells...))
	}
	want := [][]string{
		{"Maison X (nous)", "12", "7", p.Date(at)},
		{"Atelier Z", "25", "≥ 1", p.Date(at)},
		{"Maison Y", "5", "0", p.T("stats network other period", p.Date(at), l.month("2026-08"), l.month("2026-08"))},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("associations = %q, want %q", rows, want)
	}
	if got := view.Associations.Total.Cells; got[0] != "42" || got[1] != "≥ 8" {
		t.Errorf("totals = %q, want 42 sent and at least 8 received", got)
	}
	if !view.Lower {
		t.Error("a lower bound is not explained")
	}
	themes := map[string]string{}
	for _, r := range view.Themes.Rows {
		themes[r.Label] = r.Cells[0]
	}
	if themes[l.theme("sante")] != "≥ 18" || themes[l.theme("")] != "5" {
		t.Errorf("themes = %v", themes)
	}

	nf.Partners[0].Months[0] = month("2026-09", v(20), v(9), "sante", v(20))
	view = l.network(nf)
	sante := ""
	for _, r := range view.Themes.Rows {
		if r.Label == l.theme("sante") {
			sante = r.Cells[0]
		}
	}
	if view.Lower || view.Associations.Total.Cells[1] != "16" || sante != "37" {
		t.Errorf("every figure shown: lower %v, totals %q, health %q", view.Lower, view.Associations.Total.Cells, sante)
	}
}
