package federation

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

// Every property that ActivityStreams lets be one value or a list, an IRI
// or an object, reads the same whatever shape the peer chose.
func TestActivityReadsEveryShape(t *testing.T) {
	const node = "https://b.example/actor"
	for _, tt := range []struct {
		name, doc      string
		typ, actor, to string
		object         string // id of the object
	}{
		{"Mastodon", `{"id": "https://a.example/1", "type": "Follow", "actor": "https://a.example/u", "object": "` + node + `", "to": ["` + node + `"]}`,
			"Follow", "https://a.example/u", node, node},
		{"GoToSocial: to as a string", `{"id": "https://a.example/1", "type": "Follow", "actor": "https://a.example/u", "object": "` + node + `", "to": "` + node + `"}`,
			"Follow", "https://a.example/u", node, node},
		{"actor embedded, object a list of one", `{"id": "https://a.example/1", "type": "Follow", "actor": {"id": "https://a.example/u", "type": "Person"}, "object": ["` + node + `"], "to": {"id": "` + node + `"}}`,
			"Follow", "https://a.example/u", node, node},
		{"type as a list", `{"id": "https://a.example/1", "type": ["Follow", "ex:Follow"], "actor": ["https://a.example/u"], "object": {"id": "` + node + `", "type": "Organization"}, "to": [{"id": "` + node + `"}, 3, null]}`,
			"Follow", "https://a.example/u", node, node},
		{"extension type first", `{"id": "https://a.example/1", "type": ["ex:Thing", "Undo"], "actor": "https://a.example/u", "object": "https://a.example/f", "to": "` + node + `"}`,
			"Undo", "https://a.example/u", node, "https://a.example/f"},
	} {
		a, err := parseActivity([]byte(tt.doc))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if a.Type != tt.typ || a.Actor != tt.actor || !slices.Equal(a.To, []string{tt.to}) || idOf(a.Object) != tt.object {
			t.Errorf("%s: read as type %q actor %q to %q object %q", tt.name, a.Type, a.Actor, a.To, idOf(a.Object))
		}
	}
	// An object of several values is not one this node can apply.
	_, err := parseActivity([]byte(`{"id": "https://a.example/1", "type": "Delete", "actor": "https://a.example/u", "object": ["https://a.example/s1", "https://a.example/s2"]}`))
	if !errors.Is(err, errNotActivity) {
		t.Errorf("an activity with two objects: %v, want refused", err)
	}
}

// A service from a peer reads with its tags, places and url in any of
// their shapes; an odd entry is skipped, not fatal.
func TestServicePageReadsEveryShape(t *testing.T) {
	doc := `{"id": "https://a.example/services/1", "type": ["Note"], "attributedTo": {"id": "https://a.example/actor"},
	  "url": {"type": "Link", "href": "https://a.example/services/1", "mediaType": "text/html"},
	  "to": "https://www.w3.org/ns/activitystreams#Public",
	  "tag": {"type": "Hashtag", "name": "#Alimentation"},
	  "location": [{"type": "Place", "name": "Maison", "latitude": 50.8, "longitude": 4.3}, "https://a.example/places/2", {"type": "Place", "latitude": "north"}],
	  "contentMap": {"nl": "<p>Zuid</p>", "fr": "<p>Midi</p>", "en": 5}}`
	var p ServicePage
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "Note" || p.AttributedTo != "https://a.example/actor" || p.URL != "https://a.example/services/1" ||
		len(p.To) != 1 || len(p.Tag) != 1 || p.Tag[0].Name != "#Alimentation" || len(p.Location) != 1 || p.Location[0].Latitude != 50.8 {
		t.Errorf("read as %+v", p)
	}
	if len(p.ContentMap) != 2 || p.ContentMap[0].Lang != "nl" || p.ContentMap.Get("fr") != "<p>Midi</p>" {
		t.Errorf("contentMap read as %+v, want nl then fr in the document's order", p.ContentMap)
	}
}

// A peer's actor reads with a type list, a url Link and a list of keys.
func TestActorReadsEveryShape(t *testing.T) {
	doc := `{"id": "https://a.example/u", "type": ["Person", "ex:Human"], "preferredUsername": "u", "inbox": "https://a.example/u/inbox",
	  "url": [{"type": "Link", "href": "https://a.example/@u"}], "name": ["Léa"],
	  "publicKey": [{"id": "https://a.example/u#main-key", "owner": "https://a.example/u", "publicKeyPem": "PEM"}, {"id": "https://a.example/u#ed"}]}`
	a, err := parseActor([]byte(doc), "https://a.example/u")
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != "Person" || a.URL != "https://a.example/@u" || a.Name != "Léa" || a.PublicKey == nil || a.PublicKey.ID != "https://a.example/u#main-key" {
		t.Errorf("read as %+v", a)
	}
	if a.IsAssociation() {
		t.Errorf("a Person read as an association")
	}
}

func TestLangMapKeepsItsOrder(t *testing.T) {
	m := LangMap{{"nl", "b"}, {"fr", "a"}, {"en", `"c"`}}
	b, err := json.Marshal(m)
	if err != nil || string(b) != `{"nl":"b","fr":"a","en":"\"c\""}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back LangMap
	if err := json.Unmarshal(b, &back); err != nil || !slices.Equal(back, m) {
		t.Errorf("read back %+v, %v", back, err)
	}
	for _, odd := range []string{`"fr"`, `[]`, `null`, `{"fr": {"x": 1}}`} {
		var got LangMap
		if err := json.Unmarshal([]byte(odd), &got); err != nil || len(got) != 0 {
			t.Errorf("Unmarshal(%s) = %+v, %v; want nothing read, no error", odd, got, err)
		}
	}
}

// A Delete's time of deletion is the sender's, from its Tombstone or the
// activity, unless it lies further ahead of ours than a sender's clock
// may; without one it is ours.
func TestDeletedAt(t *testing.T) {
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	parse := func(s string) *Activity {
		var a Activity
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			t.Fatal(err)
		}
		return &a
	}
	cases := []struct {
		name, activity string
		want           time.Time
	}{
		{"tombstone", `{"id": "x", "type": "Delete", "actor": "a", "published": "2026-12-03T14:00:00Z",
			"object": {"id": "s", "type": "Tombstone", "deleted": "2026-12-03T14:59:00.5Z"}}`, now.Add(-59*time.Second - 500*time.Millisecond)},
		{"published", `{"id": "x", "type": "Delete", "actor": "a", "published": "2026-12-03T14:00:00Z", "object": "s"}`, now.Add(-time.Hour)},
		{"sender ahead within the window", `{"id": "x", "type": "Delete", "actor": "a", "object": {"id": "s", "deleted": "2026-12-03T15:30:00Z"}}`, now.Add(30 * time.Minute)},
		{"sender too far ahead", `{"id": "x", "type": "Delete", "actor": "a", "object": {"id": "s", "deleted": "2026-12-04T15:00:00Z"}}`, now},
		{"no time", `{"id": "x", "type": "Delete", "actor": "a", "object": "s"}`, now},
		{"not a time", `{"id": "x", "type": "Delete", "actor": "a", "object": {"id": "s", "deleted": "hier"}}`, now},
	}
	for _, c := range cases {
		if got := deletedAt(parse(c.activity), now, time.Hour); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
