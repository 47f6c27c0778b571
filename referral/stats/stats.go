// Package stats computes a node's referral statistics for annual reports:
// counts by month, theme, partner, state and reason code, and the time
// referrals wait for an answer and for their close. It reads referral
// records (never their sealed data, notes or messages) and publishes
// counts only, protected for small numbers.
//
// # Small numbers (k = 5)
//
// A count from 1 to K-1 could point at a person ("the one resident this
// association sent to that partner in March"), so it is never published:
// the cell is hidden (primary suppression). Hiding it is not enough when
// totals are published: a row total minus the cells shown would give it
// back. Protect therefore applies complementary cell suppression, the
// usual method of statistical offices for additive tables: the table is
// seen with its margins (row totals, column totals, grand total) as a
// set of lines (each row and each column, margins included), each line
// an equation "cells = total". Until no line changes:
//
//   - a total from 1 to K-1 is hidden too;
//   - a line with exactly one hidden entry gets a second: its smallest
//     non-zero shown entry, cells before totals (one unknown in an
//     equation is solved; two are not);
//   - a line whose hidden entries add up to less than K gets one more, so
//     that the hidden figures cannot be narrowed down to a few ones.
//
// The per-line rules are the usual heuristic, and not enough on their
// own: equations of several lines together can still pin a hidden
// figure (two hidden ones in a row that another row and column show to
// add up to 2 are both 1). So Protect then audits the table as an
// attacker would: knowing every published figure, that hidden figures
// are at least 1 and that every line adds up, it narrows each hidden
// figure to an interval by propagating the line equations to a fixed
// point; while a figure under K has fewer than three possible values, it
// hides one more figure of that figure's lines (the smallest non-zero
// one, cells before totals) and starts again. Hiding every non-zero
// figure always passes, so this ends. (Interval propagation is weaker
// than the linear programming of tools like tau-argus, which would
// compute exact bounds; on the small tables of a node it is what fits.)
//
// Zeros stay shown (an empty cell says nothing of a person) and are never
// chosen as complements. Every hidden figure, whether under K or hidden
// to protect another, is published the same way (Value.Hidden), so a
// reader cannot tell which is which. The tables of one report describe
// the same referrals from different angles; each is protected on its own,
// which is the accepted practice for tables with one dimension besides
// the sent/received split.
//
// Time percentiles are published only over at least K referrals.
//
// The package imports the standard library and referral only.
package stats

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/maillage/maillage/referral"
)

// K is the smallest count published.
const K = 5

// Value is one published figure: N, or Hidden.
type Value struct {
	N      int
	Hidden bool
}

// Table is a protected table: rows × columns with margins. RowTotals is
// nil for a table of one column (the column total is then its total).
type Table struct {
	Rows      []string
	Cols      []string
	Cells     [][]Value
	RowTotals []Value
	ColTotals []Value
	Total     Value
}

// Protect builds the published table of counts (rows × cols, each row as
// long as cols), hiding small numbers and their complements (see the
// package comment).
func Protect(rows, cols []string, counts [][]int) Table {
	g := protect(rows, cols, counts, nil, nil)
	return g.table(func(i int) bool { return true }, true)
}

// grid is a protected extended table: x[R][j] are column totals (of the
// rows without a parent), x[i][C] row totals, x[R][C] the grand total.
type grid struct {
	rows, cols    []string
	x             [][]int
	hid           [][]bool
	withRowTotals bool
}

