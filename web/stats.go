package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral/stats"
	"github.com/maillage/maillage/web/account"
)

// The admin's statistics for annual reports (issue 20, part 1): the
// node's referrals by month, theme, partner, state and reason code, the
// time to a first answer and to the close, its services by theme and
// area, the unmet needs signalled here and its partnerships. Counts only,
// computed from the store at each request; counts of referrals and needs
// (people) are protected for small numbers by referral/stats (k = 5,
// complementary cell suppression), and every output (page, print, PDF,
// CSV, API) publishes the same protected figures. Services and
// partnerships are public facts and shown as they are.
//
// API cells: {"count": 12}, or {"count": null, "suppressed": true} for a
// hidden figure, whether under 5 or hidden to protect one (the two are
// not told apart, on purpose).
//
// The network's figures (the node's and those its partners share) and
// the admin's choice to share are in stats_share.go.

// maxStatsMonths bounds a period.
const maxStatsMonths = 120

// statsPeriod reads from and to (YYYY-MM, both months included; a
// problem names them period.from and period.to); the
// default is the last 12 months, this one included. It returns the
// first instant of from and the first instant after to, in Brussels.
func statsPeriod(r *http.Request, now time.Time) (from, to time.Time, err error) {
	loc := brussels()
	now = now.In(loc)
	this := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	to, from = this.AddDate(0, 1, 0), this.AddDate(0, -11, 0)
	var pr directory.Problems
	month := func(name string) (time.Time, bool) {
		v := r.URL.Query().Get(name)
		if v == "" {
			return time.Time{}, false
		}
		t, err := time.ParseInLocation("2006-01", v, loc)
		if err != nil || t.Year() < 2000 || t.Year() > 2200 {
			pr.Rule("period."+name, directory.CodeDate, "must be a month, YYYY-MM")
			return time.Time{}, false
		}
		return t, true
	}
	if t, ok := month("from"); ok {
		from = t
	}
	if t, ok := month("to"); ok {
		to = t.AddDate(0, 1, 0)
	}
	if pr.Err() == nil && !from.Before(to) {
		pr.Rule("period.to", directory.CodeDate, "must not be before from")
	}
	if pr.Err() == nil && from.AddDate(0, maxStatsMonths, 0).Before(to) {
		pr.Rule("period.to", directory.CodeDate, "the period is at most %d months", maxStatsMonths)
	}
	return from, to, pr.Err()
}

// statsFigures are the node's figures for a period.
type statsFigures struct {
	Report       *stats.Report
	ServiceTheme map[string]int // public: local active services by top theme
	ServiceArea  map[string]int // public: by postcode of their places ("" none)
	Needs        stats.Table    // unmet needs signalled here, by theme, all time
	Partnerships map[string]int // relations by state
}

