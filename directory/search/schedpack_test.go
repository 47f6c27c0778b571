package search

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
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

// "Open at" finds exactly the services whose schedules say they are open
// then, among generated ones (weekly hours, dated exceptions and periods)
// and ones that open or close within a half hour, or whose slots touch:
// the half-hour lists narrow the candidates and skip the exact check
// only where no slot opens or closes within that half hour.
func TestOpenAtMatchesTheSchedules(t *testing.T) {
	x, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := sample.New(11)
	var docs []Doc
	for i := range 240 {
		l := g.Location()
		s := g.Service(l.ID)
		docs = append(docs, Doc{URI: fmt.Sprintf("https://n.example/services/%d", i), Service: s, Actor: "https://n.example/actor", Provider: "A"})
	}
	odd := [][]directory.Slot{
		{{Day: time.Monday, Opens: 9*60 + 10, Closes: 9*60 + 20}},
		{{Day: time.Monday, Opens: 9 * 60, Closes: 9*60 + 15}, {Day: time.Monday, Opens: 9*60 + 15, Closes: 12 * 60}},
		{{Day: time.Monday, Opens: 9 * 60, Closes: 12 * 60}, {Day: time.Monday, Opens: 9 * 60, Closes: 9*60 + 5}},
		{{Day: time.Tuesday, Opens: 23*60 + 45, Closes: 24 * 60}},
	}
	for i, w := range odd {
		docs = append(docs, Doc{URI: fmt.Sprintf("https://n.example/services/odd%d", i), Actor: "https://n.example/actor", Provider: "A",
			Service: &directory.Service{ID: fmt.Sprintf("odd%d", i), Name: directory.T(directory.FR, "Permanence"), Status: directory.StatusActive,
				Schedule: directory.Schedule{Weekly: w}}})
	}
	if err := x.PutBatch(docs); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	instants := []time.Time{time.Date(2026, 12, 21, 9, 12, 0, 0, brussels), time.Date(2026, 12, 21, 9, 0, 0, 0, brussels),
		time.Date(2026, 12, 21, 9, 16, 0, 0, brussels), time.Date(2026, 12, 22, 23, 50, 0, 0, brussels)}
	for range 60 {
		instants = append(instants, time.Date(2026, 12, 14+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, brussels))
	}
	for _, at := range instants {
		want := map[string]bool{}
		for _, d := range docs {
			if d.Service.Schedule.OpenOn(at.Format(time.DateOnly), at.Weekday(), directory.Clock(at.Hour()*60+at.Minute())) {
				want[d.URI] = true
			}
		}
		got := map[string]bool{}
		for page := 1; ; page++ {
			res, err := x.Search(Query{OpenAt: &at, PerPage: MaxPerPage, Page: page})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range res.Hits {
				got[h.URI] = true
			}
			if len(res.Hits) < MaxPerPage {
				break
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("open at %s: %d found, %d open by their schedules", at.Format(time.RFC3339), len(got), len(want))
		}
	}
}
