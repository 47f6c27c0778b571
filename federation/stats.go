package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/referral/stats"
)

// Shared statistics (issue 20): when its admin opts in, a node sends its
// partners its referral counts of each complete month (at most the last
// 12), as tables already protected for small numbers (referral/stats,
// k = 5): a hidden figure travels as null, never as its value. A month's
// tables count only what happened in that month and are computed once,
// then kept and sent as they are: tables over a rolling window would
// overlap from one report to the next, and a partner subtracting two
// reports would get the difference of two months, small numbers
// included; recomputed months would change as referrals are erased,
// which a partner could subtract too. A partner keeps the latest report
// of each partner only, shows it to its admins, and never passes it on.
// Opting out sends a report without months, which withdraws the figures
// (PROTOCOL.md, "Shared statistics").

// typeStatsReport is the object that carries a node's shared statistics.
const typeStatsReport = "StatsReport"

// The shared tables of a month, each of the columns StatsSent and
// StatsReceived.
const (
	StatsByTheme  = "by_theme"  // sent or received in the month; rows: top-level themes, or StatsUnknownTheme
	StatsByState  = "by_state"  // closed in the month; rows: final states
	StatsByReason = "by_reason" // closed in the month; rows: "state reason"; no column totals
)

// StatsUnknownTheme is the row of referrals to a service whose theme the
// sender does not know.
const StatsUnknownTheme = "unknown"

// Bounds of a partner's report: a year has 12 months, the taxonomy about
// 20 themes, the reasons about 16 rows; counts are of referrals.
const (
	maxStatsRows   = 100
	maxStatsKey    = 64
	maxStatsCount  = 1_000_000
	maxStatsMonths = 12
)

var statsTableNames = []string{StatsByTheme, StatsByState, StatsByReason}

// statsResendEvery is how often the node sends its report again though
// it did not change: a partner that refused it (it had not yet recorded
// the partnership) gets it within a day.
const statsResendEvery = 24 * time.Hour

// StatsValue is one shared figure: N, or Hidden. On the wire a number, or
// null when hidden.
type StatsValue struct {
	N      int
	Hidden bool
}

// MarshalJSON implements json.Marshaler.
func (v StatsValue) MarshalJSON() ([]byte, error) {
	if v.Hidden {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, int64(v.N), 10), nil
}

// UnmarshalJSON implements json.Unmarshaler: null, or a whole number.
func (v *StatsValue) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = StatsValue{Hidden: true}
		return nil
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return errors.New("a figure is a whole number or null")
	}
	*v = StatsValue{N: n}
	return nil
}

// StatsLine is a row of a shared table (Key set) or its totals line:
// one figure per column, and its total.
type StatsLine struct {
	Key   string       `json:"key,omitempty"`
	Cells []StatsValue `json:"cells"`
	Total StatsValue   `json:"total"`
}

// StatsTable is one protected table as it travels.
type StatsTable struct {
	Name    string      `json:"name"`
	Columns []string    `json:"columns"`
	Rows    []StatsLine `json:"rows"`
	// Totals are the column totals and grand total; none for
	// StatsByReason (each state's reasons add up to its by_state row).
	Totals *StatsLine `json:"totals,omitempty"`
}

// StatsMonth is one complete month's protected tables (YYYY-MM, Brussels
// time). The node computes its own once and keeps them (frozen).
type StatsMonth struct {
	Month  string       `json:"month"`
	Tables []StatsTable `json:"tables"`
}

// Table returns the table called name, if any.
func (m *StatsMonth) Table(name string) (StatsTable, bool) {
	for _, t := range m.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return StatsTable{}, false
}

// StatsReport is a node's shared statistics as they travel: its frozen
// months, oldest first. A report without months withdraws what the node
// shared before.
type StatsReport struct {
	ID           string       `json:"id"`
	Type         asType       `json:"type"`
	AttributedTo string       `json:"attributedTo"`
	Updated      time.Time    `json:"updated"`
	Months       []StatsMonth `json:"months"`
}

