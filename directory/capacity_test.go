package directory

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// codes lists the problems as "field code", sorted.
func codes(p Problems) []string {
	var out []string
	for _, pr := range p {
		out = append(out, pr.Field+" "+string(pr.Code))
	}
	slices.Sort(out)
	return out
}

// brusselsTime is a wall-clock time in Brussels.
func brusselsTime(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, Brussels())
}

// Each bad capacity is one clear problem on its field; good ones none.
func TestValidateCapacity(t *testing.T) {
	now := brusselsTime(2026, 12, 21, 9, 30)
	tests := []struct {
		name string
		c    Capacity
		want []string
	}{
		{"places of a maximum", Capacity{Available: 3, Maximum: 12, Unit: UnitPersons}, nil},
		{"full", Capacity{}, nil},
		{"waiting list", Capacity{Waiting: &WaitingList{Length: 8, DelayDays: 30}}, nil},
		{"waiting list, nothing known", Capacity{Waiting: &WaitingList{}}, nil},
		{"not accepting until tomorrow", Capacity{NotAcceptingUntil: "2026-12-22"}, nil},
		{"not accepting until today", Capacity{NotAcceptingUntil: "2026-12-21"}, nil},
		{"below zero", Capacity{Available: -1}, []string{"available capacity_range"}},
		{"maximum below zero", Capacity{Maximum: -5}, []string{"maximum capacity_range"}},
		{"huge", Capacity{Available: MaxCapacity + 1}, []string{"available capacity_range"}},
		{"above the maximum", Capacity{Available: 13, Maximum: 12}, []string{"available available_above_maximum"}},
		{"unknown unit", Capacity{Available: 1, Unit: "beds"}, []string{"unit choice"}},
		{"waiting list with places", Capacity{Available: 2, Waiting: &WaitingList{Length: 3}}, []string{"waiting_list capacity_contradiction"}},
		{"waiting list below zero", Capacity{Waiting: &WaitingList{Length: -3}}, []string{"waiting_list.length capacity_range"}},
		{"wait of years", Capacity{Waiting: &WaitingList{DelayDays: MaxWaitDays + 1}}, []string{"waiting_list.delay_days delay_range"}},
		{"not a date", Capacity{NotAcceptingUntil: "2026-13-01"}, []string{"not_accepting_until date"}},
		{"yesterday", Capacity{NotAcceptingUntil: "2026-12-20"}, []string{"not_accepting_until date_past"}},
		{"too far", Capacity{NotAcceptingUntil: "2028-01-05"}, []string{"not_accepting_until date_too_far"}},
		{"closed with places", Capacity{Available: 4, NotAcceptingUntil: "2027-01-05"}, []string{"not_accepting_until capacity_contradiction"}},
	}
	for _, tt := range tests {
		got := codes(ValidateCapacity(&tt.c, now))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: problems %v, want %v", tt.name, got, tt.want)
		}
	}
	// In a service, the same rules under service_capacity.
	s := &Service{Name: T(FR, "Abri de nuit"), Status: StatusActive, Capacity: &Capacity{Available: 13, Maximum: 12}}
	if got := codes(s.Validate(DefaultTaxonomy())); !reflect.DeepEqual(got, []string{"service_capacity.available available_above_maximum"}) {
		t.Errorf("a service with more places free than in all: %v", got)
	}
}

