package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/maillage/maillage/federation"
)

// The network's statistics (issue 20, part 1): an admin may share the
// node's referral counts with its partners, as tables already protected
// for small numbers, and sees on the statistics page the network's
// figures: its own and those each partner shares, by association, with
// totals over the complete months each shares (each month as its sender
// froze it: the node's own figures too, as its partners see them). A total with a hidden figure in it is a lower bound ("≥"): a
// hidden figure is at least 1 (zeros are always shown) and counts as 1.
// Sent and received are never added together: a referral between two
// partners is sent by one and received by the other.

// SharedStats is what the statistics page needs of the network to share
// the node's figures and show its partners' (federation.Federator).
type SharedStats interface {
	StatsSharing(ctx context.Context) (bool, error)
	ShareStats(ctx context.Context, on bool) error
	OwnStats(ctx context.Context) (*federation.StatsReport, error)
	PartnerStats(ctx context.Context) ([]*federation.PartnerStats, error)
}

func (s *Server) sharedStats() SharedStats {
	sh, _ := s.Network.(SharedStats)
	return sh
}

// networkFigures are the node's shared figures (or those it would
// share) and its partners'.
type networkFigures struct {
	Sharing  bool
	Own      *federation.StatsReport
	Partners []*federation.PartnerStats
	Silent   int // partners that share nothing
	Now      time.Time
}

// networkFigures reads the network's figures; nil without federation.
func (s *Server) networkFigures(ctx context.Context) (*networkFigures, error) {
	sh := s.sharedStats()
	if sh == nil {
		return nil, nil
	}
	nf := &networkFigures{Now: s.Now()}
	var err error
	if nf.Sharing, err = sh.StatsSharing(ctx); err != nil {
		return nil, err
	}
	if nf.Own, err = sh.OwnStats(ctx); err != nil {
		return nil, err
	}
	if nf.Partners, err = sh.PartnerStats(ctx); err != nil {
		return nil, err
	}
	rels, err := s.Network.Relations(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		if r.IsPartner() {
			nf.Silent++
		}
	}
	nf.Silent -= len(nf.Partners)
	return nf, nil
}

// shareStatsPage records the admin's choice to share the statistics.
func (s *Server) shareStatsPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	sh := s.sharedStats()
	if sh == nil {
		return "", 0, errNotReady
	}
	if err := sh.ShareStats(r.Context(), r.PostFormValue("share") == "on"); err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/admin/stats#share", http.StatusSeeOther)
	return "", 0, nil
}

// networkSum adds up one figure over several associations.
type networkSum struct {
	N     int
	Lower bool // a hidden figure is in it, counted as 1
}

func (s *networkSum) add(v federation.StatsValue) {
	if v.Hidden {
		s.N++
		s.Lower = true
		return
	}
	s.N += v.N
}

// networkSource is one association's report as the page reads it: its
// months, oldest first, each as the association froze it.
type networkSource struct {
	Name    string
	Own     bool
	Updated time.Time
	Months  []federation.StatsMonth
}

// span is the first and last month of the source's months; nil without
// any.
func (s networkSource) span() *monthSpan {
	if len(s.Months) == 0 {
		return nil
	}
	sp := &monthSpan{From: s.Months[0].Month, To: s.Months[0].Month}
	for _, m := range s.Months[1:] {
		sp.From, sp.To = min(sp.From, m.Month), max(sp.To, m.Month)
	}
	return sp
}

