package directory

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a service's weekly opening hours and its exceptions, in the
// node's time zone (Europe/Brussels unless configured otherwise).
type Schedule struct {
	Weekly     []Slot      `json:"weekly,omitempty"`
	Exceptions []Exception `json:"exceptions,omitempty"`
	// Periods are dated temporary changes: closed from … to …, other
	// hours for a while, or a message for a while.
	Periods []Period `json:"periods,omitempty"`
	Notes   Text     `json:"notes,omitempty"`
}

// Period is a temporary change of a schedule between two days, both
// included (YYYY-MM-DD, read in the node's time zone): closed, or open
// at Hours instead of the weekly hours (Hours lists every open slot of
// the week during the period; a day without one is closed), or neither,
// with only a Message for people to read during the period.
type Period struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Closed  bool   `json:"closed,omitempty"`
	Hours   []Slot `json:"hours,omitempty"`
	Message Text   `json:"message,omitempty"`
}

// Covers reports whether the period includes the day date (YYYY-MM-DD).
func (p Period) Covers(date string) bool { return p.From <= date && date <= p.To }

// ChangesHours reports whether the period changes when the service is
// open (closed or other hours), not only what people read.
func (p Period) ChangesHours() bool { return p.Closed || len(p.Hours) > 0 }

// PeriodAt returns the period that changes the hours on date, if any.
func (s Schedule) PeriodAt(date string) (Period, bool) {
	for _, p := range s.Periods {
		if p.ChangesHours() && p.Covers(date) {
			return p, true
		}
	}
	return Period{}, false
}

// Slot is one opening period on a weekday. A day may have several slots.
type Slot struct {
	Day    time.Weekday `json:"day"`
	Opens  Clock        `json:"opens"`
	Closes Clock        `json:"closes"`
}

// Exception replaces the weekly hours on one date: closed that day, or
// open only during its Hours.
type Exception struct {
	Date   string `json:"date"` // YYYY-MM-DD
	Closed bool   `json:"closed,omitempty"`
	Hours  []Span `json:"hours,omitempty"`
	Note   Text   `json:"note,omitempty"`
}

// Span is an opening period within a day.
type Span struct {
	Opens  Clock `json:"opens"`
	Closes Clock `json:"closes"`
}

// Clock is a time of day in minutes after midnight; 24:00 is 1440.
type Clock int

// ParseClock reads "HH:MM" or "HH:MM:SS" (seconds must be zero).
func ParseClock(s string) (Clock, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || !twoDigits(parts[0]) || !twoDigits(parts[1]) {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("time %q is not a valid time of day", s)
	}
	if len(parts) == 3 && parts[2] != "00" {
		return 0, fmt.Errorf("time %q has seconds; use HH:MM", s)
	}
	return Clock(h*60 + m), nil
}

// twoDigits reports whether s is two ASCII digits: strconv.Atoi also
// reads "+9" and "-0".
func twoDigits(s string) bool {
	return len(s) == 2 && '0' <= s[0] && s[0] <= '9' && '0' <= s[1] && s[1] <= '9'
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// MarshalText writes HH:MM.
func (c Clock) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads HH:MM.
func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	*c = v
	return err
}

// IsEmpty reports whether the schedule says nothing about opening hours.
func (s Schedule) IsEmpty() bool {
	return len(s.Weekly) == 0 && len(s.Exceptions) == 0 && len(s.Periods) == 0 && s.Notes.IsEmpty()
}

// OpenAt reports whether the schedule has the service open at t, read in
// loc. A schedule without weekly hours or an exception for the day is
// never open: unknown hours are not advertised as open. An exception for
// the day comes first, then a period covering it (closed, or its hours),
// then the weekly hours: a period applies from the first minute of its
// first day and lifts itself after its last, read at each call.
func (s Schedule) OpenAt(t time.Time, loc *time.Location) bool {
	t = t.In(loc)
	return s.OpenOn(t.Format(time.DateOnly), t.Weekday(), Clock(t.Hour()*60+t.Minute()))
}

// OpenOn is OpenAt for a time already split into its local date
// (YYYY-MM-DD), weekday and minute of the day: a search checking many
// schedules against one instant splits it once.
func (s Schedule) OpenOn(date string, day time.Weekday, min Clock) bool {
	for _, e := range s.Exceptions {
		if e.Date != date {
			continue
		}
		if e.Closed {
			return false
		}
		for _, h := range e.Hours {
			if h.Opens <= min && min < h.Closes {
				return true
			}
		}
		return false
	}
	weekly := s.Weekly
	if p, ok := s.PeriodAt(date); ok {
		if p.Closed {
			return false
		}
		weekly = p.Hours
	}
	for _, sl := range weekly {
		if sl.Day == day && sl.Opens <= min && min < sl.Closes {
			return true
		}
	}
	return false
}

var dayCodes = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// DayCode returns the iCalendar code (MO, TU, …) of a weekday.
func DayCode(d time.Weekday) string { return dayCodes[d] }

// ParseDayCode reads an iCalendar weekday code.
func ParseDayCode(code string) (time.Weekday, bool) {
	for i, c := range dayCodes {
		if strings.EqualFold(strings.TrimSpace(code), c) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}