// PartnerStats is what a partner shares, as of Updated. Without months,
// the partner withdrew its figures: only the time is kept, so that an
// older report arriving late does not bring them back.
type PartnerStats struct {
	Actor   string       `json:"actor"`
	Updated time.Time    `json:"updated"`
	Months  []StatsMonth `json:"months,omitempty"`
}

// StatsSharing reports whether the admin chose to share the node's
// statistics with its partners (off until chosen).
func (f *Federator) StatsSharing(ctx context.Context) (bool, error) {
	return f.o.Store.StatsSharing(ctx)
}

// ShareStats records the admin's choice and tells the partners at once:
// the report when sharing starts, its withdrawal when it stops.
func (f *Federator) ShareStats(ctx context.Context, on bool) error {
	was, err := f.o.Store.StatsSharing(ctx)
	if err != nil {
		return err
	}
	if err := f.o.Store.SetStatsSharing(ctx, on); err != nil {
		return err
	}
	f.mu.Lock()
	f.statsSent = nil
	f.mu.Unlock()
	if on {
		_, err := f.PublishStats(ctx)
		return err
	}
	if !was {
		return nil // nothing was shared: nothing to withdraw
	}
	inboxes, err := f.partnerInboxes(ctx)
	if err != nil || len(inboxes) == 0 {
		return err
	}
	return f.sendStats(ctx, &StatsReport{Months: []StatsMonth{}}, inboxes)
}

// PublishStats sends the node's shared statistics to its partners if the
// admin opted in, unless they already have this very report, sent less
// than a day ago; sent reports whether it did. The node calls it with
// PublishNeeds (every 10 minutes). Before its first month with referrals
// is complete, a node has nothing to share and sends nothing.
func (f *Federator) PublishStats(ctx context.Context) (sent bool, err error) {
	on, err := f.o.Store.StatsSharing(ctx)
	if err != nil || !on {
		return false, err
	}
	rep, err := f.OwnStats(ctx)
	if err != nil || len(rep.Months) == 0 {
		return false, err
	}
	inboxes, err := f.partnerInboxes(ctx)
	if err != nil || len(inboxes) == 0 {
		return false, err
	}
	stamp := append(mustJSON(rep), strings.Join(inboxes, " ")...)
	now := f.now()
	f.mu.Lock()
	same := bytes.Equal(stamp, f.statsSent) && now.Before(f.statsSentAt.Add(statsResendEvery))
	f.mu.Unlock()
	if same {
		return false, nil
	}
	if err := f.sendStats(ctx, rep, inboxes); err != nil {
		return false, err
	}
	f.mu.Lock()
	f.statsSent, f.statsSentAt = stamp, now
	f.mu.Unlock()
	return true, nil
}

func (f *Federator) sendStats(ctx context.Context, rep *StatsReport, inboxes []string) error {
	// Each report must be newer than the last, or the partner keeps the
	// last: a withdrawal right after a report too.
	f.mu.Lock()
	at := f.now().UTC()
	if !at.After(f.statsAt) {
		at = f.statsAt.Add(time.Millisecond)
	}
	f.statsAt = at
	f.mu.Unlock()
	out := *rep
	out.ID, out.Type, out.AttributedTo, out.Updated = f.base+"/stats", typeStatsReport, f.actorID, at
	act := Activity{Context: ldContext, ID: f.activityID(), Type: typeUpdate, Actor: f.actorID, Object: mustJSON(out), To: []string{f.base + "/followers"}}
	return f.queue.enqueue(ctx, mustJSON(act), inboxes)
}