// statsFigures computes the node's figures for the period, from the
// store: referral records, services, places, need counts, relations.
func (s *Server) statsFigures(r *http.Request, from, to time.Time) (*statsFigures, error) {
	if s.Referrals == nil {
		return nil, errNotReady
	}
	ctx := r.Context()
	themes := map[string]string{} // service id → top theme
	topOf := func(cats []string) string {
		for _, c := range cats {
			if top := directory.TopOf(c); top != "" {
				return top
			}
		}
		return ""
	}
	f := &statsFigures{ServiceTheme: map[string]int{}, ServiceArea: map[string]int{}, Partnerships: map[string]int{}}
	postcodes := map[string]string{}
	if err := s.Catalog.ForEachLocation(ctx, func(l *directory.Location) error {
		postcodes[l.ID] = l.Address.Postcode
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.Catalog.ForEachService(ctx, func(sv *directory.Service) error {
		themes[s.BaseURL+"/services/"+sv.ID] = topOf(sv.Categories)
		if sv.Status != directory.StatusActive {
			return nil
		}
		seen := map[string]bool{}
		for _, c := range sv.Categories {
			if top := directory.TopOf(c); top != "" && !seen[top] {
				seen[top] = true
				f.ServiceTheme[top]++
			}
		}
		areas := map[string]bool{}
		for _, id := range sv.Locations {
			if pc := postcodes[id]; pc != "" {
				areas[pc] = true
			}
		}
		if len(areas) == 0 {
			areas[""] = true
		}
		for a := range areas {
			f.ServiceArea[a]++
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if s.Network != nil {
		if err := s.Network.PartnerServices(ctx, func(ps *directory.PartnerService) error {
			if ps.Service != nil {
				themes[ps.URI] = topOf(ps.Service.Categories)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		rels, err := s.Network.Relations(ctx)
		if err != nil {
			return nil, err
		}
		for _, rel := range rels {
			if st := rel.State(); st != "none" {
				f.Partnerships[st]++
			}
		}
	}
	rep, err := stats.Compute(ctx, s.Referrals.ForEachReferral, stats.Options{From: from, To: to, Loc: brussels(),
		Theme: func(service string) string { return themes[service] }})
	if err != nil {
		return nil, err
	}
	f.Report = rep
	needs := map[string]int{}
	if s.Needs != nil {
		if err := s.Needs.ForEachNeed(ctx, func(theme, _ string, n int) error {
			needs[theme] += n
			return nil
		}); err != nil {
			return nil, err
		}
	}
	f.Needs = stats.Counts("needs", needs)
	return f, nil
}

// statsLabels names rows and columns in the admin's language.
type statsLabels struct {
	p       *pageData
	tax     *directory.Taxonomy
	partner func(string) string
}

func (s *Server) statsLabelsFor(r *http.Request, p *pageData) statsLabels {
	return statsLabels{p: p, tax: s.Catalog.Taxonomy(), partner: s.partnerNames(r, p)}
}

func (l statsLabels) month(key string) string {
	t, err := time.Parse("2006-01", key)
	if err != nil {
		return key
	}
	return l.p.T(fmt.Sprintf("month %d", t.Month())) + " " + strconv.Itoa(t.Year())
}

func (l statsLabels) theme(code string) string {
	if t, ok := l.tax.Category(code); ok {
		if v := l.p.Local(t.Labels).Text; v != "" {
			return v
		}
	}
	return l.p.T("stats theme unknown")
}

func (l statsLabels) reason(key string) string {
	st, code, _ := strings.Cut(key, " ")
	if code == stats.NoReason {
		return l.state(st) + " — " + l.p.T("stats reason none")
	}
	return l.state(st) + " — " + l.p.T("reason "+code)
}

// state names a state as a row label: with a capital.
func (l statsLabels) state(st string) string { return capital(l.p.T("state " + st)) }

func capital(s string) string {
	r := []rune(s)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// statsTable is a table as people read it: every figure already written
// (a number, or the hidden mark), the same for page, CSV and PDF.
type statsTable struct {
	ID, Title string
	Cols      []string // the row header's column first
	Rows      []statsRow
	Total     *statsRow // column totals, nil when not shown
	Note      string
}

type statsRow struct {
	Label string
	Cells []string
}

// hiddenMark is what a hidden figure shows (the legend says what it means).
const hiddenMark = "< 5*"

func (l statsLabels) value(v stats.Value) string {
	if v.Hidden {
		return hiddenMark
	}
	return l.p.Num(v.N)
}

// table writes a protected table; label names its rows.
func (l statsLabels) table(id, title, rowHead string, t stats.Table, label func(string) string) statsTable {
	out := statsTable{ID: id, Title: l.p.T(title), Cols: []string{l.p.T(rowHead)}}
	for _, c := range t.Cols {
		out.Cols = append(out.Cols, l.p.T("stats col "+c))
	}
	if t.RowTotals != nil {
		out.Cols = append(out.Cols, l.p.T("stats total"))
	}
	for i, key := range t.Rows {
		row := statsRow{Label: label(key)}
		for _, v := range t.Cells[i] {
			row.Cells = append(row.Cells, l.value(v))
		}
		if t.RowTotals != nil {
			row.Cells = append(row.Cells, l.value(t.RowTotals[i]))
		}
		out.Rows = append(out.Rows, row)
	}
	if t.ColTotals == nil {
		return out // the reasons: their totals are the states'
	}
	total := statsRow{Label: l.p.T("stats total")}
	for _, v := range t.ColTotals {
		total.Cells = append(total.Cells, l.value(v))
	}
	if t.RowTotals != nil {
		total.Cells = append(total.Cells, l.value(t.Total))
	}
	out.Total = &total
	return out
}

// plainTable writes public counts (services, partnerships), largest first.
func (l statsLabels) plainTable(id, title, rowHead string, counts map[string]int, label func(string) string) statsTable {
	out := statsTable{ID: id, Title: l.p.T(title), Cols: []string{l.p.T(rowHead), l.p.T("stats count")}}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return label(keys[i]) < label(keys[j])
	})
	for _, k := range keys {
		out.Rows = append(out.Rows, statsRow{Label: label(k), Cells: []string{l.p.Num(counts[k])}})
	}
	return out
}

// statsView is the whole report as people read it.
type statsView struct {
	From, To    string // YYYY-MM, for the form and links
	Period      string
	Tables      []statsTable
	Times       statsTable
	MonthChart  barChart
	ReasonChart barChart
	Empty       bool
	Print       bool // the print view: no form, no links
	// Network is the network's figures; nil without federation.
	Network *networkView
}

// all lists every table in the page's order: the times after the
// referral tables (the page draws them after the reasons).
func (v statsView) all() []statsTable {
	var out []statsTable
	for _, t := range v.Tables {
		out = append(out, t)
		if t.ID == "by-reason" {
			out = append(out, v.Times)
		}
	}
	return out
}

func (s *Server) statsView(r *http.Request, p *pageData, f *statsFigures) statsView {
	l := s.statsLabelsFor(r, p)
	rep := f.Report
	last := rep.To.AddDate(0, -1, 0)
	v := statsView{From: rep.From.Format("2006-01"), To: last.Format("2006-01"),
		Period: p.T("stats period", l.month(rep.From.Format("2006-01")), l.month(last.Format("2006-01")))}
	v.Empty = rep.ByMonth.Total.N == 0 && !rep.ByMonth.Total.Hidden
	v.Tables = append(v.Tables,
		l.table("by-month", "stats by month", "stats month", rep.ByMonth, l.month),
		l.table("by-theme", "stats by theme", "stats theme", rep.ByTheme, l.theme),
		l.table("by-partner", "stats by partner", "stats partner", rep.ByPartner, l.partner),
		l.table("by-state", "stats by state", "stats state", rep.ByState, l.state),
		l.table("by-reason", "stats by reason", "stats reason", rep.ByReason, l.reason),
	)
	// Times: one row per measure and direction.
	times := statsTable{ID: "times", Title: p.T("stats times"), Cols: []string{p.T("stats measure"), p.T("stats col sent"), p.T("stats col received")}}
	for _, m := range []struct {
		key string
		pc  map[string]stats.Percentiles
	}{{"stats first answer median", rep.FirstAnswer}, {"stats first answer p90", rep.FirstAnswer}, {"stats closing median", rep.Closing}, {"stats closing p90", rep.Closing}} {
		row := statsRow{Label: p.T(m.key)}
		for _, dir := range []string{stats.Sent, stats.Received} {
			pc := m.pc[dir]
			switch {
			case !pc.Shown:
				row.Cells = append(row.Cells, p.T("stats too few"))
			case m.key == "stats first answer median" || m.key == "stats closing median":
				row.Cells = append(row.Cells, duration(p, pc.Median))
			default:
				row.Cells = append(row.Cells, duration(p, pc.P90))
			}
		}
		times.Rows = append(times.Rows, row)
	}
	v.Times = times
	needs := l.table("needs", "stats needs", "stats theme", f.Needs, l.theme)
	needs.Note = p.T("stats needs note")
	v.Tables = append(v.Tables, needs,
		l.plainTable("services-theme", "stats services by theme", "stats theme", f.ServiceTheme, l.theme),
		l.plainTable("services-area", "stats services by area", "stats area", f.ServiceArea, func(k string) string {
			if k == "" {
				return p.T("stats no place")
			}
			return k
		}),
		l.plainTable("partnerships", "stats partnerships", "stats relation", f.Partnerships, func(k string) string { return capital(p.T("relation " + k)) }),
	)
	// Charts: referrals by month (sent + received), and how referrals
	// ended, from the protected totals (a hidden figure draws no bar).
	var months, reasons []bar
	for i, key := range rep.ByMonth.Rows {
		months = append(months, bar{Label: shortMonth(p, key), Value: rep.ByMonth.RowTotals[i]})
	}
	for i, key := range rep.ByReason.Rows {
		reasons = append(reasons, bar{Label: l.reason(key), Value: rep.ByReason.RowTotals[i]})
	}
	v.MonthChart = columnChart(p, p.T("stats chart months"), months)
	v.ReasonChart = rowChart(p, p.T("stats chart reasons"), reasons)
	return v
}

func shortMonth(p *pageData, key string) string {
	t, err := time.Parse("2006-01", key)
	if err != nil {
		return key
	}
	name := []rune(p.T(fmt.Sprintf("month %d", t.Month())))
	return string(name[:min(3, len(name))]) + " " + t.Format("06")
}

// duration writes a time span in days (one decimal) or hours when under
// a day.
func duration(p *pageData, d time.Duration) string {
	if d < time.Hour {
		return p.T("stats minutes", int(d.Round(time.Minute)/time.Minute))
	}
	if d < 24*time.Hour {
		return p.T("stats hours", int(d.Round(time.Hour)/time.Hour))
	}
	return p.T("stats days", float64(int(d.Hours()/24*10+0.5))/10)
}

// bar is one bar of a chart: Value hidden draws none.
type bar struct {
	Label string
	Value stats.Value
}

// barChart is an SVG chart drawn on the server: geometry computed here,
// drawn by the template (so every text is escaped).
type barChart struct {
	Title         string
	Width, Height int
	AxisY         int
	Bars          []svgBar
	Horizontal    bool
}

type svgBar struct {
	X, Y, W, H     int
	Label, Value   string
	LX, LY, VX, VY int
	Hidden         bool
}

// columnChart draws vertical bars, one per label.
func columnChart(p *pageData, title string, bars []bar) barChart {
	const h, top, bottom, slot = 200, 20, 30, 44
	c := barChart{Title: title, Width: max(slot*len(bars), 200), Height: h, AxisY: h - bottom}
	peak := 1
	for _, b := range bars {
		peak = max(peak, b.Value.N)
	}
	for i, b := range bars {
		bh := 0
		if !b.Value.Hidden {
			bh = b.Value.N * (h - top - bottom) / peak
		}
		x := i*slot + 6
		sb := svgBar{X: x, Y: h - bottom - bh, W: slot - 12, H: bh, Label: b.Label, LX: x + (slot-12)/2, LY: h - bottom + 16,
			VX: x + (slot-12)/2, VY: h - bottom - bh - 4, Hidden: b.Value.Hidden}
		sb.Value = p.Num(b.Value.N)
		if b.Value.Hidden {
			sb.Value = hiddenMark
		}
		c.Bars = append(c.Bars, sb)
	}
	return c
}

// rowChart draws horizontal bars with their labels on the left.
func rowChart(p *pageData, title string, bars []bar) barChart {
	const w, labelW, slot = 640, 300, 26
	c := barChart{Title: title, Width: w, Height: max(slot*len(bars), slot), Horizontal: true}
	peak := 1
	for _, b := range bars {
		peak = max(peak, b.Value.N)
	}
	for i, b := range bars {
		bw := 0
		if !b.Value.Hidden {
			bw = b.Value.N * (w - labelW - 60) / peak
		}
		y := i * slot
		sb := svgBar{X: labelW, Y: y + 4, W: bw, H: slot - 8, Label: b.Label, LX: labelW - 6, LY: y + slot/2 + 5,
			VX: labelW + bw + 6, VY: y + slot/2 + 5, Hidden: b.Value.Hidden}
		sb.Value = p.Num(b.Value.N)
		if b.Value.Hidden {
			sb.Value = hiddenMark
		}
		c.Bars = append(c.Bars, sb)
	}
	return c
}

// adminStats is the statistics page, and its print view (?print=1).
func (s *Server) adminStats(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	code := http.StatusOK
	from, to, err := statsPeriod(r, p.now)
	if err != nil {
		// The form comes back with what to do, over the last 12 months.
		p.Error, code = p.T("stats period invalid", maxStatsMonths/12), http.StatusBadRequest
		from, to, _ = statsPeriod(&http.Request{URL: &url.URL{}}, p.now)
	}
	f, err := s.statsFigures(r, from, to)
	if err != nil {
		return "", 0, err
	}
	v := s.statsView(r, p, f)
	v.Print = r.URL.Query().Get("print") == "1"
	if nf, err := s.networkFigures(r.Context()); err != nil {
		return "", 0, err
	} else if nf != nil {
		nv := s.statsLabelsFor(r, p).network(nf)
		v.Network = &nv
	}
	p.Title, p.Data = p.T("stats title"), v
	return "admin-stats", code, nil
}

// adminStatsCSV is the export: UTF-8 with a byte-order mark (so that
// Excel reads the accents), one line per figure: table, row, column,
// value, with a header line in the admin's language.
func (s *Server) adminStatsCSV(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	from, to, err := statsPeriod(r, p.now)
	if err != nil {
		return "", 0, err
	}
	f, err := s.statsFigures(r, from, to)
	if err != nil {
		return "", 0, err
	}
	v := s.statsView(r, p, f)
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	cw.Write([]string{p.T("stats csv table"), p.T("stats csv row"), p.T("stats csv column"), p.T("stats csv value")})
	for _, t := range v.all() {
		rows := t.Rows
		if t.Total != nil {
			rows = append(slices.Clone(rows), *t.Total)
		}
		for _, row := range rows {
			for j, c := range row.Cells {
				cw.Write([]string{t.Title, row.Label, t.Cols[j+1], c})
			}
		}
	}
	cw.Write([]string{p.T("stats csv legend"), "", "", p.T("stats legend")})
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="maillage-stats-`+v.From+`-`+v.To+`.csv"`)
	w.Write(buf.Bytes())
	return "", 0, nil
}

// adminStatsPDF is the printable report as a PDF, with the receipt's
// library (go-pdf/fpdf): the month chart drawn with its rectangles, then
// every table.
func (s *Server) adminStatsPDF(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	from, to, err := statsPeriod(r, p.now)
	if err != nil {
		return "", 0, err
	}
	f, err := s.statsFigures(r, from, to)
	if err != nil {
		return "", 0, err
	}
	v := s.statsView(r, p, f)
	b, err := statsPDF(p, v)
	if err != nil {
		return "", 0, err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="maillage-stats-`+v.From+`-`+v.To+`.pdf"`)
	w.Write(b)
	return "", 0, nil
}

func statsPDF(p *pageData, v statsView) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle(p.T("stats title"), true)
	pdf.SetCreator("Maillage", true)
	pdf.SetCompression(false)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetAutoPageBreak(true, 15)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(0, 8, tr(p.T("stats title")+" — "+p.Node), "", "L", false)
	pdf.SetFont("Helvetica", "", 11)
	pdf.MultiCell(0, 6, tr(v.Period), "", "L", false)
	pdf.SetFont("Helvetica", "", 9)
	pdf.MultiCell(0, 5, tr(p.T("stats legend")), "", "L", false)
	pdf.Ln(3)
	// The month chart, drawn with rectangles.
	pdf.SetFont("Helvetica", "B", 12)
	pdf.MultiCell(0, 7, tr(v.MonthChart.Title), "", "L", false)
	x0, y0 := pdf.GetX(), pdf.GetY()
	const chartH, chartW = 45.0, 180.0
	scaleX := chartW / float64(max(v.MonthChart.Width, 1))
	scaleY := chartH / float64(v.MonthChart.Height)
	pdf.SetFillColor(31, 95, 153)
	pdf.SetFont("Helvetica", "", 7)
	for _, b := range v.MonthChart.Bars {
		if b.H > 0 {
			pdf.Rect(x0+float64(b.X)*scaleX, y0+float64(b.Y)*scaleY, float64(b.W)*scaleX, float64(b.H)*scaleY, "F")
		}
		pdf.Text(x0+float64(b.X)*scaleX, y0+float64(b.VY)*scaleY, tr(b.Value))
		pdf.Text(x0+float64(b.X)*scaleX, y0+float64(b.LY)*scaleY, tr(b.Label))
	}
	pdf.SetY(y0 + chartH + 4)
	for _, t := range v.all() {
		pdfTable(pdf, tr, t)
		if t.ID == "by-reason" && len(v.ReasonChart.Bars) > 0 {
			pdfRowChart(pdf, tr, v.ReasonChart)
		}
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func pdfTable(pdf *fpdf.Fpdf, tr func(string) string, t statsTable) {
	if pdf.GetY() > 250 {
		pdf.AddPage()
	}
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.MultiCell(0, 7, tr(t.Title), "", "L", false)
	if t.Note != "" {
		pdf.SetFont("Helvetica", "", 8)
		pdf.MultiCell(0, 4, tr(t.Note), "", "L", false)
	}
	const first = 80.0
	rest := (180 - first) / float64(max(len(t.Cols)-1, 1))
	row := func(label string, cells []string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 9)
		label = tr(label)
		for pdf.GetStringWidth(label) > first-2 && len(label) > 4 {
			label = label[:len(label)-4] + "..."
		}
		pdf.CellFormat(first, 6, label, "B", 0, "L", false, 0, "")
		for _, c := range cells {
			pdf.CellFormat(rest, 6, tr(c), "B", 0, "R", false, 0, "")
		}
		pdf.Ln(-1)
	}
	row(t.Cols[0], t.Cols[1:], true)
	if len(t.Rows) == 0 {
		pdf.SetFont("Helvetica", "", 9)
		pdf.CellFormat(0, 6, "0", "", 1, "L", false, 0, "")
	}
	for _, r := range t.Rows {
		row(r.Label, r.Cells, false)
	}
	if t.Total != nil && len(t.Rows) > 0 {
		row(t.Total.Label, t.Total.Cells, true)
	}
}

// pdfRowChart draws the horizontal bar chart with the PDF's rectangles.
func pdfRowChart(pdf *fpdf.Fpdf, tr func(string) string, c barChart) {
	if pdf.GetY() > 240 {
		pdf.AddPage()
	}
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.MultiCell(0, 6, tr(c.Title), "", "L", false)
	pdf.SetFont("Helvetica", "", 8)
	pdf.SetFillColor(31, 95, 153)
	const labelW, barW = 80.0, 85.0
	peak := 1
	for _, b := range c.Bars {
		peak = max(peak, b.W)
	}
	for _, b := range c.Bars {
		y := pdf.GetY()
		label := tr(b.Label)
		for pdf.GetStringWidth(label) > labelW-2 && len(label) > 4 {
			label = label[:len(label)-4] + "..."
		}
		pdf.CellFormat(labelW, 5, label, "", 0, "R", false, 0, "")
		w := float64(b.W) / float64(peak) * barW
		if b.W > 0 {
			pdf.Rect(pdf.GetX()+1, y+0.8, w, 3.4, "F")
		}
		pdf.SetX(pdf.GetX() + w + 2)
		pdf.CellFormat(20, 5, tr(b.Value), "", 1, "L", false, 0, "")
	}
}

// apiStats gives the same figures as JSON (admins only).
func (s *Server) apiStats(w http.ResponseWriter, r *http.Request, u *account.User) error {
	from, to, err := statsPeriod(r, s.Now())
	if err != nil {
		return err
	}
	f, err := s.statsFigures(r, from, to)
	if err != nil {
		return err
	}
	p := newPageData(r, s.Now())
	p.User = u
	l := s.statsLabelsFor(r, p)
	rep := f.Report
	out := map[string]any{
		"period":      map[string]string{"from": rep.From.Format("2006-01"), "to": rep.To.AddDate(0, -1, 0).Format("2006-01")},
		"k":           stats.K,
		"suppression": "cells from 1 to 4 and the cells hidden to protect them (complementary suppression) have count null and suppressed true",
		"referrals": map[string]any{
			"by_month":   jsonTable(rep.ByMonth, l.month),
			"by_theme":   jsonTable(rep.ByTheme, l.theme),
			"by_partner": jsonTable(rep.ByPartner, l.partner),
			"by_state":   jsonTable(rep.ByState, l.state),
			"by_reason":  jsonTable(rep.ByReason, l.reason),
		},
		"time_to_first_answer": jsonTimes(rep.FirstAnswer),
		"time_to_close":        jsonTimes(rep.Closing),
		"needs":                jsonTable(f.Needs, l.theme),
		"services":             map[string]any{"by_theme": f.ServiceTheme, "by_area": f.ServiceArea},
		"partnerships":         f.Partnerships,
	}
	nf, err := s.networkFigures(r.Context())
	if err != nil {
		return err
	}
	if nf != nil {
		out["network"] = l.networkJSON(nf)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type jsonValue struct {
	Count      *int `json:"count"`
	Suppressed bool `json:"suppressed,omitempty"`
}

func jv(v stats.Value) jsonValue {
	if v.Hidden {
		return jsonValue{Suppressed: true}
	}
	n := v.N
	return jsonValue{Count: &n}
}

func jsonTable(t stats.Table, label func(string) string) map[string]any {
	type row struct {
		Key   string      `json:"key"`
		Label string      `json:"label"`
		Cells []jsonValue `json:"cells"`
		Total *jsonValue  `json:"total,omitempty"`
	}
	rows := []row{}
	for i, k := range t.Rows {
		rw := row{Key: k, Label: label(k)}
		for _, v := range t.Cells[i] {
			rw.Cells = append(rw.Cells, jv(v))
		}
		if t.RowTotals != nil {
			tv := jv(t.RowTotals[i])
			rw.Total = &tv
		}
		rows = append(rows, rw)
	}
	out := map[string]any{"columns": t.Cols, "rows": rows}
	if t.ColTotals != nil {
		var totals []jsonValue
		for _, v := range t.ColTotals {
			totals = append(totals, jv(v))
		}
		out["column_totals"], out["total"] = totals, jv(t.Total)
	}
	return out
}

func jsonTimes(m map[string]stats.Percentiles) map[string]any {
	out := map[string]any{}
	for dir, pc := range m {
		if !pc.Shown {
			out[dir] = map[string]any{"suppressed": true}
			continue
		}
		// The number of referrals measured is not published: with the
		// counts by state, it could give back a hidden one.
		out[dir] = map[string]any{"median_hours": pc.Median.Hours(), "p90_hours": pc.P90.Hours()}
	}
	return out
}