// "Not accepting until" holds all of its day in Brussels, and lifts
// itself at midnight there.
func TestCapacityState(t *testing.T) {
	c := &Capacity{NotAcceptingUntil: "2027-03-27"}
	for _, tt := range []struct {
		at   time.Time
		want CapacityState
	}{
		{brusselsTime(2027, 3, 27, 23, 59), CapacityNotAccepting},
		{time.Date(2027, 3, 27, 22, 59, 0, 0, time.UTC), CapacityNotAccepting}, // 23:59 in Brussels (UTC+1)
		{time.Date(2027, 3, 27, 23, 0, 0, 0, time.UTC), CapacityUnknown},       // midnight in Brussels
		{brusselsTime(2027, 3, 28, 0, 0), CapacityUnknown},
	} {
		if got := c.State(tt.at); got != tt.want {
			t.Errorf("not accepting until 27 March, at %v: %q, want %q", tt.at, got, tt.want)
		}
	}
	now := brusselsTime(2026, 12, 21, 9, 30)
	for _, tt := range []struct {
		c      *Capacity
		want   CapacityState
		places bool
	}{
		{nil, CapacityUnknown, false},
		{&Capacity{Available: 2}, CapacityOpen, true},
		{&Capacity{}, CapacityFull, false},
		{&Capacity{Waiting: &WaitingList{Length: 4}}, CapacityWaiting, false},
	} {
		if got := tt.c.State(now); got != tt.want || tt.c.HasPlaces() != tt.places {
			t.Errorf("%+v: state %q, places %v; want %q, %v", tt.c, got, tt.c.HasPlaces(), tt.want, tt.places)
		}
	}
}

