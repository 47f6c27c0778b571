package federation

import (
	"encoding/json"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
)

// Bounds on the places a partner sends with a service. They match what a
// node accepts for its own locations, so that a partner's place shows the
// way a local one does; beyond them text is cut and places are dropped,
// never the service.
const (
	maxPlaces         = 20   // places kept per service
	maxPlaceName      = 200  // characters of a name, street, postcode or city
	maxPlaceAccess    = 1000 // characters of an accessibility text
	maxPlaceLanguages = 3    // fr, nl, en: the languages a node publishes in
)

// Place is where a service is delivered, as an ActivityStreams Place: its
// name (name in the service's main language, nameMap in each), its
// coordinates when the association set them, and Maillage's extensions:
// the postal address as a schema.org PostalAddress, wheelchair access and
// the accessibility text in each language (see PROTOCOL.md).
type Place struct {
	Type                 string         `json:"type"`
	Name                 string         `json:"name,omitempty"`
	NameMap              LangMap        `json:"nameMap,omitempty"`
	Latitude             float64        `json:"latitude,omitempty"`
	Longitude            float64        `json:"longitude,omitempty"`
	Address              *PostalAddress `json:"address,omitempty"`
	WheelchairAccessible bool           `json:"wheelchairAccessible,omitempty"`
	AccessibilityMap     LangMap        `json:"accessibilityMap,omitempty"`
}

// PostalAddress is a schema.org PostalAddress.
type PostalAddress struct {
	Type     string `json:"type"`
	Street   string `json:"streetAddress,omitempty"`
	Postcode string `json:"postalCode,omitempty"`
	City     string `json:"addressLocality,omitempty"`
	Country  string `json:"addressCountry,omitempty"`
}

// UnmarshalJSON reads a place leniently: an address as plain text (which
// schema.org allows) or a wheelchair access that is not a boolean is left
// aside, and lists stand for single values, so that one odd property does
// not lose the rest of the place. Coordinates that are not numbers make
// the entry unreadable: a misplaced marker is worse than none, and the
// service's other places are read all the same.
func (p *Place) UnmarshalJSON(data []byte) error {
	var w struct {
		Type          asType               `json:"type"`
		Name          oneString            `json:"name"`
		NameMap       LangMap              `json:"nameMap"`
		Latitude      float64              `json:"latitude"`
		Longitude     float64              `json:"longitude"`
		Address       many[lenientAddress] `json:"address"`
		Wheelchair    json.RawMessage      `json:"wheelchairAccessible"`
		Accessibility LangMap              `json:"accessibilityMap"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*p = Place{Type: string(w.Type), Name: string(w.Name), NameMap: w.NameMap, AccessibilityMap: w.Accessibility,
		Latitude: w.Latitude, Longitude: w.Longitude}
	_ = json.Unmarshal(w.Wheelchair, &p.WheelchairAccessible) // anything but a boolean: not said
	if len(w.Address) > 0 {
		a := PostalAddress(w.Address[0])
		p.Address = &a
	}
	return nil
}

// lenientAddress reads a PostalAddress whose fields may be lists.
type lenientAddress PostalAddress

// UnmarshalJSON implements json.Unmarshaler.
func (a *lenientAddress) UnmarshalJSON(data []byte) error {
	var w struct {
		Type     asType    `json:"type"`
		Street   oneString `json:"streetAddress"`
		Postcode oneString `json:"postalCode"`
		City     oneString `json:"addressLocality"`
		Country  oneString `json:"addressCountry"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*a = lenientAddress{Type: string(w.Type), Street: string(w.Street), Postcode: string(w.Postcode), City: string(w.City), Country: string(w.Country)}
	return nil
}

// placeOf is how a local location travels, its texts in the service's
// main language first.
func placeOf(l *directory.Location, lang directory.Lang) Place {
	p := Place{Type: "Place", Name: l.Name.In(lang), NameMap: langMapOf(l.Name, lang),
		WheelchairAccessible: l.WheelchairOK, AccessibilityMap: langMapOf(l.Accessibility, lang)}
	if l.Point != nil {
		p.Latitude, p.Longitude = l.Point.Lat, l.Point.Lon
	}
	if a := l.Address; a.Street != "" || a.Postcode != "" || a.City != "" {
		p.Address = &PostalAddress{Type: "PostalAddress", Street: a.Street, Postcode: a.Postcode, City: a.City, Country: a.Country}
	}
	return p
}

// langMapOf writes a text as a language map, lang first.
func langMapOf(t directory.Text, lang directory.Lang) LangMap {
	var m LangMap
	for _, l := range append([]directory.Lang{lang}, directory.Langs...) {
		if t[l] != "" && m.Get(string(l)) == "" {
			m = append(m, LangValue{string(l), t[l]})
		}
	}
	return m
}

// partnerPlaces reads the places a partner sent with a service, as
// locations to show: at most maxPlaces, texts cut to the bounds above,
// coordinates out of range dropped (the place kept without them), and
// places with nothing to show (no name, address or position) left out.
// lang is the service's main language, for a name sent without nameMap.
func partnerPlaces(in []Place, lang directory.Lang) []directory.Location {
	var out []directory.Location
	for _, p := range in {
		if len(out) == maxPlaces {
			break
		}
		if p.Type != "" && p.Type != "Place" {
			continue
		}
		if l, ok := partnerPlace(p, lang); ok {
			out = append(out, l)
		}
	}
	return out
}

func partnerPlace(p Place, lang directory.Lang) (directory.Location, bool) {
	l := directory.Location{Name: textOf(p.NameMap, maxPlaceName), Accessibility: textOf(p.AccessibilityMap, maxPlaceAccess),
		WheelchairOK: p.WheelchairAccessible}
	if l.Name.IsEmpty() {
		l.Name = directory.Text{}
		l.Name.Set(lang, clip(p.Name, maxPlaceName))
	}
	if a := p.Address; a != nil {
		l.Address = directory.Address{Street: clip(a.Street, maxPlaceName), Postcode: clip(a.Postcode, maxPlaceName), City: clip(a.City, maxPlaceName)}
		if c := strings.TrimSpace(a.Country); len(c) == 2 && strings.ToUpper(c) == c {
			l.Address.Country = c
		}
	}
	if pt := (directory.Point{Lat: p.Latitude, Lon: p.Longitude}); validPoint(pt) {
		l.Point = &pt
	}
	keep := !l.Name.IsEmpty() || l.Address.Street != "" || l.Address.City != "" || l.Point != nil
	return l, keep
}

// validPoint reports whether pt is a position on Earth; (0, 0), the
// value of a missing position, is not one a Brussels service has.
func validPoint(pt directory.Point) bool {
	return pt.Lat >= -90 && pt.Lat <= 90 && pt.Lon >= -180 && pt.Lon <= 180 &&
		!math.IsNaN(pt.Lat) && !math.IsNaN(pt.Lon) && pt != (directory.Point{})
}

// textOf keeps the fr, nl and en values of a language map ("nl-BE"
// counting as nl), each cut to max characters.
func textOf(m LangMap, max int) directory.Text {
	t := directory.Text{}
	for _, v := range m {
		l, ok := directory.ParseLang(v.Lang)
		if !ok || t[l] != "" {
			continue
		}
		t.Set(l, clip(v.Value, max))
		if len(t) == maxPlaceLanguages {
			break
		}
	}
	return t
}

// clip trims s, turns control characters into spaces and cuts it to
// max characters: a peer's text is shown, never trusted to be short.
func clip(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return strings.TrimSpace(s[:i])
		}
		n++
	}
	return s
}
