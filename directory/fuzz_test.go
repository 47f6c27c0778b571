package directory_test

import (
	"cmp"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
)

// Fuzz targets of the schedule parsers: times of day, and the schedules
// of an HSDS service. Run one with, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzParseClock$' -fuzztime 10m -parallel 1 ./directory/

// FuzzParseClock checks that ParseClock never panics, reads only times
// of day written HH:MM or HH:MM:00, and that a time read formats back to
// HH:MM, which reads the same (also as text, as JSON does).
func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"09:00", "17:30:00", "00:00", "24:00", "24:01", "9:00", "09:60", "09:00:30", "noon", "",
		"+9:00", "-0:30", "09:+5", "0x:10", "１２:００", "12:00:00:00", "23:59", "12:3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := directory.ParseClock(s)
		if err != nil {
			return
		}
		text := c.String()
		if c < 0 || c > 24*60 || (s != text && s != text+":00") {
			t.Fatalf("ParseClock(%q) = %d (%s)", s, int(c), text)
		}
		again, err := directory.ParseClock(text)
		if err != nil || again != c {
			t.Fatalf("ParseClock(%q) = %s, which reads as %d, %v", s, text, int(again), err)
		}
		b, err := c.MarshalText()
		var back directory.Clock
		if err != nil || back.UnmarshalText(b) != nil || back != c {
			t.Fatalf("Clock %d as text %q reads as %d", int(c), b, int(back))
		}
	})
}

// FuzzDecodeService checks the reading of schedules from an HSDS service
// (the JSON API's and a partner's form): it never panics, and the
// schedule of a service read and valid, written again by the exact
// encoder, reads the same (weekly hours in any order).
func FuzzDecodeService(f *testing.F) {
	tax := directory.DefaultTaxonomy()
	g := sample.New(3)
	for range 3 {
		loc := g.Location()
		b, err := json.Marshal(directory.HSDSEncoder{Taxonomy: tax, Lang: directory.FR}.Service(g.Service(loc.ID), nil, nil))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"name": "Épicerie", "status": "active", "schedules": [
		   {"freq": "WEEKLY", "byday": "MO,TU,WE", "opens_at": "09:00", "closes_at": "12:00", "notes": "sur rendez-vous",
		    "translations": {"nl": {"notes": "op afspraak"}}},
		   {"freq": "weekly", "byday": "TH", "opens_at": "13:00:00", "closes_at": "17:30"},
		   {"valid_from": "2026-12-25", "valid_to": "2026-12-25", "closed": true, "description": "Noël"},
		   {"valid_from": "2026-12-24", "opens_at": "09:00", "closes_at": "11:00"},
		   {"valid_from": "2026-12-24", "opens_at": "14:00", "closes_at": "15:00", "description": "réveillon"},
		   {"description": "Fermé en août"}]}`,
		`{"name": "x", "schedules": [{"freq": "WEEKLY", "byday": "MO,,XX", "opens_at": "9:00", "closes_at": "25:00"},
		   {"freq": "MONTHLY"}, {"valid_from": "2026-02-30"}, {"valid_from": "2026-01-01", "valid_to": "2026-01-02"}]}`,
		`{"name": "x", "text_language": "nl", "schedules": [{"freq": "WEEKLY", "byday": "su, sa", "opens_at": "24:00", "closes_at": "00:00",
		   "translations": {"fr": {"description": "x"}, "de": {"notes": "y"}}}]}`,
		`{"name": "x", "schedules": {"freq": "WEEKLY"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := directory.DecodeService(data, tax)
		if err != nil || len(s.Validate(tax)) > 0 {
			return
		}
		for _, sl := range s.Schedule.Weekly {
			if sl.Day < 0 || sl.Day > 6 {
				t.Fatalf("read slot %+v", sl)
			}
		}
		b, err := json.Marshal(directory.HSDSEncoder{Taxonomy: tax, Lang: directory.FR}.Service(s, nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		back, err := directory.DecodeService(b, tax)
		if err != nil {
			t.Fatalf("%s, written again as %s, does not read: %v", data, b, err)
		}
		if got, want := weeklyInOrder(back.Schedule), weeklyInOrder(s.Schedule); !reflect.DeepEqual(got, want) {
			t.Fatalf("schedule %+v, written again as %s, reads as %+v", want, b, got)
		}
	})
}

// weeklyInOrder is s with its weekly slots sorted: the encoding groups
// the days of one period.
func weeklyInOrder(s directory.Schedule) directory.Schedule {
	s.Weekly = slices.Clone(s.Weekly)
	slices.SortFunc(s.Weekly, func(a, b directory.Slot) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Opens, b.Opens), cmp.Compare(a.Closes, b.Closes))
	})
	return s
}