// monthSpan is a span of months, both included (YYYY-MM).
type monthSpan struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (nf *networkFigures) sources(l statsLabels) []networkSource {
	out := []networkSource{{Name: l.p.Node, Own: true, Updated: nf.Now, Months: nf.Own.Months}}
	for _, ps := range nf.Partners {
		out = append(out, networkSource{Name: l.partner(ps.Actor), Updated: ps.Updated, Months: ps.Months})
	}
	slices.SortStableFunc(out[1:], func(a, b networkSource) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// networkTotals are the network's figures added up over the months each
// association shares: each association's referrals sent and received,
// their sums, and the sums by theme ("" for an unknown theme).
type networkTotals struct {
	Sources        []networkSource
	Sent, Received []*networkSum // by source; nil: nothing shared
	SumSent        networkSum
	SumReceived    networkSum
	Themes         map[string]*[2]networkSum
}

func (nf *networkFigures) totals(l statsLabels) networkTotals {
	nt := networkTotals{Sources: nf.sources(l), Themes: map[string]*[2]networkSum{}}
	for _, src := range nt.Sources {
		var sent, received *networkSum
		for _, m := range src.Months {
			t, ok := m.Table(federation.StatsByTheme)
			if !ok {
				continue
			}
			if t.Totals != nil && len(t.Totals.Cells) == 2 {
				if sent == nil {
					sent, received = &networkSum{}, &networkSum{}
				}
				sent.add(t.Totals.Cells[0])
				received.add(t.Totals.Cells[1])
				nt.SumSent.add(t.Totals.Cells[0])
				nt.SumReceived.add(t.Totals.Cells[1])
			}
			for _, r := range t.Rows {
				if len(r.Cells) != 2 {
					continue
				}
				key := r.Key
				if key == federation.StatsUnknownTheme {
					key = ""
				}
				if nt.Themes[key] == nil {
					nt.Themes[key] = &[2]networkSum{}
				}
				nt.Themes[key][0].add(r.Cells[0])
				nt.Themes[key][1].add(r.Cells[1])
			}
		}
		nt.Sent, nt.Received = append(nt.Sent, sent), append(nt.Received, received)
	}
	return nt
}

// networkView is the page's "Network" section.
type networkView struct {
	Sharing      bool
	Period       string
	Associations statsTable
	Themes       statsTable
	Tables       []statsTable // Associations and Themes, for the page
	Lower        bool         // a total is a lower bound
	Silent       int
}

func (l statsLabels) period(p *monthSpan) string {
	if p == nil {
		return ""
	}
	return l.p.T("stats period", l.month(p.From), l.month(p.To))
}

func (l statsLabels) sum(s networkSum) string {
	if s.Lower {
		return "≥ " + l.p.Num(s.N)
	}
	return l.p.Num(s.N)
}

func (l statsLabels) sumOf(s *networkSum) string {
	if s == nil {
		return "—"
	}
	return l.sum(*s)
}

func (l statsLabels) network(nf *networkFigures) networkView {
	p := l.p
	nt := nf.totals(l)
	own := networkSource{Months: nf.Own.Months}
	v := networkView{Sharing: nf.Sharing, Period: l.period(own.span()), Silent: nf.Silent}
	v.Associations = statsTable{ID: "network-associations", Title: p.T("stats network by association"),
		Cols: []string{p.T("stats network association"), p.T("stats col sent"), p.T("stats col received"), p.T("stats network updated")}}
	for i, src := range nt.Sources {
		row := statsRow{Label: src.Name, Cells: []string{l.sumOf(nt.Sent[i]), l.sumOf(nt.Received[i]), p.Date(src.Updated)}}
		if src.Own {
			row.Label = p.T("stats network us", src.Name)
		} else if sp := src.span(); sp != nil && l.period(sp) != v.Period {
			row.Cells[2] = p.T("stats network other period", row.Cells[2], l.month(sp.From), l.month(sp.To))
		}
		v.Lower = v.Lower || (nt.Sent[i] != nil && (nt.Sent[i].Lower || nt.Received[i].Lower))
		v.Associations.Rows = append(v.Associations.Rows, row)
	}
	v.Associations.Total = &statsRow{Label: p.T("stats network total"), Cells: []string{l.sum(nt.SumSent), l.sum(nt.SumReceived), ""}}
	v.Lower = v.Lower || nt.SumSent.Lower || nt.SumReceived.Lower
	v.Themes = statsTable{ID: "network-themes", Title: p.T("stats network by theme"),
		Cols: []string{p.T("stats theme"), p.T("stats col sent"), p.T("stats col received")}}
	keys := make([]string, 0, len(nt.Themes))
	for k := range nt.Themes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(l.theme(a), l.theme(b)) })
	for _, k := range keys {
		s := nt.Themes[k]
		v.Themes.Rows = append(v.Themes.Rows, statsRow{Label: l.theme(k), Cells: []string{l.sum(s[0]), l.sum(s[1])}})
		v.Lower = v.Lower || s[0].Lower || s[1].Lower
	}
	v.Tables = []statsTable{v.Associations, v.Themes}
	return v
}

// networkJSON is the network's figures in /api/v1/stats: each
// association by name (never its address), then the totals, a total
// with a hidden figure in it marked as a lower bound.
func (l statsLabels) networkJSON(nf *networkFigures) map[string]any {
	nt := nf.totals(l)
	sumJSON := func(s networkSum) map[string]any {
		out := map[string]any{"count": s.N}
		if s.Lower {
			out["lower_bound"] = true
		}
		return out
	}
	value := func(s *networkSum) any {
		if s == nil {
			return nil
		}
		return sumJSON(*s)
	}
	assocs := []map[string]any{}
	for i, src := range nt.Sources {
		assocs = append(assocs, map[string]any{"name": src.Name, "own": src.Own, "updated": src.Updated.UTC(), "period": src.span(),
			"months": len(src.Months), "sent": value(nt.Sent[i]), "received": value(nt.Received[i])})
	}
	byTheme := map[string]any{}
	for k, s := range nt.Themes {
		if k == "" {
			k = federation.StatsUnknownTheme
		}
		byTheme[k] = map[string]any{"sent": sumJSON(s[0]), "received": sumJSON(s[1])}
	}
	return map[string]any{
		"sharing":      nf.Sharing,
		"period":       networkSource{Months: nf.Own.Months}.span(),
		"associations": assocs,
		"totals":       map[string]any{"sent": sumJSON(nt.SumSent), "received": sumJSON(nt.SumReceived)},
		"by_theme":     byTheme,
		"not_sharing":  nf.Silent,
		"lower_bound":  "a total with a hidden figure in it counts that figure as 1 (zeros are always shown): the real total is at least this",
	}
}