// protect hides small figures and their complements. parent, when not
// nil, gives each row's parent row (-1: none): a parent row is the sum of
// its children, an equation the protection covers too (states and their
// reasons). force lists figures hidden from the start (margins hidden in
// another table over the same referrals).
func protect(rows, cols []string, counts [][]int, parent []int, force []pos) grid {
	R, C := len(rows), len(cols)
	withRowTotals := C > 1
	top := func(i int) bool { return parent == nil || parent[i] < 0 }
	x := make([][]int, R+1)
	hid := make([][]bool, R+1)
	for i := range x {
		x[i] = make([]int, C+1)
		hid[i] = make([]bool, C+1)
	}
	for i := range R {
		for j := range C {
			n := counts[i][j]
			x[i][j] = n
			x[i][C] += n
			if top(i) {
				x[R][j] += n
				x[R][C] += n
			}
		}
	}
	for i := range R + 1 {
		for j := range C + 1 {
			if published(i, j, R, C, withRowTotals) && x[i][j] > 0 && x[i][j] < K {
				hid[i][j] = true
			}
		}
	}
	for _, p := range force {
		if x[p.i][p.j] > 0 {
			hid[p.i][p.j] = true
		}
	}
	// lines lists the equations of the table, each with its total last:
	// each row, each column (of the rows without a parent), and each
	// parent's column of children.
	var lines [][]pos
	if withRowTotals {
		for i := range R + 1 {
			var l []pos
			for j := range C + 1 {
				l = append(l, pos{i, j})
			}
			lines = append(lines, l)
		}
	}
	lastCol := C
	if !withRowTotals {
		lastCol = C - 1
	}
	for j := range lastCol + 1 {
		var l []pos
		for i := range R {
			if top(i) {
				l = append(l, pos{i, j})
			}
		}
		lines = append(lines, append(l, pos{R, j}))
		for pr := range R {
			var kids []pos
			for i := range R {
				if parent != nil && parent[i] == pr {
					kids = append(kids, pos{i, j})
				}
			}
			if kids != nil {
				lines = append(lines, append(kids, pos{pr, j}))
			}
		}
	}
	primary := make([][]bool, R+1)
	for i := range hid {
		primary[i] = slices.Clone(hid[i])
	}
	for {
		complete(x, hid, lines, R, C)
		bad, ok := audit(x, hid, primary, lines)
		if ok {
			break
		}
		// A small figure can still be narrowed down through several
		// lines: hide one more figure next to it, and start again.
		best := pos{-1, -1}
		for _, l := range lines {
			if !slices.Contains(l, bad) {
				continue
			}
			for _, p := range l {
				if !hid[p.i][p.j] && x[p.i][p.j] != 0 && (best.i < 0 || less(p, best, x, R, C)) {
					best = p
				}
			}
		}
		if best.i < 0 {
			for i := range R + 1 {
				for j := range C + 1 {
					p := pos{i, j}
					if published(i, j, R, C, withRowTotals) && !hid[i][j] && x[i][j] != 0 && (best.i < 0 || less(p, best, x, R, C)) {
						best = p
					}
				}
			}
		}
		if best.i < 0 {
			break // every figure that is not zero is hidden
		}
		hid[best.i][best.j] = true
	}
	return grid{rows: rows, cols: cols, x: x, hid: hid, withRowTotals: withRowTotals}
}

// table publishes the rows keep accepts, with the column totals or not.
func (g grid) table(keep func(i int) bool, margins bool) Table {
	R, C := len(g.rows), len(g.cols)
	val := func(i, j int) Value {
		if g.hid[i][j] {
			return Value{Hidden: true}
		}
		return Value{N: g.x[i][j]}
	}
	t := Table{Cols: g.cols, Cells: [][]Value{}}
	for i := range R {
		if !keep(i) {
			continue
		}
		t.Rows = append(t.Rows, g.rows[i])
		cells := make([]Value, C)
		for j := range C {
			cells[j] = val(i, j)
		}
		t.Cells = append(t.Cells, cells)
		if g.withRowTotals {
			t.RowTotals = append(t.RowTotals, val(i, C))
		}
	}
	if margins {
		t.ColTotals = make([]Value, C)
		for j := range C {
			t.ColTotals[j] = val(R, j)
		}
		t.Total = val(R, C)
	}
	return t
}

// margins are the hidden column totals and grand total of g.
func (g grid) margins() []pos {
	R, C := len(g.rows), len(g.cols)
	var out []pos
	for j := range C + 1 {
		if g.hid[R][j] {
			out = append(out, pos{R, j})
		}
	}
	return out
}

type pos struct{ i, j int }

