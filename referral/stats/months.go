package stats

import (
	"context"
	"time"

	"github.com/maillage/maillage/referral"
)

// Month is one complete month's shared statistics (federation, shared
// statistics): each table counts only what happened in that month, so
// that the months of two reports never overlap and a partner cannot
// subtract one report from another to work out a hidden figure.
type Month struct {
	Month string // YYYY-MM
	// ByTheme counts the referrals sent (or received) in the month, by
	// theme ("" for an unknown theme).
	ByTheme Table
	// ByState counts the referrals closed in the month (their first
	// final state), by that state; ByReason by state and reason code
	// (NoReason: none recorded), without column totals: each state's
	// reasons add up to its row of ByState. A referral closes once, so
	// it counts in one month only.
	ByState, ByReason Table
}

// MonthsOptions say which months ComputeMonths counts.
type MonthsOptions struct {
	// Months are the first instants of the months to count, in Loc.
	Months []time.Time
	// Loc is the time zone of the months (Brussels).
	Loc *time.Location
	// Theme gives the top-level theme of a service by its ActivityPub
	// id ("" when unknown).
	Theme func(service string) string
}

// ComputeMonths counts, for each month of o, the referrals of src sent
// or received in it and those closed in it, each month's tables
// protected on their own. first is when the earliest referral of src
// started (zero without any).
func ComputeMonths(ctx context.Context, src Source, o MonthsOptions) (months []Month, first time.Time, err error) {
	if o.Loc == nil {
		o.Loc = time.UTC
	}
	type month struct{ theme, state, reason counter }
	byKey := map[string]*month{}
	for _, m := range o.Months {
		byKey[m.In(o.Loc).Format("2006-01")] = &month{counter{}, counter{}, counter{}}
	}
	add := func(c counter, key string, col int) {
		v := c[key]
		v[col]++
		c[key] = v
	}
	err = src(ctx, func(r *referral.Referral) error {
		start, ok := started(r)
		if !ok {
			return nil
		}
		if first.IsZero() || start.Before(first) {
			first = start
		}
		col := 0
		if r.Side == referral.Recipient {
			col = 1
		}
		if m := byKey[start.In(o.Loc).Format("2006-01")]; m != nil {
			th := ""
			if o.Theme != nil {
				th = o.Theme(r.Service)
			}
			add(m.theme, th, col)
		}
		e, ok := closed(r)
		if !ok {
			return nil
		}
		if m := byKey[e.At.In(o.Loc).Format("2006-01")]; m != nil {
			add(m.state, string(e.To), col)
			if _, coded := referral.Outcomes[e.To]; coded || e.To == referral.Rejected {
				code := e.Reason
				if code == "" {
					code = NoReason
				}
				add(m.reason, string(e.To)+" "+code, col)
			}
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	cols := []string{Sent, Received}
	for _, at := range o.Months {
		key := at.In(o.Loc).Format("2006-01")
		m := byKey[key]
		themes := keys(m.theme)
		srows, parent := stateRows(m.state, m.reason)
		gt := protect(themes, cols, counts(m.theme, themes), nil, nil)
		gs := protect(srows, cols, counts(m.state, srows), parent, nil)
		months = append(months, Month{Month: key,
			ByTheme:  gt.table(func(int) bool { return true }, true),
			ByState:  gs.table(func(i int) bool { return parent[i] < 0 }, true),
			ByReason: gs.table(func(i int) bool { return parent[i] >= 0 }, false)})
	}
	return months, first, nil
}

// closed is the event that closed r: its first into a final state, with
// the referral's reason if the event has none (a final state is never
// left, so the referral's reason is the one it closed with).
func closed(r *referral.Referral) (referral.Event, bool) {
	for _, e := range r.History {
		if e.To.Terminal() {
			if e.Reason == "" && e.To == r.State {
				e.Reason = r.Reason
			}
			return e, true
		}
	}
	return referral.Event{}, false
}
