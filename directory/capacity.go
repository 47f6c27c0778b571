package directory

import (
	"slices"
	"sync"
	"time"
)

// Capacity says whether a service can take someone new now: places free
// (out of a maximum), full, a waiting list, or no one new until a date.
// A worker of the association sets it in one click; it travels with the
// service (HSDS 3.1 service_capacity, plus capacity_status for what 3.1
// lacks) so that partners see it at once.
type Capacity struct {
	// Available is how many places are free now; 0 is full.
	Available int `json:"available"`
	// Maximum is how many places there are in all; 0 when not said.
	Maximum int `json:"maximum,omitempty"`
	// Unit is what a place is: one of CapacityUnits ("" reads as places).
	Unit string `json:"unit,omitempty"`
	// Waiting, when set, says new people go on a waiting list.
	Waiting *WaitingList `json:"waiting_list,omitempty"`
	// NotAcceptingUntil, when set, is the last day (YYYY-MM-DD, Brussels)
	// on which the service takes no one new.
	NotAcceptingUntil string `json:"not_accepting_until,omitempty"`
	// Updated is when the capacity was last set.
	Updated time.Time `json:"updated"`
}

// WaitingList is how long the wait is, as far as the service knows.
type WaitingList struct {
	Length    int `json:"length,omitempty"`     // people waiting; 0: not said
	DelayDays int `json:"delay_days,omitempty"` // expected wait in days; 0: not said
}

// The units a capacity counts in.
const (
	UnitPlaces       = "places"
	UnitPersons      = "persons"
	UnitHouseholds   = "households"
	UnitAppointments = "appointments"
)

// CapacityUnits lists the units, default first.
var CapacityUnits = []string{UnitPlaces, UnitPersons, UnitHouseholds, UnitAppointments}

// Bounds of a capacity's numbers.
const (
	MaxCapacity  = 100000
	MaxWaitDays  = 730
	maxAheadDays = 366 // how far ahead "not accepting until" may be
)

// CapacityState is what a capacity means for someone to refer today.
type CapacityState string

// The states of a capacity. Unknown is no capacity, or a "not accepting
// until" whose day has passed: nothing is said any more.
const (
	CapacityUnknown      CapacityState = ""
	CapacityOpen         CapacityState = "open"
	CapacityFull         CapacityState = "full"
	CapacityWaiting      CapacityState = "waiting"
	CapacityNotAccepting CapacityState = "not-accepting"
)

// UnitOrDefault is the capacity's unit, places when none is set.
func (c *Capacity) UnitOrDefault() string {
	if c.Unit == "" {
		return UnitPlaces
	}
	return c.Unit
}

// State says what the capacity means on the day of now in Brussels. A
// "not accepting until" applies up to and including its day, then lifts
// itself: afterwards the capacity says nothing.
func (c *Capacity) State(now time.Time) CapacityState {
	if c == nil {
		return CapacityUnknown
	}
	if c.NotAcceptingUntil != "" {
		if c.NotAcceptingUntil >= DateOf(now) {
			return CapacityNotAccepting
		}
		return CapacityUnknown
	}
	switch {
	case c.Waiting != nil:
		return CapacityWaiting
	case c.Available > 0:
		return CapacityOpen
	}
	return CapacityFull
}

// HasPlaces reports whether the capacity has places free now. It does not
// depend on the day: a capacity with places has no waiting list and no
// "not accepting until" (Validate).
func (c *Capacity) HasPlaces() bool { return c != nil && c.Available > 0 }

// Same reports whether two capacities say the same, whenever set.
func (c *Capacity) Same(o *Capacity) bool {
	if c == nil || o == nil {
		return c == o
	}
	a, b := *c, *o
	a.Updated, b.Updated = time.Time{}, time.Time{}
	a.Unit, b.Unit = a.UnitOrDefault(), b.UnitOrDefault()
	if (a.Waiting == nil) != (b.Waiting == nil) || (a.Waiting != nil && *a.Waiting != *b.Waiting) {
		return false
	}
	a.Waiting, b.Waiting = nil, nil
	return a == b
}

// validate checks the capacity's values; field prefixes the paths
// ("service_capacity" in a service, "" for the capacity alone).
func (c *Capacity) validate(p *Problems, field string) {
	count := func(name string, v int) {
		if v < 0 || v > MaxCapacity {
			p.Rule(join(field, name), CodeCapacityRange, "must be between 0 and %d", MaxCapacity)
		}
	}
	count("available", c.Available)
	count("maximum", c.Maximum)
	if c.Maximum > 0 && c.Available > c.Maximum {
		p.Rule(join(field, "available"), CodeAvailableAboveMaximum, "is above maximum")
	}
	if c.Unit != "" && !slices.Contains(CapacityUnits, c.Unit) {
		p.Rule(join(field, "unit"), CodeChoice, "must be one of places, persons, households, appointments")
	}
	if w := c.Waiting; w != nil {
		count("waiting_list.length", w.Length)
		if w.DelayDays < 0 || w.DelayDays > MaxWaitDays {
			p.Rule(join(field, "waiting_list.delay_days"), CodeDelayRange, "must be between 0 and %d days", MaxWaitDays)
		}
		if c.Available > 0 {
			p.Rule(join(field, "waiting_list"), CodeCapacityContradiction, "cannot go with places available")
		}
	}
	if d := c.NotAcceptingUntil; d != "" {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			p.Rule(join(field, "not_accepting_until"), CodeDate, "%q is not a date (YYYY-MM-DD)", d)
		}
		if c.Available > 0 {
			p.Rule(join(field, "not_accepting_until"), CodeCapacityContradiction, "cannot go with places available")
		}
	}
}

// checkDates checks what depends on the day a capacity is set: "not
// accepting until" is a day to come, within a year.
func (c *Capacity) checkDates(p *Problems, field string, now time.Time) {
	d, err := time.Parse(time.DateOnly, c.NotAcceptingUntil)
	if c.NotAcceptingUntil == "" || err != nil {
		return
	}
	today := DateOf(now)
	switch {
	case c.NotAcceptingUntil < today:
		p.Rule(join(field, "not_accepting_until"), CodeDatePast, "is already past")
	case d.Sub(dayOf(now)) > maxAheadDays*24*time.Hour:
		p.Rule(join(field, "not_accepting_until"), CodeDateTooFar, "is more than a year ahead")
	}
}

// ValidateCapacity returns every problem with c set at now, with the
// capacity's own field names (available, waiting_list.length, …).
func ValidateCapacity(c *Capacity, now time.Time) Problems {
	var p Problems
	c.validate(&p, "")
	c.checkDates(&p, "", now)
	return p
}

var brussels = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		return time.UTC // no time zone database: the binary embeds one (cmd/maillage)
	}
	return loc
})

// Brussels is the time zone that dates of services are read in.
func Brussels() *time.Location { return brussels() }

// DateOf is the day of t in Brussels, YYYY-MM-DD.
func DateOf(t time.Time) string { return t.In(Brussels()).Format(time.DateOnly) }

// dayOf is the day of t in Brussels at midnight UTC, to count days
// between dates parsed with time.Parse.
func dayOf(t time.Time) time.Time {
	d, _ := time.Parse(time.DateOnly, DateOf(t))
	return d
}