// published reports whether entry i, j of the extended table is
// published (a table of one column has no row totals).
func published(i, j, R, C int, withRowTotals bool) bool {
	return withRowTotals || j < C || i == R
}

// complete applies the line rules (package comment) until no line
// changes: no figure hidden alone in a line, and hidden figures adding
// up to K or more.
func complete(x [][]int, hid [][]bool, lines [][]pos, R, C int) {
	for changed := true; changed; {
		changed = false
		for _, l := range lines {
			hidden, sum := 0, 0
			for _, p := range l {
				if hid[p.i][p.j] {
					hidden++
					sum += x[p.i][p.j]
				}
			}
			if hidden == 0 || (hidden >= 2 && sum >= K) {
				continue
			}
			// The smallest non-zero shown entry, cells before totals.
			best := pos{-1, -1}
			for _, p := range l {
				if hid[p.i][p.j] || x[p.i][p.j] == 0 {
					continue
				}
				if best.i < 0 || less(p, best, x, R, C) {
					best = p
				}
			}
			if best.i < 0 {
				continue // everything that is not zero is hidden already
			}
			hid[best.i][best.j] = true
			changed = true
		}
	}
}

// audit works as an attacker who knows every published figure, that a
// hidden figure is at least 1 (zeros are shown) and that every line adds
// up: it narrows the possible values of each hidden figure by
// propagating the line equations on intervals, to a fixed point. It
// returns a small (primary) figure left with fewer than 3 possible
// values, if any.
func audit(x [][]int, hid, primary [][]bool, lines [][]pos) (pos, bool) {
	const inf = 1 << 40
	type iv struct{ lo, hi int }
	v := make([][]iv, len(x))
	for i := range x {
		v[i] = make([]iv, len(x[i]))
		for j := range x[i] {
			if hid[i][j] {
				v[i][j] = iv{1, inf}
			} else {
				v[i][j] = iv{x[i][j], x[i][j]}
			}
		}
	}
	for changed, round := true, 0; changed && round < 200; round++ {
		changed = false
		for _, l := range lines {
			// The last entry of a line is the total of the others.
			n := len(l) - 1
			lo, hiFinite, unbounded := 0, 0, 0
			for _, p := range l[:n] {
				lo += v[p.i][p.j].lo
				if h := v[p.i][p.j].hi; h >= inf {
					unbounded++
				} else {
					hiFinite += h
				}
			}
			hi := hiFinite
			if unbounded > 0 {
				hi = inf
			}
			t := &v[l[n].i][l[n].j]
			nt := iv{max(t.lo, lo), min(t.hi, hi)}
			if nt != *t {
				*t, changed = nt, true
			}
			for _, p := range l[:n] {
				c := &v[p.i][p.j]
				othersLo, othersHi := lo-c.lo, inf
				switch {
				case c.hi >= inf && unbounded == 1:
					othersHi = hiFinite
				case c.hi < inf && unbounded == 0:
					othersHi = hiFinite - c.hi
				}
				nc := iv{max(c.lo, t.lo-othersHi), min(c.hi, t.hi-othersLo)}
				if nc != *c {
					*c, changed = nc, true
				}
			}
		}
	}
	for i := range x {
		for j := range x[i] {
			if primary[i][j] && hid[i][j] && v[i][j].hi-v[i][j].lo < 2 {
				return pos{i, j}, false
			}
		}
	}
	return pos{}, true
}

// less orders complement candidates: inner cells before totals, then the
// smaller count, then the position (so the choice is the same each time).
func less(a, b pos, x [][]int, R, C int) bool {
	ta, tb := a.i == R || a.j == C, b.i == R || b.j == C
	if ta != tb {
		return !ta
	}
	if x[a.i][a.j] != x[b.i][b.j] {
		return x[a.i][a.j] < x[b.i][b.j]
	}
	if a.i != b.i {
		return a.i < b.i
	}
	return a.j < b.j
}

// Percentiles are the median and 90th percentile of durations, shown
// only over at least K of them (Shown false: too few; N is then 0).
type Percentiles struct {
	N      int
	Median time.Duration
	P90    time.Duration
	Shown  bool
}

