package directory

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func richService() *Service {
	min, max := 18, 99
	return &Service{
		ID:                 "5f1c7e0a-3b7d-4b8e-9a51-0c3f5d1e2a77",
		OrganizationID:     "0b8a7d7e-1f1e-4c4b-8c39-5e0f2a9e6b11",
		Name:               T(FR, "Épicerie sociale", NL, "Sociale kruidenier", EN, "Social grocery"),
		AlternateName:      T(NL, "Kruidenier"),
		Description:        T(FR, "Colis alimentaires", EN, "Food parcels"),
		URL:                "https://maison.example.be/epicerie",
		Email:              "epicerie@maison.example.be",
		Status:             StatusActive,
		Phones:             []Phone{{Number: "+32 2 555 12 34", Type: "voice", Description: T(FR, "Accueil", NL, "Onthaal")}},
		Categories:         []string{"equipement-et-alimentation--alimentation", "famille"},
		Audiences:          []string{"familles"},
		Languages:          []string{"fr", "nl", "ar"},
		Fee:                "gratuit",
		FeesDescription:    T(FR, "Gratuit sur inscription"),
		Eligibility:        T(FR, "Habiter Saint-Gilles", NL, "Wonen in Sint-Gillis"),
		MinimumAge:         &min,
		MaximumAge:         &max,
		ApplicationProcess: T(EN, "Come with an ID card"),
		Interpretation:     T(FR, "Arabe sur demande"),
		Locations:          []string{"9a0e4a1c-6d2f-4f0b-8f5e-3c2b1a0d9e88"},
		Schedule: Schedule{
			Weekly: []Slot{
				{Day: time.Monday, Opens: 540, Closes: 720},
				{Day: time.Tuesday, Opens: 540, Closes: 720},
				{Day: time.Tuesday, Opens: 780, Closes: 1020},
			},
			Exceptions: []Exception{
				{Date: "2026-12-25", Closed: true, Note: T(FR, "Noël", NL, "Kerstmis")},
				{Date: "2026-12-24", Hours: []Span{{Opens: 540, Closes: 600}, {Opens: 660, Closes: 720}}},
			},
			Notes: T(FR, "Sur rendez-vous l'après-midi"),
		},
		Area: ServiceArea{
			Postcodes:   []string{"1060", "1070"},
			Communes:    []string{"Saint-Gilles"},
			Radius:      &Radius{Center: Point{Lat: 50.83, Lon: 4.34}, Km: 2.5},
			Description: T(FR, "Sud de Bruxelles", EN, "South of Brussels"),
		},
		Referral: &ReferralPolicy{Accepts: true, From: FromPartners, Categories: []DataCategory{DataIdentity, DataContact}, Note: "Appeler avant"},
		Created:  time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Updated:  time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
	}
}

func richLocation() *Location {
	return &Location{
		ID:             "9a0e4a1c-6d2f-4f0b-8f5e-3c2b1a0d9e88",
		Name:           T(FR, "Maison de quartier", NL, "Buurthuis"),
		Description:    T(EN, "Ground floor"),
		Address:        Address{Street: "Rue de la Victoire 96", Postcode: "1060", City: "Saint-Gilles", Region: "Bruxelles-Capitale", Country: "BE"},
		Point:          &Point{Lat: 50.8291, Lon: 4.3449},
		Accessibility:  T(FR, "Entrée de plain-pied", NL, "Gelijkvloers"),
		WheelchairOK:   true,
		Transportation: T(FR, "Tram 81, arrêt Barrière"),
	}
}

