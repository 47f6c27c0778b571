package search

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

// A packed schedule answers "open at" exactly as the schedule it packs,
// whether it packs as weekly hours or with its dated exceptions and
// periods, and for hours no validated schedule has (past midnight, on
// no weekday).
func TestPackedScheduleOpensAsTheSchedule(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	dates := []string{"2026-12-21", "2026-12-22", "2026-12-24", "2026-12-25", "2027-01-04"}
	slot := func() directory.Slot {
		o := directory.Clock(r.IntN(48) * 30)
		return directory.Slot{Day: time.Weekday(r.IntN(7)), Opens: o, Closes: o + directory.Clock(15+r.IntN(400))}
	}
	kinds := map[byte]int{}
	for i := range 400 {
		var s directory.Schedule
		for range r.IntN(10) {
			s.Weekly = append(s.Weekly, slot())
		}
		switch i % 5 {
		case 1:
			e := directory.Exception{Date: dates[r.IntN(len(dates))], Closed: r.IntN(2) == 0, Note: directory.T(directory.FR, "Fermé")}
			if !e.Closed {
				e.Hours = []directory.Span{{Opens: 600, Closes: 720}}
			}
			s.Exceptions = append(s.Exceptions, e)
		case 2:
			p := directory.Period{From: "2026-12-22", To: "2026-12-26", Message: directory.T(directory.NL, "Vakantie")}
			if r.IntN(2) == 0 {
				p.Closed = true
			} else {
				p.Hours = []directory.Slot{slot(), slot()}
			}
			s.Periods = append(s.Periods, p)
		case 3:
			if len(s.Weekly) > 0 {
				s.Weekly[0].Closes = 3000 // beyond a day: answered as midnight
			}
		case 4:
			s.Weekly = append(s.Weekly, directory.Slot{Day: 9, Opens: 0, Closes: 1440}, directory.Slot{Day: time.Monday, Opens: -30, Closes: 600})
		}
		p := packSchedule(s)
		if !p.valid() {
			t.Fatalf("schedule %d packs to an invalid %q", i, p)
		}
		if len(p) > 0 {
			kinds[p[0]]++
			if got, want := p.schedule(), checkedHours(s); !reflect.DeepEqual(got, want) {
				t.Fatalf("schedule %d unpacks to %+v, want %+v", i, got, want)
			}
		}
		for _, date := range dates {
			d, _ := time.Parse(time.DateOnly, date)
			for m := directory.Clock(0); m < 1440; m += 17 {
				if got, want := p.openOn(date, d.Weekday(), m), s.OpenOn(date, d.Weekday(), m); got != want {
					t.Fatalf("schedule %d %+v on %s at %d: packed says %v, schedule %v", i, s, date, m, got, want)
				}
			}
		}
	}
	if kinds[packedWeekly] == 0 || kinds[packedDated] == 0 {
		t.Errorf("packings seen %v: both kinds should be", kinds)
	}
	if packSchedule(directory.Schedule{}) != "" {
		t.Error("the empty schedule should pack to nothing")
	}
	for _, bad := range []packedSchedule{"x", "w123", "d", "d\x00\x01", "d\x00\x00\x00\x05", "d\x01\xff\xff\xff\x7f\x00\x00"} {
		if bad.valid() {
			t.Errorf("%q reads as valid", bad)
		}
	}
}

// Checking a weekly schedule allocates nothing: a search with "open at"
// checks thousands.
func TestPackedScheduleCheckAllocatesNothing(t *testing.T) {
	p := packSchedule(directory.Schedule{Weekly: []directory.Slot{{Day: time.Monday, Opens: 540, Closes: 750}, {Day: time.Monday, Opens: 810, Closes: 1020}}})
	if n := testing.AllocsPerRun(100, func() { p.openOn("2026-12-21", time.Monday, 600) }); n != 0 {
		t.Errorf("%v allocations per check, want 0", n)
	}
	if !p.openOn("2026-12-21", time.Monday, 600) || p.openOn("2026-12-21", time.Monday, 780) {
		t.Error("Monday 10:00 should be open and 13:00 closed")
	}
}