// percentiles uses the nearest-rank method: the p-th percentile of n
// sorted values is the value of rank ceil(p·n/100).
func percentiles(d []time.Duration) Percentiles {
	if len(d) < K {
		return Percentiles{}
	}
	slices.Sort(d)
	rank := func(p int) time.Duration {
		r := (p*len(d) + 99) / 100
		return d[max(r, 1)-1]
	}
	return Percentiles{N: len(d), Median: rank(50), P90: rank(90), Shown: true}
}

// NoReason stands for a referral that ended without a code.
const NoReason = "none"

// Directions are the columns of the referral tables.
const (
	Sent     = "sent"
	Received = "received"
)

// Options say what to count.
type Options struct {
	// From and To bound the period: referrals created from From
	// (included) to To (excluded).
	From, To time.Time
	// Loc is the time zone of the months (Brussels).
	Loc *time.Location
	// Theme gives the top-level theme of a service by its ActivityPub
	// id ("" when unknown).
	Theme func(service string) string
}

// Report is the node's referral statistics over a period.
type Report struct {
	From, To time.Time
	Months   []string // YYYY-MM, every month of the period
	ByMonth  Table
	ByTheme  Table // rows: theme codes, "" for an unknown theme
	// ByPartner's rows are the other node's actors: the recipient of a
	// sent referral, the sender of a received one.
	ByPartner Table
	ByState   Table // rows: states
	// ByReason's rows are "state reason", for referrals that ended
	// rejected, completed or failed, with their code (NoReason: none
	// recorded). It has no column totals: each state's reasons add up to
	// its row of ByState.
	ByReason Table
	// FirstAnswer is the time from sending (or receipt) to the
	// recipient's first answer (accepted or rejected); Closing to the
	// first final state. Keyed by Sent and Received.
	FirstAnswer map[string]Percentiles
	Closing     map[string]Percentiles
}

// counter counts by row key: sent, then received.
type counter map[string][2]int

// keys returns c's rows, sorted.
func keys(c counter) []string {
	rows := make([]string, 0, len(c))
	for k := range c {
		rows = append(rows, k)
	}
	sort.Strings(rows)
	return rows
}

// stateRows lists the states, each followed by its reasons ("state
// reason" rows, whose counts it copies into state), and each row's parent
// (-1 for a state): a state's count is the sum of its reasons', an
// equation protect keeps with the rest.
func stateRows(state, reason counter) (rows []string, parent []int) {
	reasons := keys(reason)
	for _, st := range referral.States {
		if _, ok := state[string(st)]; !ok {
			continue
		}
		at := len(rows)
		rows, parent = append(rows, string(st)), append(parent, -1)
		for _, k := range reasons {
			if s, _, _ := strings.Cut(k, " "); s == string(st) {
				rows, parent = append(rows, k), append(parent, at)
				state[k] = reason[k]
			}
		}
	}
	return rows, parent
}

// counts are c's rows in the order of rows, for Protect.
func counts(c counter, rows []string) [][]int {
	out := make([][]int, len(rows))
	for i, k := range rows {
		v := c[k]
		out[i] = v[:]
	}
	return out
}

// Source gives every referral record.
type Source func(ctx context.Context, fn func(*referral.Referral) error) error

