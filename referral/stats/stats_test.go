package stats_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/referral/stats"
	"github.com/maillage/maillage/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "store.key")
	if err := store.GenerateKey(keyPath); err != nil {
		t.Fatal(err)
	}
	key, err := store.ReadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "db"), key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var seq int

// put records a referral on side, sent (or received) at at, answered
// after answer and ended after closed (0: not yet) in state end.
func put(t *testing.T, st *store.Store, side referral.Side, other, service string, at time.Time, answer, closed time.Duration, end referral.State, reason string) {
	t.Helper()
	seq++
	r := &referral.Referral{ID: fmt.Sprintf("https://a.example/referrals/r%04d", seq), Side: side, Sender: "https://a.example/actor", Recipient: other,
		Service: service, State: referral.Requested, Created: at, Updated: at}
	first := referral.Event{At: at, From: referral.Draft, To: referral.Requested, By: referral.Sender}
	if side == referral.Recipient {
		r.Sender, r.Recipient = other, "https://a.example/actor"
		first = referral.Event{At: at, From: referral.Requested, To: referral.Received, By: referral.System}
		r.State = referral.Received
	}
	r.History = []referral.Event{first}
	if answer > 0 {
		to := referral.Accepted
		if end == referral.Rejected {
			to = referral.Rejected
		}
		r.History = append(r.History, referral.Event{At: at.Add(answer), From: r.State, To: to, By: referral.Recipient})
		r.State = to
	}
	if closed > 0 && end != referral.Rejected {
		r.History = append(r.History, referral.Event{At: at.Add(closed), From: r.State, To: end, By: referral.Recipient, Reason: reason})
		r.State = end
	}
	if r.State.Terminal() {
		r.Reason = reason
	}
	if err := st.AddReferral(context.Background(), r, referral.Writes{}); err != nil {
		t.Fatal(err)
	}
}