// Dated changes: every bad one is a clear problem on its field.
func TestValidatePeriods(t *testing.T) {
	monday := []Slot{{Day: time.Monday, Opens: 600, Closes: 720}}
	tuesday := []Slot{{Day: time.Tuesday, Opens: 600, Closes: 720}}
	tests := []struct {
		name    string
		periods []Period
		want    []string
	}{
		{"closure", []Period{{From: "2026-12-20", To: "2026-12-31", Closed: true, Message: T(FR, "Vacances")}}, nil},
		{"summer hours", []Period{{From: "2026-07-01", To: "2026-08-31", Hours: monday}}, nil},
		{"a message", []Period{{From: "2026-07-01", To: "2026-07-31", Message: T(NL, "Verhuis")}}, nil},
		{"a message within a closure", []Period{{From: "2026-12-20", To: "2026-12-31", Closed: true},
			{From: "2026-12-01", To: "2026-12-31", Message: T(FR, "Inscriptions en janvier")}}, nil},
		{"the same hours twice", []Period{{From: "2026-07-01", To: "2026-08-31", Hours: monday}, {From: "2026-08-01", To: "2026-08-15", Hours: monday}}, nil},
		{"one day", []Period{{From: "2026-12-24", To: "2026-12-24", Closed: true}}, nil},
		{"end before start", []Period{{From: "2026-12-31", To: "2026-12-20", Closed: true}}, []string{"periods[0].to period_order"}},
		{"more than a year", []Period{{From: "2026-01-01", To: "2027-01-01", Closed: true}}, []string{"periods[0].to period_too_long"}},
		{"not dates", []Period{{From: "demain", To: "2026-02-30", Closed: true}}, []string{"periods[0].from date", "periods[0].to date"}},
		{"closed and open", []Period{{From: "2026-07-01", To: "2026-07-31", Closed: true, Hours: monday}}, []string{"periods[0] closed_and_open"}},
		{"nothing said", []Period{{From: "2026-07-01", To: "2026-07-31"}}, []string{"periods[0] period_empty"}},
		{"closed and open on the same days", []Period{{From: "2026-07-01", To: "2026-08-31", Hours: monday}, {From: "2026-08-15", To: "2026-09-15", Closed: true}},
			[]string{"periods[1] period_overlap"}},
		{"two different hours on the same days", []Period{{From: "2026-07-01", To: "2026-08-31", Hours: monday}, {From: "2026-08-31", To: "2026-09-15", Hours: tuesday}},
			[]string{"periods[1] period_overlap"}},
		{"hours that close before they open", []Period{{From: "2026-07-01", To: "2026-07-31", Hours: []Slot{{Day: time.Monday, Opens: 720, Closes: 600}}}},
			[]string{"periods[0].hours[0].closes_at closes_after_opens"}},
		{"a long message", []Period{{From: "2026-07-01", To: "2026-07-31", Closed: true, Message: T(FR, strings.Repeat("x", maxMessage+1))}},
			[]string{"periods[0].message too_long"}},
	}
	for _, tt := range tests {
		var p Problems
		validatePeriods(&p, tt.periods)
		if got := codes(p); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: problems %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Dates set today: a new period ends today or later and starts within
// two years; a period kept as it was is not checked again.
func TestCheckPeriodDates(t *testing.T) {
	now := brusselsTime(2026, 12, 21, 9, 30)
	ended := Period{From: "2026-11-01", To: "2026-11-02", Closed: true}
	tests := []struct {
		name     string
		periods  []Period
		old      []Period
		wantCode []string
	}{
		{"from today", []Period{{From: "2026-12-21", To: "2026-12-31", Closed: true}}, nil, nil},
		{"ended yesterday", []Period{{From: "2026-12-01", To: "2026-12-20", Closed: true}}, nil, []string{"periods[0].to date_past"}},
		{"in three years", []Period{{From: "2029-12-01", To: "2029-12-20", Closed: true}}, nil, []string{"periods[0].from date_too_far"}},
		{"in two years", []Period{{From: "2028-12-21", To: "2028-12-31", Closed: true}}, nil, nil},
		{"an old one kept", []Period{ended}, []Period{ended}, nil},
	}
	for _, tt := range tests {
		var p Problems
		checkPeriodDates(&p, tt.periods, tt.old, now)
		if got := codes(p); !reflect.DeepEqual(got, tt.wantCode) {
			t.Errorf("%s: problems %v, want %v", tt.name, got, tt.wantCode)
		}
	}
}

// A closure applies from midnight of its first day to midnight after its
// last, in Brussels, whatever the offset of the day (summer time starts
// on 29 March 2026 and ends on 25 October 2026); other hours replace the
// weekly ones during their period; an exception for one day comes first.
func TestOpenAtWithPeriods(t *testing.T) {
	allDay := func() []Slot {
		var out []Slot
		for d := time.Sunday; d <= time.Saturday; d++ {
			out = append(out, Slot{Day: d, Opens: 0, Closes: 24 * 60})
		}
		return out
	}
	shelter := Schedule{Weekly: allDay(), Periods: []Period{
		{From: "2026-12-24", To: "2026-12-31", Closed: true},
		{From: "2026-03-29", To: "2026-03-30", Closed: true},
		{From: "2026-10-20", To: "2026-10-24", Closed: true},
	}}
	office := Schedule{
		Weekly: []Slot{{Day: time.Monday, Opens: 540, Closes: 720}, {Day: time.Tuesday, Opens: 540, Closes: 720}},
		Periods: []Period{
			{From: "2026-07-01", To: "2026-08-31", Hours: []Slot{{Day: time.Monday, Opens: 600, Closes: 660}}, Message: T(FR, "Horaires d’été")},
			{From: "2026-09-01", To: "2026-09-30", Message: T(FR, "Inscriptions ouvertes")},
			{From: "2026-12-21", To: "2026-12-31", Closed: true},
		},
		Exceptions: []Exception{{Date: "2026-12-22", Hours: []Span{{Opens: 540, Closes: 600}}}},
	}
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	tests := []struct {
		name string
		s    Schedule
		at   time.Time
		want bool
	}{
		{"the evening before a closure", shelter, brusselsTime(2026, 12, 23, 23, 59), true},
		{"its first minute", shelter, brusselsTime(2026, 12, 24, 0, 0), false},
		{"its last minute (22:59 UTC)", shelter, utc(2026, 12, 31, 22, 59), false},
		{"midnight after it (23:00 UTC)", shelter, utc(2026, 12, 31, 23, 0), true},
		{"before summer time starts (23:30 UTC+1)", shelter, utc(2026, 3, 28, 22, 30), true},
		{"the closure on the night summer time starts (00:30 UTC+1)", shelter, utc(2026, 3, 28, 23, 30), false},
		{"its last minute in summer time (23:59 UTC+2)", shelter, utc(2026, 3, 30, 21, 59), false},
		{"lifted at midnight in summer time (00:00 UTC+2)", shelter, utc(2026, 3, 30, 22, 0), true},
		{"the last minute before winter time (23:59 UTC+2)", shelter, utc(2026, 10, 24, 21, 59), false},
		{"lifted at midnight the night winter time comes", shelter, utc(2026, 10, 24, 22, 0), true},
		{"summer hours: not at the usual time", office, brusselsTime(2026, 7, 6, 9, 30), false},
		{"summer hours: at the summer time", office, brusselsTime(2026, 7, 6, 10, 30), true},
		{"summer hours: Tuesday has none", office, brusselsTime(2026, 7, 7, 10, 30), false},
		{"after the summer", office, brusselsTime(2026, 9, 7, 9, 30), true},
		{"a message changes no hours", office, brusselsTime(2026, 9, 8, 9, 30), true},
		{"closed for the holidays", office, brusselsTime(2026, 12, 21, 9, 30), false},
		{"an exception in the holidays comes first", office, brusselsTime(2026, 12, 22, 9, 30), true},
	}
	for _, tt := range tests {
		if got := tt.s.OpenAt(tt.at, Brussels()); got != tt.want {
			t.Errorf("%s (%v): open %v, want %v", tt.name, tt.at, got, tt.want)
		}
	}
}

// Capacity, dated changes and the review date come back from the
// encoding every node sends, in every language asked.
func TestHSDSRoundTripOfCapacityPeriodsReview(t *testing.T) {
	tax := DefaultTaxonomy()
	for _, c := range []*Capacity{
		{Available: 3, Maximum: 12, Unit: UnitPersons, Updated: time.Date(2026, 12, 21, 8, 30, 1, 123456789, time.UTC)},
		{Unit: UnitPlaces, Waiting: &WaitingList{Length: 8, DelayDays: 30}, Updated: time.Date(2026, 12, 21, 8, 30, 0, 0, time.UTC)},
		{Unit: UnitHouseholds, NotAcceptingUntil: "2027-01-15", Updated: time.Date(2026, 12, 21, 8, 30, 0, 0, time.UTC)},
	} {
		for _, lang := range Langs {
			want := richService()
			want.Capacity = c
			want.Reviewed = time.Date(2026, 12, 3, 0, 0, 0, 0, Brussels())
			want.Schedule.Periods = []Period{
				{From: "2026-12-24", To: "2027-01-03", Closed: true, Message: T(FR, "Fermé pour les fêtes", NL, "Gesloten tijdens de feestdagen")},
				{From: "2026-07-01", To: "2026-08-31", Hours: []Slot{{Day: time.Monday, Opens: 600, Closes: 720}, {Day: time.Wednesday, Opens: 600, Closes: 720},
					{Day: time.Wednesday, Opens: 840, Closes: 960}}, Message: T(FR, "Horaires d’été")},
				{From: "2026-09-01", To: "2026-09-30", Message: T(NL, "Inschrijvingen open")},
				{From: "2026-12-24", To: "2027-01-03", Message: T(EN, "Call before you come")},
			}
			if p := want.Validate(tax); len(p) > 0 {
				t.Fatalf("the service to encode is not valid: %v", p)
			}
			b, err := json.Marshal(HSDSEncoder{Taxonomy: tax, Lang: lang}.Service(want, nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeService(b, tax)
			if err != nil {
				t.Fatalf("lang %s: %v\n%s", lang, err, b)
			}
			got.Created, got.Updated, got.OrganizationID = want.Created, want.Updated, want.OrganizationID
			if !reflect.DeepEqual(got, want) {
				t.Errorf("lang %s: round trip differs\n got %+v %+v %+v\nwant %+v %+v %+v\n%s", lang, got.Capacity, got.Schedule.Periods, got.Reviewed,
					want.Capacity, want.Schedule.Periods, want.Reviewed, b)
			}
		}
	}
}

// The wire shape: HSDS 3.1's service_capacity, the capacity_status
// extension, assured_date, and periods as dated schedules.
func TestHSDSShapeOfCapacityPeriodsReview(t *testing.T) {
	s := richService()
	s.Capacity = &Capacity{Maximum: 10, Waiting: &WaitingList{DelayDays: 14}, Updated: time.Date(2026, 12, 21, 8, 30, 0, 0, time.UTC)}
	s.Reviewed = time.Date(2026, 12, 2, 23, 30, 0, 0, time.UTC) // 3 December in Brussels
	s.Schedule.Periods = []Period{{From: "2026-07-01", To: "2026-08-31", Hours: []Slot{{Day: time.Monday, Opens: 600, Closes: 720}}}}
	b, _ := json.Marshal(HSDSEncoder{Taxonomy: DefaultTaxonomy(), Lang: FR}.Service(s, nil, nil))
	var doc struct {
		AssuredDate     string `json:"assured_date"`
		ServiceCapacity []struct {
			ID, ServiceID, Updated string
			Available, Maximum     int
			Unit                   struct{ Name, Scheme, Identifier string }
		} `json:"service_capacity"`
		CapacityStatus map[string]any `json:"capacity_status"`
		Schedules      []map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.AssuredDate != "2026-12-03" {
		t.Errorf("assured_date %q, want the day in Brussels", doc.AssuredDate)
	}
	if len(doc.ServiceCapacity) != 1 || doc.ServiceCapacity[0].Available != 0 || doc.ServiceCapacity[0].Maximum != 10 ||
		doc.ServiceCapacity[0].Unit.Identifier != UnitPlaces || doc.ServiceCapacity[0].Updated != "2026-12-21T08:30:00Z" || !IsUUID(doc.ServiceCapacity[0].ID) {
		t.Errorf("service_capacity %+v", doc.ServiceCapacity)
	}
	if wl, _ := doc.CapacityStatus["waiting_list"].(map[string]any); wl["delay_days"] != 14.0 {
		t.Errorf("capacity_status %v", doc.CapacityStatus)
	}
	last := doc.Schedules[len(doc.Schedules)-2] // before the notes
	if last["period"] != "hours" || last["valid_from"] != "2026-07-01" || last["valid_to"] != "2026-08-31" || last["freq"] != "WEEKLY" || last["byday"] != "MO" {
		t.Errorf("the period's entry: %v", last)
	}
}

// A period entry of an unknown kind, or without its dates, is refused
// with what is wrong.
func TestDecodePeriodProblems(t *testing.T) {
	for body, want := range map[string]string{
		`{"name": "x", "schedules": [{"valid_from": "2026-07-01", "valid_to": "2026-07-02", "period": "holiday"}]}`: "schedules[0].period",
		`{"name": "x", "schedules": [{"valid_from": "2026-07-01", "period": "closed", "closed": true}]}`:            "schedules[0].valid_from",
		`{"name": "x", "schedules": [{"valid_from": "2026-07-01", "valid_to": "2026-07-02", "period": "hours"}]}`:   "schedules[0].freq",
		`{"name": "x", "assured_date": "hier"}`: "assured_date",
		`{"name": "x", "service_capacity": [{"unit": {"name": "places"}, "available": 1}, {"unit": {"name": "beds"}, "available": 2}]}`: "service_capacity",
	} {
		_, err := DecodeService([]byte(body), DefaultTaxonomy())
		p, _ := AsProblems(err)
		if len(p) != 1 || p[0].Field != want {
			t.Errorf("%s: problems %v, want one on %s", body, p, want)
		}
	}
}