// Compute counts the referrals of src created in the period.
func Compute(ctx context.Context, src Source, o Options) (*Report, error) {
	if o.Loc == nil {
		o.Loc = time.UTC
	}
	rep := &Report{From: o.From, To: o.To}
	for m := o.From.In(o.Loc); m.Before(o.To); m = m.AddDate(0, 1, 0) {
		rep.Months = append(rep.Months, m.Format("2006-01"))
	}
	cols := []string{Sent, Received}
	month, theme, partner, state, reason := counter{}, counter{}, counter{}, counter{}, counter{}
	add := func(c counter, key string, col int) {
		v := c[key]
		v[col]++
		c[key] = v
	}
	answer := [2][]time.Duration{}
	closing := [2][]time.Duration{}
	err := src(ctx, func(r *referral.Referral) error {
		start, ok := started(r)
		if !ok || start.Before(o.From) || !start.Before(o.To) {
			return nil
		}
		col, other := 0, r.Recipient
		if r.Side == referral.Recipient {
			col, other = 1, r.Sender
		}
		add(month, start.In(o.Loc).Format("2006-01"), col)
		th := ""
		if o.Theme != nil {
			th = o.Theme(r.Service)
		}
		add(theme, th, col)
		add(partner, other, col)
		st, why := r.State, r.Reason
		add(state, string(st), col)
		if _, coded := referral.Outcomes[st]; coded || st == referral.Rejected {
			code := why
			if code == "" {
				code = NoReason
			}
			add(reason, string(st)+" "+code, col)
		}
		if at, ok := firstAt(r, func(s referral.State) bool { return s == referral.Accepted || s == referral.Rejected }); ok {
			answer[col] = append(answer[col], at.Sub(start))
		}
		if at, ok := firstAt(r, referral.State.Terminal); ok {
			closing[col] = append(closing[col], at.Sub(start))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	srows, parent := stateRows(state, reason)
	monthRows, themeRows, partnerRows := rep.Months, keys(theme), keys(partner)
	// The tables count the same referrals: their column totals and grand
	// total are the same figures, hidden in all if hidden in one.
	var force []int // columns of hidden margins (len(cols): the grand total)
	var gm, gt, gp, gs grid
	for range 10 {
		at := func(rows []string) []pos {
			var out []pos
			for _, j := range force {
				out = append(out, pos{len(rows), j})
			}
			return out
		}
		gm = protect(monthRows, cols, counts(month, monthRows), nil, at(monthRows))
		gt = protect(themeRows, cols, counts(theme, themeRows), nil, at(themeRows))
		gp = protect(partnerRows, cols, counts(partner, partnerRows), nil, at(partnerRows))
		gs = protect(srows, cols, counts(state, srows), parent, at(srows))
		hidden := map[int]bool{}
		for _, g := range []grid{gm, gt, gp, gs} {
			for _, p := range g.margins() {
				hidden[p.j] = true
			}
		}
		if len(hidden) == len(force) {
			break
		}
		force = force[:0]
		for j := range len(cols) + 1 {
			if hidden[j] {
				force = append(force, j)
			}
		}
	}
	all := func(int) bool { return true }
	rep.ByMonth = gm.table(all, true)
	rep.ByTheme = gt.table(all, true)
	rep.ByPartner = gp.table(all, true)
	rep.ByState = gs.table(func(i int) bool { return parent[i] < 0 }, true)
	rep.ByReason = gs.table(func(i int) bool { return parent[i] >= 0 }, false)
	rep.FirstAnswer = map[string]Percentiles{Sent: percentiles(answer[0]), Received: percentiles(answer[1])}
	rep.Closing = map[string]Percentiles{Sent: percentiles(closing[0]), Received: percentiles(closing[1])}
	return rep, nil
}

// started is when the referral left this node (sent) or reached it
// (received): its first requested or received event, else its creation.
func started(r *referral.Referral) (time.Time, bool) {
	want := referral.Requested
	if r.Side == referral.Recipient {
		want = referral.Received
	}
	if at, ok := firstAt(r, func(s referral.State) bool { return s == want }); ok {
		return at, true
	}
	if r.State == referral.Draft {
		return time.Time{}, false // never sent
	}
	return r.Created, !r.Created.IsZero()
}

// firstAt is the time of the first event of r into a state ok accepts.
func firstAt(r *referral.Referral, ok func(referral.State) bool) (time.Time, bool) {
	for _, e := range r.History {
		if ok(e.To) {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// Counts protects a one-column count (services by theme, needs by
// theme), rows in key order.
func Counts(col string, c map[string]int) Table {
	rows := make([]string, 0, len(c))
	for k := range c {
		rows = append(rows, k)
	}
	slices.SortFunc(rows, cmp.Compare)
	counts := make([][]int, len(rows))
	for i, k := range rows {
		counts[i] = []int{c[k]}
	}
	return Protect(rows, []string{col}, counts)
}
