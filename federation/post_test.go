package federation

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

// postService is a service written in Dutch and French with a place,
// hours and a category, whose name and description hold markup.
func postService() (*directory.Service, map[string]*directory.Location) {
	loc := &directory.Location{ID: "l1", Name: directory.T(directory.FR, "Maison Midi", directory.NL, "Huis Zuid"),
		Address: directory.Address{Street: "Rue Brogniez 50", Postcode: "1070", City: "Anderlecht", Country: "BE"},
		Point:   &directory.Point{Lat: 50.8366, Lon: 4.3306}}
	created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := &directory.Service{ID: "7d1c2f1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", Status: directory.StatusActive,
		Name:        directory.T(directory.NL, "Sociale kruidenier <Zuid>", directory.FR, "Épicerie <Midi> & co"),
		Description: directory.T(directory.FR, "Colis alimentaire.\n\nSur inscription.", directory.NL, "Voedselpakketten."),
		Categories:  []string{"equipement-et-alimentation--alimentation"},
		Locations:   []string{"l1"},
		Schedule:    directory.Schedule{Weekly: []directory.Slot{{Day: time.Monday, Opens: 9 * 60, Closes: 12 * 60}, {Day: time.Wednesday, Opens: 14 * 60, Closes: 18 * 60}}},
		Created:     created, Updated: created}
	return s, map[string]*directory.Location{"l1": loc}
}

// What a fediverse server shows of a service is its content: a Note with
// the name as a link, the description, where and when, and hashtags, in
// each language (the main one first), with no summary or plain name
// (content warnings on Mastodon and GoToSocial) and no updated while the
// service was never edited.
func TestServicePostShape(t *testing.T) {
	f := fuzzFederator(t, "https://maison.example.be", false, nil)
	s, locs := postService()
	raw := mustJSON(f.servicePage(s, locs))
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"summary", "summaryMap", "name", "updated"} {
		if _, ok := doc[k]; ok {
			t.Errorf("a new service's post has %q: %s", k, doc[k])
		}
	}
	if got := string(doc["type"]); got != `"Note"` {
		t.Errorf("type %s, want Note", got)
	}
	// The French name comes first: Mastodon takes the first key of
	// contentMap as the language.
	for _, k := range []string{"contentMap", "nameMap"} {
		if got := string(doc[k]); !strings.HasPrefix(got, `{"fr":`) || !strings.Contains(got, `"nl":`) {
			t.Errorf("%s = %s, want fr first, then nl", k, got)
		}
	}
	var p ServicePage
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	url := "https://maison.example.be/services/" + s.ID
	fr := p.ContentMap.Get("fr")
	if p.Content != fr {
		t.Errorf("content is not the French post")
	}
	for _, want := range []string{
		`<a href="` + url + `"><strong>Épicerie &lt;Midi&gt; &amp; co</strong></a>`,
		"<p>Colis alimentaire.</p>",
		"Où\u00a0: Maison Midi, Rue Brogniez 50, 1070 Anderlecht",
		"Quand\u00a0: lun. 09:00–12:00 · mer. 14:00–18:00",
		`<a href="https://maison.example.be/search?category=equipement-et-alimentation--alimentation" class="mention hashtag" rel="tag">#<span>AideAlimentaire</span></a>`,
	} {
		if !strings.Contains(fr, want) {
			t.Errorf("French post lacks %q:\n%s", want, fr)
		}
	}
	if strings.Contains(fr, "Sur inscription") {
		t.Errorf("the post carries more than the description's first paragraph: %s", fr)
	}
	nl := p.ContentMap.Get("nl")
	for _, want := range []string{"Sociale kruidenier &lt;Zuid&gt;", "Voedselpakketten.", "Waar: Huis Zuid, Rue Brogniez 50", "Wanneer: ma 09:00–12:00 · wo 14:00–18:00"} {
		if !strings.Contains(nl, want) {
			t.Errorf("Dutch post lacks %q:\n%s", want, nl)
		}
	}
	if len(p.Tag) != 1 || p.Tag[0].Name != "#AideAlimentaire" || p.Tag[0].Href == "" {
		t.Errorf("tags %+v", p.Tag)
	}

	// Once edited, the post says when, to the nanosecond (the version
	// partners order changes by).
	s.Updated = s.Created.Add(90*time.Minute + 7)
	if got := f.servicePage(s, locs).Updated; got != "2026-12-01T11:30:00.000000007Z" {
		t.Errorf("edited service's updated = %q", got)
	}
}

// A partner reads the Notes of this version and the Pages of earlier
// ones alike: the service record is in the hsds extension.
func TestPartnersReadNotesAndPages(t *testing.T) {
	sender := fuzzFederator(t, "https://a.example", false, nil)
	recv := fuzzFederator(t, "https://b.example", true, nil)
	s, locs := postService()
	for _, typ := range []string{"Note", "Page"} {
		p := sender.servicePage(s, locs)
		p.Type = typ
		got, err := recv.partnerService(mustJSON(p), them, "Maison")
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if got.Service.Name.In(directory.FR) != "Épicerie <Midi> & co" || len(got.Points) != 1 {
			t.Errorf("%s read as %+v", typ, got.Service.Name)
		}
	}
}

// The association's description reaches the fediverse as HTML: its text
// escaped, its paragraphs and line breaks kept.
func TestTextHTML(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"Des activités <pour> tous", "<p>Des activités &lt;pour&gt; tous</p>"},
		{"Ligne 1\nLigne 2\r\n\r\nAutre paragraphe\n\n\n", "<p>Ligne 1<br>Ligne 2</p><p>Autre paragraphe</p>"},
		{"  a & b  ", "<p>a &amp; b</p>"},
	} {
		if got := textHTML(tt.in); got != tt.want {
			t.Errorf("textHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestShorten(t *testing.T) {
	long := strings.Repeat("mot ", 100)
	got := shorten(long, 50)
	if !strings.HasSuffix(got, "…") || len([]rune(got)) > 51 || strings.Contains(got, "mo…") {
		t.Errorf("shorten = %q", got)
	}
	if got := shorten("court", 50); got != "court" {
		t.Errorf("shorten(court) = %q", got)
	}
}
