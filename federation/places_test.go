package federation

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
)

// Every place of a service travels, with or without coordinates: its
// name in each language, postal address, wheelchair access and
// accessibility text; the partner keeps them with the service, and the
// positions still serve search.
func TestPlacesTravelWhole(t *testing.T) {
	sender := fuzzFederator(t, "https://a.example", false, nil)
	recv := fuzzFederator(t, "https://b.example", true, nil)
	s, locs := postService()
	locs["l1"].WheelchairOK = true
	locs["l1"].Accessibility = directory.T(directory.FR, "Entrée de plain-pied.", directory.NL, "Gelijkvloerse ingang.")
	locs["l2"] = &directory.Location{ID: "l2", Name: directory.T(directory.FR, "Antenne Cureghem"),
		Address: directory.Address{Street: "Rue de la Clinique 12", Postcode: "1070", City: "Anderlecht", Country: "BE"}}
	s.Locations = append(s.Locations, "l2")

	raw := mustJSON(sender.servicePage(s, locs))
	var wire struct {
		Location []map[string]json.RawMessage `json:"location"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		t.Fatal(err)
	}
	if len(wire.Location) != 2 {
		t.Fatalf("%d places sent, want 2 (one without coordinates): %s", len(wire.Location), raw)
	}
	if got := string(wire.Location[0]["address"]); got != `{"type":"PostalAddress","streetAddress":"Rue Brogniez 50","postalCode":"1070","addressLocality":"Anderlecht","addressCountry":"BE"}` {
		t.Errorf("address on the wire = %s", got)
	}
	if _, ok := wire.Location[1]["latitude"]; ok {
		t.Errorf("a place without coordinates was sent with some: %v", wire.Location[1])
	}

	ps, err := recv.partnerService(raw, them, "Maison")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.Places) != 2 {
		t.Fatalf("partner kept %d places, want 2", len(ps.Places))
	}
	first := ps.Places[0]
	if first.Name.In(directory.NL) != "Huis Zuid" || first.Name.In(directory.FR) != "Maison Midi" {
		t.Errorf("names = %v", first.Name)
	}
	if first.Address != (directory.Address{Street: "Rue Brogniez 50", Postcode: "1070", City: "Anderlecht", Country: "BE"}) {
		t.Errorf("address = %+v", first.Address)
	}
	if !first.WheelchairOK || first.Accessibility.In(directory.NL) != "Gelijkvloerse ingang." || first.Point == nil {
		t.Errorf("access or position lost: %+v", first)
	}
	if second := ps.Places[1]; second.Point != nil || second.Address.Street != "Rue de la Clinique 12" {
		t.Errorf("second place = %+v", second)
	}
	if len(ps.Points) != 1 || ps.Points[0] != (directory.Point{Lat: 50.8366, Lon: 4.3306}) {
		t.Errorf("points = %v, want the one position", ps.Points)
	}
}

// A partner's places are bounded: too many, too long or out of range,
// they are cut or dropped and the service itself is kept.
func TestHostilePlacesAreBounded(t *testing.T) {
	sender := fuzzFederator(t, "https://a.example", false, nil)
	recv := fuzzFederator(t, "https://b.example", true, nil)
	s, locs := postService()
	page := sender.servicePage(s, locs)
	long := strings.Repeat("é", 5000)
	var places []any
	places = append(places,
		map[string]any{"type": "Place", "name": long, "latitude": 91.0, "longitude": 500.0,
			"address":          map[string]any{"type": "PostalAddress", "streetAddress": long + "\u0000", "postalCode": long, "addressLocality": long, "addressCountry": "Belgique"},
			"accessibilityMap": map[string]string{"fr": long, "nl-BE": "Ingang\naan de zijkant", "de": "Eingang", "xx": "?"}},
		map[string]any{"type": "Place", "name": "Texte", "address": "Rue en texte 1, 1000 Bruxelles", "wheelchairAccessible": "oui"},
		map[string]any{"type": "Place", "name": "Nord", "latitude": "north", "longitude": "4.3"},
		map[string]any{"type": "Person", "name": "Pas un lieu"},
		map[string]any{"type": "Place"},
		map[string]any{"type": "Place", "name": "Nulle part", "latitude": 0, "longitude": 0},
	)
	for range 2000 {
		places = append(places, map[string]any{"type": "Place", "name": "Encore", "latitude": 50.84, "longitude": 4.35})
	}
	var doc map[string]any
	if err := json.Unmarshal(mustJSON(page), &doc); err != nil {
		t.Fatal(err)
	}
	doc["location"] = places

	ps, err := recv.partnerService(mustJSON(doc), them, "Maison")
	if err != nil {
		t.Fatalf("the service was refused for its places: %v", err)
	}
	if ps.Service.Name.In(directory.FR) != "Épicerie <Midi> & co" {
		t.Errorf("service = %v", ps.Service.Name)
	}
	if len(ps.Places) != maxPlaces || len(ps.Points) > maxPlaces {
		t.Fatalf("kept %d places and %d points, want %d at most", len(ps.Places), len(ps.Points), maxPlaces)
	}
	bad := ps.Places[0]
	for what, v := range map[string]string{"name": bad.Name.In(directory.FR), "street": bad.Address.Street, "postcode": bad.Address.Postcode, "city": bad.Address.City} {
		if n := utf8.RuneCountInString(v); n != maxPlaceName {
			t.Errorf("%s kept %d characters, want %d", what, n, maxPlaceName)
		}
	}
	if strings.ContainsRune(bad.Address.Street, 0) {
		t.Errorf("a control character was kept in the street")
	}
	if n := utf8.RuneCountInString(bad.Accessibility[directory.FR]); n != maxPlaceAccess {
		t.Errorf("accessibility kept %d characters, want %d", n, maxPlaceAccess)
	}
	if got := bad.Accessibility[directory.NL]; got != "Ingang aan de zijkant" {
		t.Errorf("Dutch accessibility = %q", got)
	}
	if len(bad.Accessibility) != 2 || bad.Point != nil || bad.Address.Country != "" {
		t.Errorf("unknown languages, a position out of range or a bad country were kept: %+v", bad)
	}
	odd := ps.Places[1]
	if odd.Name.In(directory.FR) != "Texte" || odd.Point != nil || odd.WheelchairOK || odd.Address.Street != "" {
		t.Errorf("properties of odd shapes were read as %+v", odd)
	}
	if ps.Places[2].Name.In(directory.FR) != "Nulle part" || ps.Places[3].Name.In(directory.FR) != "Encore" {
		t.Errorf("a place with coordinates in words, a Person or an empty place was kept: %v, %v", ps.Places[2].Name, ps.Places[3].Name)
	}
	if ps.Places[2].Point != nil {
		t.Errorf("(0, 0) was kept as a position")
	}
}

// A replicated service stored before places travelled (positions only)
// still loads, with its positions.
func TestPartnerServiceWithoutPlacesLoads(t *testing.T) {
	old := `{"uri": "https://a.example/services/1", "actor": "https://a.example/actor", "provider": "Maison",
	  "service": {"id": "7d1c2f1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", "name": {"fr": "Épicerie"}, "status": "active"},
	  "points": [{"lat": 50.83, "lon": 4.34}], "received": "2026-11-01T10:00:00Z"}`
	var ps directory.PartnerService
	if err := json.Unmarshal([]byte(old), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps.Places) != 0 || len(ps.Points) != 1 || ps.Service.Name.In(directory.FR) != "Épicerie" {
		t.Errorf("old record read as %+v", ps)
	}
}
