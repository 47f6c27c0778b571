package directory

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidBCE(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0403.170.701", true},
		{"BE 0403.170.701", true},
		{"0403170701", true},
		{"0403.170.702", false}, // wrong check digits
		{"403.170.701", false},  // nine digits
		{"2403.170.701", false}, // must start with 0 or 1
		{"abcd.efg.hij", false},
	}
	for _, tt := range tests {
		if got := ValidBCE(tt.in); got != tt.want {
			t.Errorf("ValidBCE(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestServiceValidateReportsEveryProblem(t *testing.T) {
	tax := DefaultTaxonomy()
	neg, old := -1, 200
	s := &Service{
		ID:          "not-a-uuid",
		Name:        Text{},
		Description: T(FR, strings.Repeat("x", maxDescription+1)),
		URL:         "ftp://example.org",
		Email:       "nobody",
		Status:      "open",
		Phones:      []Phone{{Number: "call us"}},
		Categories:  []string{"no-such-term", "sante--acces-aux-soins", "sante--acces-aux-soins"},
		Audiences:   []string{"everyone"},
		Languages:   []string{"french"},
		Fee:         "cheap",
		MinimumAge:  &neg,
		MaximumAge:  &old,
		Locations:   []string{"x"},
		Schedule: Schedule{
			Weekly:     []Slot{{Day: time.Monday, Opens: 600, Closes: 540}},
			Exceptions: []Exception{{Date: "25/12/2026", Closed: true, Hours: []Span{{Opens: 1, Closes: 2}}}},
		},
		Area:     ServiceArea{Postcodes: []string{"75001"}, Radius: &Radius{Center: Point{Lat: 91}, Km: 0}},
		Referral: &ReferralPolicy{From: "anyone", Categories: []DataCategory{"health"}},
	}
	got := map[string]bool{}
	for _, p := range s.Validate(tax) {
		got[p.Field] = true
	}
	want := []string{
		"id", "name", "description", "url", "email", "status", "phones[0].number",
		"categories[0]", "categories[2]", "audiences[0]", "languages[0]", "fee", "minimum_age", "maximum_age",
		"service_at_locations[0]", "schedules[0].closes_at", "schedules[1].valid_from", "schedules[1]",
		"service_areas.postcodes[0]", "service_areas.radius.latitude", "service_areas.radius",
		"referral_policy.from", "referral_policy.categories[0]",
	}
	for _, f := range want {
		if !got[f] {
			t.Errorf("Validate did not report field %q; reported %v", f, keys(got))
		}
	}
	if len(got) != len(want) {
		t.Errorf("Validate reported %d fields, want %d: %v", len(got), len(want), keys(got))
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestValidRecordsPass(t *testing.T) {
	tax := DefaultTaxonomy()
	s := richService()
	if p := s.Validate(tax); len(p) > 0 {
		t.Errorf("Validate(valid service) = %v", p)
	}
	l := richLocation()
	if p := l.Validate(); len(p) > 0 {
		t.Errorf("Validate(valid location) = %v", p)
	}
	o := &Organization{Name: T(FR, "Maison", NL, "Huis"), Website: "https://maison.example.be", Email: "info@maison.example.be",
		Identifiers: []Identifier{{Scheme: SchemeBCE, Value: "0403.170.701"}}}
	if p := o.Validate(); len(p) > 0 {
		t.Errorf("Validate(valid organization) = %v", p)
	}
	o.Identifiers[0].Value = "0403.170.700"
	if p := o.Validate(); len(p) != 1 || p[0].Field != "organization_identifiers[0].identifier" {
		t.Errorf("Validate(bad BCE) = %v, want one problem on the identifier", p)
	}
}

func TestLocationValidate(t *testing.T) {
	l := &Location{Name: Text{}, Address: Address{Postcode: "10000", Country: "be"}, Point: &Point{Lat: 100, Lon: 181}}
	got := map[string]bool{}
	for _, p := range l.Validate() {
		got[p.Field] = true
	}
	for _, f := range []string{"name", "addresses[0].country", "latitude", "longitude"} {
		if !got[f] {
			t.Errorf("Location.Validate did not report %q; got %v", f, keys(got))
		}
	}
}