func TestSmallNumbersCannotBeWorkedBack(t *testing.T) {
	st := openStore(t)
	loc, _ := time.LoadLocation("Europe/Brussels")
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(1, 0, 0)
	themes := map[string]string{"https://b.example/services/s1": "famille", "https://c.example/services/s2": "emploi",
		"https://d.example/services/s3": "famille", "https://a.example/services/mine": "numerique"}
	// B: 12 sent, C: 11 sent, D (the small partner): 3 sent; E sends us 14.
	mk := func(n int, side referral.Side, actor, service string, day int) {
		for i := range n {
			at := from.AddDate(0, i%4, day+i)
			put(t, st, side, actor, service, at, time.Duration(1+i)*time.Hour, time.Duration(24*(1+i))*time.Hour, referral.Completed, "service-provided")
		}
	}
	mk(12, referral.Sender, "https://b.example/actor", "https://b.example/services/s1", 1)
	mk(11, referral.Sender, "https://c.example/actor", "https://c.example/services/s2", 2)
	mk(3, referral.Sender, "https://d.example/actor", "https://d.example/services/s3", 3)
	mk(14, referral.Recipient, "https://e.example/actor", "https://a.example/services/mine", 4)
	// Outside the period: not counted.
	put(t, st, referral.Sender, "https://d.example/actor", "https://d.example/services/s3", from.AddDate(-1, 0, 0), time.Hour, 0, referral.Accepted, "")

	rep, err := stats.Compute(context.Background(), st.ForEachReferral, stats.Options{From: from, To: to, Loc: loc,
		Theme: func(s string) string { return themes[s] }})
	if err != nil {
		t.Fatal(err)
	}
	// By partner: D's 3 are hidden, and so is a second figure of the sent
	// column, so that the column total minus the shown cells is not 3.
	p := rep.ByPartner
	row := map[string]int{}
	for i, k := range p.Rows {
		row[k] = i
	}
	d := row["https://d.example/actor"]
	if !p.Cells[d][0].Hidden || p.Cells[d][0].N != 0 {
		t.Fatalf("D's 3 referrals are published: %+v", p.Cells[d])
	}
	if p.RowTotals[d].N == 3 || !p.RowTotals[d].Hidden {
		t.Errorf("D's row total shows it: %+v", p.RowTotals[d])
	}
	truth := map[string][2]int{"https://b.example/actor": {12, 0}, "https://c.example/actor": {11, 0}, "https://d.example/actor": {3, 0}, "https://e.example/actor": {0, 14}}
	assertProtected(t, "by partner", p, func(r string) [2]int { return truth[r] })
	// Whatever the figures, no published line lets one compute 3: every
	// published value, and every "total − sum of shown cells" of a line
	// with hidden cells, is something else than D's hidden 3 alone.
	for _, v := range published(p) {
		if v == 3 {
			t.Errorf("a published figure of the partner table is 3")
		}
	}
	sentShown := 0
	for i := range p.Rows {
		if !p.Cells[i][0].Hidden {
			sentShown += p.Cells[i][0].N
		}
	}
	if !p.ColTotals[0].Hidden && p.ColTotals[0].N-sentShown == 3 {
		t.Errorf("sent total − shown sent cells = 3")
	}
	if !p.Total.Hidden {
		shownRows := 0
		for i := range p.Rows {
			if !p.RowTotals[i].Hidden {
				shownRows += p.RowTotals[i].N
			}
		}
		if p.Total.N-shownRows == 3 {
			t.Errorf("grand total − shown row totals = 3")
		}
	}
	if p.Total.Hidden || p.Total.N != 40 {
		t.Errorf("grand total %+v, want 40 shown", p.Total)
	}
	// By theme: famille holds B's 12 and D's 3 (15): shown; the theme
	// table has no small cell.
	th := rep.ByTheme
	for i, k := range th.Rows {
		if k == "famille" && (th.Cells[i][0].Hidden || th.Cells[i][0].N != 15) {
			t.Errorf("famille: %+v", th.Cells[i])
		}
	}
	// By month and reason: every table is protected.
	for name, tb := range map[string]stats.Table{"month": rep.ByMonth, "state": rep.ByState, "reason": rep.ByReason, "theme": rep.ByTheme, "partner": rep.ByPartner} {
		assertLines(t, name, tb)
	}
	// Percentiles: sent referrals answered after 1..12, 1..11, 1..3 hours.
	fa := rep.FirstAnswer[stats.Sent]
	if !fa.Shown || fa.N != 26 {
		t.Fatalf("first answer (sent): %+v", fa)
	}
	// Sorted: 1,1,1,2,2,2,3,3,3,4,4,5,5,6,6,... rank ceil(0.5·26)=13 → 5h;
	// rank ceil(0.9·26)=24 → 11h.
	if fa.Median != 5*time.Hour || fa.P90 != 11*time.Hour {
		t.Errorf("first answer: median %v p90 %v, want 5h 11h", fa.Median, fa.P90)
	}
	if c := rep.Closing[stats.Received]; !c.Shown || c.Median != 7*24*time.Hour || c.P90 != 13*24*time.Hour {
		t.Errorf("closing (received): %+v", c)
	}
}

