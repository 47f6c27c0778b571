package directory

import (
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	tests := []struct {
		in      string
		want    Clock
		wantErr bool
	}{
		{"09:00", 540, false},
		{"17:30:00", 1050, false},
		{"00:00", 0, false},
		{"24:00", 1440, false},
		{"24:01", 0, true},
		{"9:00", 0, true},
		{"09:60", 0, true},
		{"09:00:30", 0, true},
		{"noon", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseClock(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParseClock(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestOpenAt(t *testing.T) {
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	s := Schedule{
		Weekly: []Slot{
			{Day: time.Monday, Opens: 9 * 60, Closes: 12 * 60},
			{Day: time.Monday, Opens: 13 * 60, Closes: 17 * 60},
			{Day: time.Saturday, Opens: 10 * 60, Closes: 12 * 60},
		},
		Exceptions: []Exception{
			{Date: "2026-12-28", Closed: true},                                     // a Monday
			{Date: "2026-12-26", Hours: []Span{{Opens: 14 * 60, Closes: 15 * 60}}}, // a Saturday
		},
	}
	at := func(v string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", v, brussels)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		when string
		want bool
	}{
		{"2026-12-21 09:00", true},  // Monday, opening minute
		{"2026-12-21 11:59", true},  // Monday morning
		{"2026-12-21 12:00", false}, // closing minute is closed
		{"2026-12-21 12:30", false}, // lunch gap between two slots
		{"2026-12-21 13:00", true},  // second slot
		{"2026-12-22 10:00", false}, // Tuesday: no slot
		{"2026-12-28 10:00", false}, // Monday, exceptionally closed
		{"2026-12-26 11:00", false}, // Saturday whose exception replaces the weekly hours
		{"2026-12-26 14:30", true},  // inside the exception's hours
		{"2026-06-22 09:30", true},  // summer time: same wall-clock hours
	}
	for _, tt := range tests {
		if got := s.OpenAt(at(tt.when), brussels); got != tt.want {
			t.Errorf("OpenAt(%s) = %v, want %v", tt.when, got, tt.want)
		}
	}
	// The same instant read in UTC is an hour earlier in winter: 08:30 UTC
	// is 09:30 in Brussels, open.
	if got := s.OpenAt(time.Date(2026, 12, 21, 8, 30, 0, 0, time.UTC), brussels); !got {
		t.Errorf("OpenAt(08:30 UTC on a Monday) = false, want true (09:30 in Brussels)")
	}
	if (Schedule{}).OpenAt(at("2026-12-21 10:00"), brussels) {
		t.Error("an empty schedule is open; unknown hours must not be advertised as open")
	}
}