// The JSON API's encoding is exact: decoding what it wrote gives the same
// record back, in whatever language the client asked for.
func TestServiceRoundTrip(t *testing.T) {
	tax := DefaultTaxonomy()
	for _, lang := range Langs {
		want := richService()
		b, err := json.Marshal(HSDSEncoder{Taxonomy: tax, Lang: lang}.Service(want, nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeService(b, tax)
		if err != nil {
			t.Fatalf("lang %s: DecodeService(encoded) error: %v\n%s", lang, err, b)
		}
		// Times, organization and the derived HSDS attributes are set by the
		// node, not read from the body.
		got.Created, got.Updated, got.OrganizationID = want.Created, want.Updated, want.OrganizationID
		if !reflect.DeepEqual(got, want) {
			t.Errorf("lang %s: round trip differs\n got %+v\nwant %+v\njson %s", lang, got, want, b)
		}
	}
}

func TestLocationAndOrganizationRoundTrip(t *testing.T) {
	tax := DefaultTaxonomy()
	wantL := richLocation()
	b, _ := json.Marshal(HSDSEncoder{Taxonomy: tax, Lang: NL}.Location(wantL))
	gotL, err := DecodeLocation(b)
	if err != nil {
		t.Fatalf("DecodeLocation: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(gotL, wantL) {
		t.Errorf("location round trip differs\n got %+v\nwant %+v", gotL, wantL)
	}
	wantO := &Organization{
		ID: "0b8a7d7e-1f1e-4c4b-8c39-5e0f2a9e6b11", Name: T(FR, "Maison", NL, "Huis"), Description: T(NL, "Een buurthuis"),
		Website: "https://maison.example.be", Email: "info@maison.example.be", LegalStatus: "ASBL",
		Phones:      []Phone{{Number: "+32 2 555 00 00"}},
		Identifiers: []Identifier{{Scheme: SchemeBCE, Value: "0403.170.701"}},
	}
	b, _ = json.Marshal(HSDSEncoder{Taxonomy: tax, Lang: EN}.Organization(wantO))
	gotO, err := DecodeOrganization(b)
	if err != nil {
		t.Fatalf("DecodeOrganization: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(gotO, wantO) {
		t.Errorf("organization round trip differs\n got %+v\nwant %+v", gotO, wantO)
	}
}

// Display encoding fills every HSDS field in the wanted language, falling
// back to another language rather than leaving it empty.
func TestDisplayEncodingFallsBack(t *testing.T) {
	s := richService()
	w := HSDSEncoder{Taxonomy: DefaultTaxonomy(), Lang: NL, Display: true}.Service(s, nil, nil)
	if w.Name != "Sociale kruidenier" {
		t.Errorf("Name = %q, want the Dutch name", w.Name)
	}
	if w.Description != "Colis alimentaires" {
		t.Errorf("Description = %q, want the French fallback", w.Description)
	}
	if w.Translations[EN]["name"] != "Social grocery" {
		t.Errorf("translations.en.name = %q, want the English name", w.Translations[EN]["name"])
	}
	if len(w.Attributes) != 2 || w.Attributes[0].TaxonomyTerm == nil || w.Attributes[0].TaxonomyTerm.Name == "" {
		t.Errorf("Attributes = %+v, want two linked taxonomy terms with names", w.Attributes)
	}
}

func TestDecodeServiceReportsEveryShapeProblem(t *testing.T) {
	body := `{"name": 12, "status": "active", "colour": "blue", "phones": [{"number": "1", "fax": true}],
	  "minimum_age": 1.5, "referral_policy": {"accepts": "yes"}, "translations": {"de": {"name": "x"}}}`
	_, err := DecodeService([]byte(body), DefaultTaxonomy())
	p, ok := AsProblems(err)
	if !ok {
		t.Fatalf("DecodeService error = %v, want Problems", err)
	}
	got := map[string]bool{}
	for _, pr := range p {
		got[pr.Field] = true
	}
	for _, f := range []string{"name", "colour", "phones[0].fax", "minimum_age", "referral_policy.accepts"} {
		if !got[f] {
			t.Errorf("problem on %q not reported; got %v", f, p)
		}
	}
}

func TestDecodeRefusesBadDocuments(t *testing.T) {
	tax := DefaultTaxonomy()
	tests := []struct{ name, body, wantField, wantText string }{
		{"not json", `{"name": `, "", "not valid JSON"},
		{"trailing data", `{"name": "a", "status": "active"} {}`, "", "after the JSON"},
		{"array", `[]`, "", "must be an object"},
		{"deep", `{"referral_policy": ` + strings.Repeat(`{"x":`, 40) + `1` + strings.Repeat("}", 41), "referral_policy.x", "not a known field"},
		{"translation of primary", `{"name": "a", "text_language": "fr", "translations": {"fr": {"name": "b"}}}`, "translations.fr", "repeats"},
		{"unknown translated field", `{"name": "a", "translations": {"nl": {"colour": "b"}}}`, "translations.nl.colour", "not a text field"},
		{"bad text_language", `{"name": "a", "text_language": "de"}`, "text_language", "fr, nl, en"},
		{"weekly without day", `{"name": "a", "schedules": [{"freq": "WEEKLY", "opens_at": "09:00", "closes_at": "10:00"}]}`, "schedules[0].byday", "required"},
		{"bad time", `{"name": "a", "schedules": [{"freq": "WEEKLY", "byday": "MO", "opens_at": "9h", "closes_at": "10:00"}]}`, "schedules[0].opens_at", "HH:MM"},
		{"unknown attribute term", `{"name": "a", "attributes": [{"value": "nothing"}]}`, "attributes[0]", "taxonomy"},
	}
	for _, tt := range tests {
		_, err := DecodeService([]byte(tt.body), tax)
		p, ok := AsProblems(err)
		if !ok {
			t.Errorf("%s: error = %v, want Problems", tt.name, err)
			continue
		}
		found := false
		for _, pr := range p {
			if pr.Field == tt.wantField && strings.Contains(pr.Message, tt.wantText) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: problems %v lack {%q: …%q…}", tt.name, p, tt.wantField, tt.wantText)
		}
	}
}

func TestDerivedIDsAreStableUUIDs(t *testing.T) {
	a, b := DerivedID("x", "phone", "0"), DerivedID("x", "phone", "0")
	if a != b || !IsUUID(a) {
		t.Errorf("DerivedID = %q, %q; want equal UUIDs", a, b)
	}
	if DerivedID("x", "phone", "1") == a {
		t.Error("DerivedID gave the same id for different parts")
	}
	if id := NewID(); !IsUUID(id) || id[14] != '4' {
		t.Errorf("NewID() = %q, want a version 4 UUID", id)
	}
}

// A referral policy that does not say from whom takes partners only.
func TestReferralPolicyDefaultsToPartners(t *testing.T) {
	s, err := DecodeService([]byte(`{"name": "Permanence", "referral_policy": {"accepts": true, "categories": ["identity"]}}`), DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	if s.Referral == nil || s.Referral.From != FromPartners {
		t.Errorf("policy = %+v, want from partners", s.Referral)
	}
}