// Percentiles over fewer than K referrals are not shown.
func TestPercentilesNeedFive(t *testing.T) {
	st := openStore(t)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4 {
		put(t, st, referral.Sender, "https://b.example/actor", "https://b.example/services/s1", from.AddDate(0, 0, i+1), time.Hour, 2*time.Hour, referral.Completed, "service-provided")
	}
	put(t, st, referral.Recipient, "https://c.example/actor", "https://a.example/services/mine", from.AddDate(0, 0, 9), 0, 0, "", "")
	rep, err := stats.Compute(context.Background(), st.ForEachReferral, stats.Options{From: from, To: from.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if p := rep.FirstAnswer[stats.Sent]; p.Shown || p.N != 0 || p.Median != 0 {
		t.Errorf("4 answers give percentiles: %+v", p)
	}
	// Four sent and one received: every count but the grand total of 5
	// is hidden, and the 4 and the 1 cannot be told apart.
	p := rep.ByPartner
	if !p.Cells[0][0].Hidden || !p.Cells[1][1].Hidden || !p.ColTotals[0].Hidden || !p.ColTotals[1].Hidden || p.Total.N != 5 {
		t.Errorf("partner table: %+v", p)
	}
	assertLines(t, "partner", p)
	assertCannotSolve(t, "partner", p, [][]int{{4, 0}, {0, 1}})
}

// Protect alone, on crafted tables.
func TestProtect(t *testing.T) {
	cases := []struct {
		name   string
		counts [][]int
	}{
		{"one small in a column", [][]int{{12, 0}, {11, 0}, {3, 0}, {0, 14}}},
		{"one small in a row", [][]int{{3, 20}, {10, 10}}},
		{"two small that add to 2", [][]int{{1, 9}, {1, 9}, {10, 10}}},
		{"small total of zeros and a one", [][]int{{0, 1}, {0, 0}, {7, 9}}},
		{"one column", [][]int{{12}, {4}, {9}}},
		{"all small", [][]int{{1, 2}, {1, 0}}},
		{"a 1 beside zeros", [][]int{{1, 0, 0}, {20, 30, 40}, {6, 7, 8}}},
	}
	for _, c := range cases {
		rows := make([]string, len(c.counts))
		cols := make([]string, len(c.counts[0]))
		for i := range rows {
			rows[i] = fmt.Sprint("r", i)
		}
		for j := range cols {
			cols[j] = fmt.Sprint("c", j)
		}
		tb := stats.Protect(rows, cols, c.counts)
		for i := range c.counts {
			for j, n := range c.counts[i] {
				v := tb.Cells[i][j]
				if n > 0 && n < stats.K && !v.Hidden {
					t.Errorf("%s: %d shown", c.name, n)
				}
				if !v.Hidden && v.N != n {
					t.Errorf("%s: cell %d,%d = %d, want %d", c.name, i, j, v.N, n)
				}
				if n == 0 && v.Hidden {
					t.Errorf("%s: a zero hidden", c.name)
				}
			}
		}
		assertLines(t, c.name, tb)
		assertCannotSolve(t, c.name, tb, c.counts)
	}
}

// assertProtected checks the partner table's figures against the truth.
func assertProtected(t *testing.T, name string, tb stats.Table, truth func(string) [2]int) {
	t.Helper()
	counts := make([][]int, len(tb.Rows))
	for i, r := range tb.Rows {
		v := truth(r)
		counts[i] = v[:]
	}
	assertCannotSolve(t, name, tb, counts)
}

// assertLines checks the suppression pattern: in every row and every
// column (with its total), no figure is hidden alone.
func assertLines(t *testing.T, name string, tb stats.Table) {
	t.Helper()
	for i := range tb.Rows {
		if tb.RowTotals == nil {
			break
		}
		line := append(append([]stats.Value{}, tb.Cells[i]...), tb.RowTotals[i])
		if hiddenCount(line) == 1 {
			t.Errorf("%s: row %s hides one figure", name, tb.Rows[i])
		}
	}
	if tb.ColTotals == nil {
		return // no column totals: the rows' equations only
	}
	for j := range tb.Cols {
		var line []stats.Value
		for i := range tb.Rows {
			line = append(line, tb.Cells[i][j])
		}
		line = append(line, tb.ColTotals[j])
		if hiddenCount(line) == 1 {
			t.Errorf("%s: column %s hides one figure", name, tb.Cols[j])
		}
	}
	if tb.RowTotals != nil {
		line := append(append([]stats.Value{}, tb.RowTotals...), tb.Total)
		if hiddenCount(line) == 1 {
			t.Errorf("%s: the totals column hides one figure", name)
		}
	}
}

func hiddenCount(vs []stats.Value) int {
	n := 0
	for _, v := range vs {
		if v.Hidden {
			n++
		}
	}
	return n
}

// assertCannotSolve works as an attacker: it knows every shown figure,
// that every hidden figure is between 1 and the largest the table could
// hold, and that rows and columns add up; it enumerates, for each small
// hidden cell, the values consistent with everything published (by
// propagating the line equations to a fixed point on intervals) and fails
// if a small cell's interval narrows to a single value.
func assertCannotSolve(t *testing.T, name string, tb stats.Table, counts [][]int) {
	t.Helper()
	R, C := len(tb.Rows), len(tb.Cols)
	// The attacker does not know hidden totals: a hidden figure is at
	// least 1 (zeros are shown), with no upper bound but what the
	// published figures imply.
	const total = 1 << 20
	type iv struct{ lo, hi int }
	// The extended table.
	x := make([][]iv, R+1)
	hidden := make([][]bool, R+1)
	for i := range x {
		x[i] = make([]iv, C+1)
		hidden[i] = make([]bool, C+1)
	}
	get := func(i, j int) (stats.Value, bool) {
		switch {
		case i < R && j < C:
			return tb.Cells[i][j], true
		case i < R && j == C:
			if tb.RowTotals == nil {
				return stats.Value{}, false
			}
			return tb.RowTotals[i], true
		case i == R && j < C:
			return tb.ColTotals[j], true
		}
		return tb.Total, true
	}
	for i := range R + 1 {
		for j := range C + 1 {
			v, ok := get(i, j)
			switch {
			case !ok:
				x[i][j] = iv{0, total} // not published
				hidden[i][j] = true
			case v.Hidden:
				x[i][j] = iv{1, total}
				hidden[i][j] = true
			default:
				x[i][j] = iv{v.N, v.N}
			}
		}
	}
	// Propagate: in each line, each entry lies within (total − sum of the
	// others' intervals).
	var lines [][][2]int
	for i := range R + 1 {
		var l [][2]int
		for j := range C + 1 {
			l = append(l, [2]int{i, j})
		}
		lines = append(lines, l)
	}
	for j := range C + 1 {
		var l [][2]int
		for i := range R + 1 {
			l = append(l, [2]int{i, j})
		}
		lines = append(lines, l)
	}
	for range 50 {
		for _, l := range lines {
			// l's last entry is the total of the others.
			n := len(l) - 1
			tot := x[l[n][0]][l[n][1]]
			lo, hi := 0, 0
			for _, p := range l[:n] {
				lo += x[p[0]][p[1]].lo
				hi += x[p[0]][p[1]].hi
			}
			tot = iv{max(tot.lo, lo), min(tot.hi, hi)}
			x[l[n][0]][l[n][1]] = tot
			for _, p := range l[:n] {
				c := x[p[0]][p[1]]
				othersLo, othersHi := lo-c.lo, hi-c.hi
				x[p[0]][p[1]] = iv{max(c.lo, tot.lo-othersHi), min(c.hi, tot.hi-othersLo)}
			}
		}
	}
	for i := range R {
		for j := range C {
			n := counts[i][j]
			if n > 0 && n < stats.K {
				if v := x[i][j]; v.lo == v.hi {
					t.Errorf("%s: the hidden %d at %d,%d can be worked back (%d..%d)", name, n, i, j, v.lo, v.hi)
				}
				if v := x[i][j]; v.lo > n || v.hi < n {
					t.Errorf("%s: interval %v excludes the truth %d (test error)", name, v, n)
				}
			}
		}
	}
}

// published lists every figure a table shows.
func published(tb stats.Table) []int {
	var out []int
	add := func(v stats.Value) {
		if !v.Hidden {
			out = append(out, v.N)
		}
	}
	for i := range tb.Rows {
		for _, v := range tb.Cells[i] {
			add(v)
		}
		if tb.RowTotals != nil {
			add(tb.RowTotals[i])
		}
	}
	for _, v := range tb.ColTotals {
		add(v)
	}
	add(tb.Total)
	return out
}

// Random tables, many with small counts: the pattern rule holds and the
// attacker of assertCannotSolve narrows no small hidden count to one
// value.
func TestProtectRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	for n := range 5000 {
		R, C := 1+rng.IntN(12), 1+rng.IntN(4)
		counts := make([][]int, R)
		rows, cols := make([]string, R), make([]string, C)
		for i := range R {
			rows[i] = fmt.Sprint("r", i)
			counts[i] = make([]int, C)
			for j := range C {
				switch rng.IntN(3) {
				case 0:
					counts[i][j] = 0
				case 1:
					counts[i][j] = 1 + rng.IntN(4)
				default:
					counts[i][j] = 5 + rng.IntN(30)
				}
			}
		}
		for j := range C {
			cols[j] = fmt.Sprint("c", j)
		}
		tb := stats.Protect(rows, cols, counts)
		name := fmt.Sprintf("table %d %v", n, counts)
		assertLines(t, name, tb)
		assertCannotSolve(t, name, tb, counts)
	}
}

// A state's count is the sum of its reasons' counts: a small reason must
// not come back as the state's count minus the other reasons shown, and
// the tables of the same referrals hide the same totals.
func TestStatesAndReasonsTogether(t *testing.T) {
	st := openStore(t)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b, sv := "https://b.example/actor", "https://b.example/services/s1"
	day := func(i int) time.Time { return from.AddDate(0, 1, i%25) }
	for i := range 3 {
		put(t, st, referral.Sender, b, sv, day(i), time.Hour, 0, referral.Rejected, "no-capacity")
	}
	for i := range 10 {
		put(t, st, referral.Sender, b, sv, day(i), time.Hour, 0, referral.Rejected, "out-of-area")
	}
	for i := range 20 {
		put(t, st, referral.Sender, b, sv, day(i), time.Hour, 48*time.Hour, referral.Completed, "service-provided")
	}
	rep, err := stats.Compute(context.Background(), st.ForEachReferral, stats.Options{From: from, To: from.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	rejected := stats.Value{Hidden: true}
	for i, k := range rep.ByState.Rows {
		if k == "rejected" {
			rejected = rep.ByState.Cells[i][0]
		}
	}
	shown, hidden, hiddenSum := 0, 0, 0
	truth := map[string]int{"rejected no-capacity": 3, "rejected out-of-area": 10}
	for i, k := range rep.ByReason.Rows {
		if _, ok := truth[k]; !ok {
			continue
		}
		if v := rep.ByReason.Cells[i][0]; v.Hidden {
			hidden++
			hiddenSum += truth[k]
		} else {
			shown += v.N
		}
	}
	if !rejected.Hidden && (hidden == 1 || rejected.N-shown < stats.K) {
		t.Errorf("rejected %d − reasons shown %d gives the hidden reason back (%+v)", rejected.N, shown, rep.ByReason)
	}
	if hidden == 0 {
		t.Errorf("the 3 is shown: %+v", rep.ByReason)
	}
	assertLines(t, "reason", rep.ByReason)
	t.Logf("states %v %+v; reasons %v %+v", rep.ByState.Rows, rep.ByState.Cells, rep.ByReason.Rows, rep.ByReason.Cells)
	// Same totals everywhere.
	for name, tb := range map[string]stats.Table{"month": rep.ByMonth, "theme": rep.ByTheme, "partner": rep.ByPartner, "state": rep.ByState} {
		if tb.Total != rep.ByMonth.Total || tb.ColTotals[0] != rep.ByMonth.ColTotals[0] || tb.ColTotals[1] != rep.ByMonth.ColTotals[1] {
			t.Errorf("%s's totals %+v %+v differ from the months' %+v %+v", name, tb.ColTotals, tb.Total, rep.ByMonth.ColTotals, rep.ByMonth.Total)
		}
	}
}

// Margins hidden in one table are hidden in all: here the received
// column (3 referrals) is small in every table.
func TestLinkedMargins(t *testing.T) {
	st := openStore(t)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		put(t, st, referral.Sender, "https://b.example/actor", "https://b.example/services/s1", from.AddDate(0, i%12, 1), time.Hour, 0, referral.Accepted, "")
	}
	for i := range 3 {
		put(t, st, referral.Recipient, "https://c.example/actor", "https://a.example/services/mine", from.AddDate(0, i, 2), 0, 0, "", "")
	}
	rep, err := stats.Compute(context.Background(), st.ForEachReferral, stats.Options{From: from, To: from.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for name, tb := range map[string]stats.Table{"month": rep.ByMonth, "theme": rep.ByTheme, "partner": rep.ByPartner, "state": rep.ByState} {
		if !tb.ColTotals[1].Hidden || tb.ColTotals[0] != rep.ByMonth.ColTotals[0] || tb.Total != rep.ByMonth.Total {
			t.Errorf("%s: totals %+v %+v, months %+v %+v", name, tb.ColTotals, tb.Total, rep.ByMonth.ColTotals, rep.ByMonth.Total)
		}
		assertLines(t, name, tb)
	}
}
