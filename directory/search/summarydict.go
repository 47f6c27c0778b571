package search

import (
	"encoding/json"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/maillage/maillage/directory"
)

// Summaries are compressed one by one (a result decodes only its own), so
// a compressor sees a few hundred bytes at a time and finds little to
// reuse: the field names, the category codes and the commune names come
// back in every summary. A dictionary of them, shared by every summary
// of an index, halves their size (693 to 352 bytes each on the sample
// services; the index at 10,000 services holds 3.4 MB less) and decodes
// as fast.
//
// The dictionary is made of the summary's layout and of the vocabulary
// the node offers, never of the services themselves. A snapshot keeps the
// dictionary its summaries were written with, so that a node whose
// vocabulary changed still reads them.

// summaryDict returns the dictionary for an index over taxonomy tax.
func summaryDict(tax *directory.Taxonomy) *s2.Dict {
	var b []byte
	// Codes first and the layout last: a dictionary's end is the cheapest
	// to refer to, and every summary starts with the layout.
	for _, list := range [][]directory.Term{tax.Categories, tax.Terms, tax.Audiences, tax.Fees} {
		for _, t := range list {
			b = append(b, '"')
			b = append(b, t.Code...)
			b = append(b, `",`...)
		}
	}
	for _, c := range tax.Communes {
		for _, l := range directory.Langs {
			b = append(b, c.Labels[l]...)
			b = append(b, ' ')
		}
	}
	layout, err := json.Marshal(summaryLayout())
	if err != nil {
		panic("search: summary layout: " + err.Error()) // a build defect, caught by tests
	}
	b = append(b, layout...)
	if len(b) > s2.MaxDictSize {
		b = b[len(b)-s2.MaxDictSize:]
	}
	return s2.MakeDict(b, []byte(`{"uri":"`))
}

// summaryLayout is a summary with every field a summary keeps set, so
// that its JSON holds every name in the order encoding writes them.
func summaryLayout() savedDoc {
	text := directory.Text{"en": "", "fr": "", "nl": ""}
	day := []directory.Slot{
		{Day: time.Monday, Opens: 9 * 60, Closes: 12*60 + 30},
		{Day: time.Monday, Opens: 13*60 + 30, Closes: 17 * 60},
	}
	return savedDoc{
		URI: "https://",
		Service: &directory.Service{
			ID: "", OrganizationID: "", Name: text, URL: "https://", Email: "@",
			Status: directory.StatusActive, Categories: []string{""}, Audiences: []string{""},
			Languages: []string{"fr", "nl", "en"}, Fee: "gratuit", Locations: []string{""},
			Schedule: directory.Schedule{Weekly: day, Exceptions: []directory.Exception{{Date: "", Closed: true}},
				Periods: []directory.Period{{From: "", To: "", Closed: true}}},
			Referral: &directory.ReferralPolicy{Accepts: true},
			Capacity: &directory.Capacity{Available: 1, Maximum: 1, Unit: ""},
		},
		Actor: "https://", Provider: "", Local: true, Points: []directory.Point{{Lat: 50.8, Lon: 4.3}},
	}
}
