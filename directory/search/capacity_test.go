package search

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

// "Open at" follows the dated changes of hours, which apply and lift
// themselves on the day without reindexing; "has places" finds the
// services with places free now; both survive a snapshot.
func TestSearchFollowsPeriodsAndPlaces(t *testing.T) {
	now := time.Date(2026, 12, 21, 9, 30, 0, 0, brussels) // a Monday
	x, err := New(Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	weekdays := []directory.Slot{{Day: time.Monday, Opens: 9 * 60, Closes: 12 * 60}, {Day: time.Tuesday, Opens: 9 * 60, Closes: 12 * 60}}
	svc := func(id string, sched directory.Schedule, c *directory.Capacity) Doc {
		s := &directory.Service{ID: id, Name: directory.T(directory.FR, "Service "+id), Status: directory.StatusActive, Schedule: sched, Capacity: c}
		return Doc{URI: "https://n.example/services/" + id, Service: s, Actor: "https://n.example/actor", Provider: "Maison"}
	}
	docs := []Doc{
		svc("usual", directory.Schedule{Weekly: weekdays}, &directory.Capacity{Available: 2, Maximum: 5}),
		svc("holidays", directory.Schedule{Weekly: weekdays, Periods: []directory.Period{{From: "2026-12-21", To: "2026-12-31", Closed: true}}},
			&directory.Capacity{Waiting: &directory.WaitingList{Length: 3}}),
		// Open only on Sunday afternoons during December: its weekly hours
		// say nothing of Sundays.
		svc("sundays", directory.Schedule{Weekly: weekdays, Periods: []directory.Period{{From: "2026-12-01", To: "2027-01-10",
			Hours: []directory.Slot{{Day: time.Sunday, Opens: 14 * 60, Closes: 17 * 60}}}}}, &directory.Capacity{}),
		svc("message", directory.Schedule{Weekly: weekdays, Periods: []directory.Period{{From: "2026-12-01", To: "2026-12-31",
			Message: directory.T(directory.FR, "Inscriptions en janvier")}}}, nil),
	}
	if err := x.PutBatch(docs); err != nil {
		t.Fatal(err)
	}
	search := func(x *Index, q Query) []string {
		t.Helper()
		q.Page, q.PerPage = 1, 20
		r, err := x.Search(q)
		if err != nil {
			t.Fatal(err)
		}
		got := ids(r)
		slices.Sort(got)
		return got
	}
	at := func(tm time.Time) *time.Time { return &tm }
	check := func(x *Index, name string, q Query, want ...string) {
		t.Helper()
		if got := search(x, q); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	check(x, "open on the closure's first morning", Query{OpenAt: at(now)}, "message", "usual")
	check(x, "open on a Sunday afternoon of December", Query{OpenAt: at(time.Date(2026, 12, 27, 15, 0, 0, 0, brussels))}, "sundays")
	check(x, "open the first Monday morning after the closure", Query{OpenAt: at(time.Date(2027, 1, 4, 9, 30, 0, 0, brussels))}, "holidays", "message", "usual")
	check(x, "open on a Monday morning when December's Sundays are over", Query{OpenAt: at(time.Date(2027, 1, 11, 9, 30, 0, 0, brussels))},
		"holidays", "message", "sundays", "usual")
	check(x, "places now", Query{HasPlaces: true}, "usual")
	// The results say whether each is open now, from the same schedule.
	r, _ := x.Search(Query{Text: "service", Page: 1, PerPage: 20})
	for _, h := range r.Hits {
		if want := h.Service.ID == "usual" || h.Service.ID == "message"; h.OpenNow != want {
			t.Errorf("%s: open now %v, want %v", h.Service.ID, h.OpenNow, want)
		}
	}
	// A snapshot keeps the terms.
	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		t.Fatal(err)
	}
	y, err := Load(bytes.NewReader(buf.Bytes()), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	check(y, "places after a reload", Query{HasPlaces: true}, "usual")
	check(y, "December's Sunday after a reload", Query{OpenAt: at(time.Date(2026, 12, 27, 15, 0, 0, 0, brussels))}, "sundays")
	// Places gone: the service leaves the filter.
	docs[0].Service.Capacity = &directory.Capacity{Maximum: 5}
	if err := x.Put(docs[0]); err != nil {
		t.Fatal(err)
	}
	check(x, "places once full", Query{HasPlaces: true})
}