// OwnStats is what the node shares (or would share): one entry per
// complete month among the 12 before this one, from the month of its
// first referral on, oldest first. Updated is not set; the report must
// not be changed.
//
// Each month is computed the first time it is needed once complete, then
// stored and always given as stored (Store.FreezeStatsMonth): erasing
// referrals after their retention delay, a service's theme changing or
// a partner's services leaving the replica never change a month already
// published, so that two reports have nothing to subtract. Referrals by
// partner are not shared: a partner learns nothing of the node's other
// partnerships.
func (f *Federator) OwnStats(ctx context.Context) (*StatsReport, error) {
	loc := brussels()
	now := f.now().In(loc)
	to := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	from := to.AddDate(0, -maxStatsMonths, 0)
	f.mu.Lock()
	kept, keptTo := f.statsOwn, f.statsOwnTo
	f.mu.Unlock()
	if kept != nil && keptTo.Equal(to) {
		return kept, nil
	}
	frozen, err := f.o.Store.FrozenStatsMonths(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]StatsMonth{}
	earliest := "" // the first month frozen, if any
	for _, m := range frozen {
		have[m.Month] = m
		if earliest == "" || m.Month < earliest {
			earliest = m.Month
		}
	}
	var missing []time.Time
	for m := from; m.Before(to); m = m.AddDate(0, 1, 0) {
		if _, ok := have[m.Format("2006-01")]; !ok {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		themes, err := f.serviceThemes(ctx)
		if err != nil {
			return nil, err
		}
		months, first, err := stats.ComputeMonths(ctx, f.o.Store.ForEachReferral, stats.MonthsOptions{Months: missing, Loc: loc,
			Theme: func(service string) string { return themes[service] }})
		if err != nil {
			return nil, err
		}
		if !first.IsZero() && (earliest == "" || first.In(loc).Format("2006-01") < earliest) {
			earliest = first.In(loc).Format("2006-01")
		}
		for _, m := range months {
			if earliest == "" || m.Month < earliest {
				continue // before the node's first referral: nothing to share
			}
			stored, err := f.o.Store.FreezeStatsMonth(ctx, sharedMonth(m))
			if err != nil {
				return nil, err
			}
			have[stored.Month] = *stored
		}
	}
	out := &StatsReport{Months: []StatsMonth{}}
	for m := from; m.Before(to); m = m.AddDate(0, 1, 0) {
		if sm, ok := have[m.Format("2006-01")]; ok {
			out.Months = append(out.Months, sm)
		}
	}
	f.mu.Lock()
	f.statsOwn, f.statsOwnTo = out, to
	f.mu.Unlock()
	return out, nil
}

// sharedMonth is what a node shares of a month's statistics.
func sharedMonth(m stats.Month) *StatsMonth {
	unknown := func(k string) string {
		if k == "" {
			return StatsUnknownTheme
		}
		return k
	}
	same := func(k string) string { return k }
	return &StatsMonth{Month: m.Month, Tables: []StatsTable{
		wireTable(StatsByTheme, m.ByTheme, unknown),
		wireTable(StatsByState, m.ByState, same),
		wireTable(StatsByReason, m.ByReason, same),
	}}
}

// serviceThemes gives the top-level theme of the node's services and of
// its partners' services, by ActivityPub id.
func (f *Federator) serviceThemes(ctx context.Context) (map[string]string, error) {
	topOf := func(cats []string) string {
		for _, c := range cats {
			if top := directory.TopOf(c); top != "" {
				return top
			}
		}
		return ""
	}
	out := map[string]string{}
	if err := f.o.Catalog.ForEachService(ctx, func(s *directory.Service) error {
		out[f.serviceURI(s.ID)] = topOf(s.Categories)
		return nil
	}); err != nil {
		return nil, err
	}
	err := f.o.Store.ForEachPartnerService(ctx, func(ps *directory.PartnerService) error {
		if ps.Service != nil {
			out[ps.URI] = topOf(ps.Service.Categories)
		}
		return nil
	})
	return out, err
}

// wireTable writes a protected table as it travels, its row keys through
// key.
func wireTable(name string, t stats.Table, key func(string) string) StatsTable {
	v := func(x stats.Value) StatsValue { return StatsValue{N: x.N, Hidden: x.Hidden} }
	line := func(cells []stats.Value, total stats.Value) StatsLine {
		l := StatsLine{Cells: make([]StatsValue, len(cells)), Total: v(total)}
		for j, c := range cells {
			l.Cells[j] = v(c)
		}
		return l
	}
	out := StatsTable{Name: name, Columns: slices.Clone(t.Cols), Rows: []StatsLine{}}
	for i, k := range t.Rows {
		l := line(t.Cells[i], t.RowTotals[i])
		l.Key = key(k)
		out.Rows = append(out.Rows, l)
	}
	if t.ColTotals != nil {
		l := line(t.ColTotals, t.Total)
		out.Totals = &l
	}
	return out
}

// PartnerStats gives what each current partner shares, withdrawn
// reports left out.
func (f *Federator) PartnerStats(ctx context.Context) ([]*PartnerStats, error) {
	rels, err := f.o.Store.Relations(ctx)
	if err != nil {
		return nil, err
	}
	partner := map[string]bool{}
	for _, r := range rels {
		partner[r.Actor] = r.IsPartner()
	}
	var out []*PartnerStats
	err = f.o.Store.ForEachPartnerStats(ctx, func(p *PartnerStats) error {
		if partner[p.Actor] && len(p.Months) > 0 {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// onStatsReport keeps a partner's statistics, replacing an older report.
func (f *Federator) onStatsReport(ctx context.Context, a *Activity) (outcome, error) {
	r, err := f.cachedRelation(ctx, a.Actor)
	if errors.Is(err, directory.ErrNotFound) || (err == nil && !r.IsPartner()) {
		return appliedNot, refuse(http.StatusForbidden, "not partner", errors.New("statistics from an actor that is not a partner"))
	}
	if err != nil {
		return appliedNot, err
	}
	rep, err := f.readStatsReport(a.Object, a.Actor)
	if err != nil {
		return appliedNot, refuse(http.StatusBadRequest, "payload", err)
	}
	v := &PartnerStats{Actor: a.Actor, Updated: rep.Updated, Months: rep.Months}
	if _, err := f.o.Store.PutPartnerStats(ctx, v); err != nil {
		return appliedNot, err
	}
	return appliedUnrecorded, nil
}

// readStatsReport checks a partner's report: its own, within bounds, of
// complete months before its time, each once, on known tables, columns
// and rows, and each month's tables protected for small numbers as the
// sender must have protected them (k = 5: no figure from 1 to 4 shown, no
// hidden figure that a line's total gives back). Errors never echo the
// peer's values.
func (f *Federator) readStatsReport(raw json.RawMessage, actor string) (*StatsReport, error) {
	var rep StatsReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, errors.New("stats report: not a report")
	}
	switch {
	case rep.AttributedTo != actor || hostOf(rep.ID) != hostOf(actor):
		return nil, errors.New("stats report: not the sender's own")
	case rep.Updated.IsZero():
		return nil, errors.New("stats report: no updated time")
	case len(rep.Months) > maxStatsMonths:
		return nil, fmt.Errorf("stats report: more than %d months", maxStatsMonths)
	case len(rep.Months) == 0:
		rep.Months = nil
		return &rep, nil // a withdrawal
	}
	// The months are complete before the report's time, at most 12 back
	// (Brussels time, as the sender counts them).
	loc := brussels()
	upd := rep.Updated.In(loc)
	current := time.Date(upd.Year(), upd.Month(), 1, 0, 0, 0, 0, loc)
	oldest := current.AddDate(0, -maxStatsMonths, 0)
	seenMonth := map[string]bool{}
	for i, m := range rep.Months {
		at, err := time.ParseInLocation("2006-01", m.Month, loc)
		switch {
		case err != nil || at.Format("2006-01") != m.Month:
			return nil, fmt.Errorf("stats report: months[%d]: a month is YYYY-MM", i)
		case seenMonth[m.Month]:
			return nil, fmt.Errorf("stats report: months[%d]: a month given twice", i)
		case !at.Before(current):
			return nil, fmt.Errorf("stats report: months[%d]: a month not complete at the report's time", i)
		case at.Before(oldest):
			return nil, fmt.Errorf("stats report: months[%d]: a month more than %d months before the report", i, maxStatsMonths)
		case len(m.Tables) > len(statsTableNames):
			return nil, fmt.Errorf("stats report: months[%d]: more than %d tables", i, len(statsTableNames))
		}
		seenMonth[m.Month] = true
		seen := map[string]bool{}
		for j, t := range m.Tables {
			if !slices.Contains(statsTableNames, t.Name) || seen[t.Name] {
				return nil, fmt.Errorf("stats report: months[%d]: tables[%d]: unknown or repeated table", i, j)
			}
			seen[t.Name] = true
			if err := f.checkStatsTable(t); err != nil {
				return nil, fmt.Errorf("stats report: months[%d]: %s: %w", i, t.Name, err)
			}
		}
	}
	return &rep, nil
}

// checkStatsTable checks one table of a partner's report.
func (f *Federator) checkStatsTable(t StatsTable) error {
	if !slices.Equal(t.Columns, []string{stats.Sent, stats.Received}) {
		return errors.New("columns must be sent and received")
	}
	if len(t.Rows) > maxStatsRows {
		return fmt.Errorf("more than %d rows", maxStatsRows)
	}
	if (t.Totals == nil) != (t.Name == StatsByReason) {
		return errors.New("totals are required, except for by_reason where they are not allowed")
	}
	keys := map[string]bool{}
	for i, row := range t.Rows {
		if len(row.Key) > maxStatsKey || keys[row.Key] || !f.statsKeyKnown(t.Name, row.Key) {
			return fmt.Errorf("rows[%d]: unknown or repeated key", i)
		}
		keys[row.Key] = true
	}
	lines := slices.Clone(t.Rows)
	if t.Totals != nil {
		lines = append(lines, *t.Totals)
	}
	for i, l := range lines {
		if len(l.Cells) != len(t.Columns) {
			return fmt.Errorf("rows[%d]: one figure per column", i)
		}
		for _, v := range append(slices.Clone(l.Cells), l.Total) {
			switch {
			case v.Hidden:
			case v.N < 0 || v.N > maxStatsCount:
				return fmt.Errorf("rows[%d]: a figure out of range", i)
			case v.N > 0 && v.N < stats.K:
				return fmt.Errorf("rows[%d]: a figure under %d is shown", i, stats.K)
			}
		}
		if err := checkStatsLine(l.Cells, l.Total); err != nil {
			return fmt.Errorf("rows[%d]: %w", i, err)
		}
	}
	if t.Totals == nil {
		return nil
	}
	for j := range len(t.Columns) + 1 {
		var col []StatsValue
		for _, l := range t.Rows {
			col = append(col, at(l, j))
		}
		if err := checkStatsLine(col, at(*t.Totals, j)); err != nil {
			return fmt.Errorf("column %d: %w", j, err)
		}
	}
	return nil
}

// at is figure j of a line, its total after the cells.
func at(l StatsLine, j int) StatsValue {
	if j < len(l.Cells) {
		return l.Cells[j]
	}
	return l.Total
}

// checkStatsLine checks that figures add up to their total: when all are
// shown, exactly; with hidden ones (each at least 1, since zeros are
// shown), at least; and that no figure is hidden alone, which the total
// would give back.
func checkStatsLine(figures []StatsValue, total StatsValue) error {
	hidden, sum := 0, 0
	for _, v := range figures {
		if v.Hidden {
			hidden++
		} else {
			sum += v.N
		}
	}
	switch {
	case total.Hidden && hidden == 0, !total.Hidden && hidden == 1:
		return errors.New("a hidden figure is given back by its line")
	case !total.Hidden && hidden == 0 && sum != total.N:
		return errors.New("figures do not add up to their total")
	case !total.Hidden && sum+hidden > total.N:
		return errors.New("figures exceed their total")
	}
	return nil
}

// statsKeyKnown reports whether key is a row of table: a top-level
// theme, a final state, a final state with one of its reasons.
func (f *Federator) statsKeyKnown(table, key string) bool {
	switch table {
	case StatsByTheme:
		return key == StatsUnknownTheme || slices.ContainsFunc(f.o.Catalog.Taxonomy().Categories, func(t directory.Term) bool { return t.Code == key })
	case StatsByState:
		return referral.State(key).Terminal()
	case StatsByReason:
		st, code, _ := strings.Cut(key, " ")
		codes := referral.Outcomes[referral.State(st)]
		if referral.State(st) == referral.Rejected {
			codes = referral.RejectReasons
		}
		return codes != nil && (code == stats.NoReason || slices.Contains(codes, code))
	}
	return false
}

// brussels is the time zone of the months.
func brussels() *time.Location {
	if loc, err := time.LoadLocation("Europe/Brussels"); err == nil {
		return loc
	}
	return time.UTC
}
