package federation

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	vocab "github.com/go-ap/activitypub"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
	"github.com/maillage/maillage/referral"
)

// Fuzz targets of what a peer sends to the inbox: the activity envelope,
// the objects the inbox reads (a partner's service page, a needs report,
// referral objects) and actor documents. Each checks that nothing
// panics, that what is accepted keeps the rules the readers document, and
// that documents nested too deeply are refused. Run one with, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzParseActivity$' -fuzztime 10m -parallel 1 ./federation/

// fuzzKey is one RSA key for every federator the targets make: a key per
// target would cost a second of each worker's start.
var fuzzKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// fuzzFederator is a node at base that stores nothing, with the default
// taxonomy; when partner is set, it follows them (https://a.example/actor)
// and they follow it.
func fuzzFederator(tb testing.TB, base string, partner bool, h Referrals) *Federator {
	tb.Helper()
	st := relStore{}
	if partner {
		st.rel = &Relation{Actor: them, Name: "Maison", Ours: StateAccepted, Theirs: StateAccepted, Kind: KindAssociation}
	}
	f, err := New(Options{BaseURL: base, Handle: "n", Key: fuzzKey(), SealingKey: []byte{1},
		Catalog: directory.NewCatalog(memCatalogStore{}, directory.Options{}), Store: st, Referrals: h,
		Now: func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// jsonDepth is the nesting of a valid JSON document, counted from its
// tokens: a reference for checkDepth, which counts brackets.
func jsonDepth(data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth, deepest := 0, 0
	for {
		t, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// tooDeep reports whether data is valid JSON nested deeper than the
// inbox accepts.
func tooDeep(data []byte) bool { return json.Valid(data) && jsonDepth(data) > maxJSONDepth }

// Activities as they travel (PROTOCOL.md), and as other fediverse
// servers write them.
var seedActivities = []string{
	`{"id": "https://maison.example.be/activities/1a", "type": "Follow", "actor": "https://maison.example.be/actor",
	 "object": "https://babel.example.be/actor", "to": ["https://babel.example.be/actor"]}`,
	`{"id": "https://babel.example.be/activities/7c", "type": "Accept", "actor": "https://babel.example.be/actor",
	 "to": ["https://maison.example.be/actor"],
	 "object": {"id": "https://maison.example.be/activities/1a", "type": "Follow",
	            "actor": "https://maison.example.be/actor", "object": "https://babel.example.be/actor"}}`,
	`{"id": "https://maison.example.be/activities/3d", "type": "Undo", "actor": "https://maison.example.be/actor",
	 "to": ["https://babel.example.be/actor"],
	 "object": {"id": "https://maison.example.be/activities/1a", "type": "Follow",
	            "actor": "https://maison.example.be/actor", "object": "https://babel.example.be/actor"}}`,
	`{"id": "https://maison.example.be/activities/9f", "type": "Delete", "actor": "https://maison.example.be/actor",
	 "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": ["https://maison.example.be/followers"],
	 "object": {"id": "https://maison.example.be/services/5f1c7e0a", "type": "Tombstone"}}`,
	`{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://social.example/users/lea#follows/1",
	 "type": "Follow", "actor": {"id": "https://social.example/users/lea", "type": "Person"}, "object": "https://b.example/actor"}`,
	`{"id": "https://social.example/x", "type": "Like", "actor": "https://social.example/users/lea", "object": "https://b.example/services/1", "published": "2026-01-01T00:00:00Z"}`,
	`{"id": "https://a.example/x", "type": "Arrive", "actor": "https://a.example/actor"}`,
	`{"id": "https://a.example/x", "type": "Note", "actor": "https://a.example/actor"}`,
	`{"id": "https://a.example/x", "type": "Follow", "actor": "https://a.example/actor", "to": "https://b.example/actor"}`,
	`{"ID": "https://a.example/x", "TYPE": "Follow", "Actor": "https://a.example/actor", "id": "javascript:alert(1)"}`,
	`{"id": "https://a.example/x\"<>", "type": "Follow", "actor": "https://user@a.example/actor"}`,
	`{"id": "https://a.example/x", "type": "Follow", "actor": "https://a.example/actor", "object": "\\\"[[[[{{{{", "cc": null}`,
	`{"id": "https://a.example/x", "type": "Follow", "actor": "https://a.example/actor", "object": ` +
		strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`,
	`{"id": "https://a.example/x", "type": "Follow", "actor": "https://a.example/actor", "object": ` +
		strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`,
	`]]]]{"id": "https://a.example/x", "type": "Follow", "actor": "https://a.example/actor"}`,
	`null`, `[]`, `"Follow"`, ``,
}

// FuzzParseActivity checks the inbox's reading of an activity envelope:
// it never panics; an activity accepted has an id and an actor that are
// valid IRIs and an ActivityStreams activity type; a document nested
// deeper than maxJSONDepth is refused; and an accepted activity, written
// again as Maillage writes activities, reads back the same.
func FuzzParseActivity(f *testing.F) {
	for _, s := range seedActivities {
		f.Add([]byte(s))
	}
	for _, s := range append(seedServiceActivities(f), seedReferralActivities()...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := parseActivity(data)
		if err != nil {
			if a != nil {
				t.Fatalf("refused with %v, yet returned %+v", err, a)
			}
			return
		}
		if tooDeep(data) {
			t.Fatalf("accepted a document nested %d deep", jsonDepth(data))
		}
		checkActivity(t, a)
		again, err := parseActivity(mustJSON(a))
		if err != nil {
			t.Fatalf("accepted %q, then refused it written again: %v", data, err)
		}
		if again.ID != a.ID || again.Type != a.Type || again.Actor != a.Actor || !slices.Equal(again.To, a.To) ||
			!slices.Equal(again.Cc, a.Cc) || !reflect.DeepEqual(decoded(t, again.Object), decoded(t, a.Object)) {
			t.Fatalf("written again, %+v reads as %+v", a, again)
		}
	})
}

func checkActivity(t *testing.T, a *Activity) {
	t.Helper()
	typ := vocab.ActivityVocabularyType(a.Type)
	switch {
	case a.ID == "" || a.Actor == "" || a.Type == "":
		t.Fatalf("accepted without id, type or actor: %+v", a)
	case !validIRI(a.ID) || !validIRI(a.Actor) || hostOf(a.ID) == "" || hostOf(a.Actor) == "":
		t.Fatalf("accepted an id or actor that is not a valid IRI: %q, %q", a.ID, a.Actor)
	case !vocab.ActivityTypes.Contains(typ) && !vocab.IntransitiveActivityTypes.Contains(typ):
		t.Fatalf("accepted type %q", a.Type)
	}
}

// decoded is a raw object as a value: written again, its bytes may differ
// (json.Marshal escapes <, > and & in a RawMessage).
func decoded(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("object %q is not JSON: %v", raw, err)
	}
	return v
}

// seedServiceActivities are Create activities of real service pages from
// https://a.example, as its node writes them, and its needs report.
func seedServiceActivities(tb testing.TB) [][]byte {
	sender := fuzzFederator(tb, "https://a.example", false, nil)
	g := sample.New(7)
	var out [][]byte
	for i := range 3 {
		loc := g.Location()
		s := g.Service(loc.ID)
		s.Created = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		s.Updated = s.Created.Add(time.Duration(i) * time.Hour)
		page := sender.servicePage(s, map[string]*directory.Location{loc.ID: loc})
		out = append(out, mustJSON(Activity{Context: ldContext, ID: "https://a.example/activities/" + s.ID, Type: typeCreate,
			Actor: them, Object: mustJSON(page), To: page.To, Cc: page.Cc}))
	}
	report := NeedsReport{ID: "https://a.example/needs", Type: typeNeedsReport, AttributedTo: them,
		Updated: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Counts:  []directory.NeedCount{{Theme: "sante", Area: "1030", Count: 3}, {Theme: "logement-hebergement", Area: "1000", Count: 1}}}
	out = append(out, mustJSON(Activity{Context: ldContext, ID: "https://a.example/activities/9a1e", Type: typeUpdate,
		Actor: them, Object: mustJSON(report), To: []string{"https://a.example/followers"}}))
	return out
}

// objectOf returns the object of an activity written by the seeds.
func objectOf(activity []byte) []byte {
	var a Activity
	if json.Unmarshal(activity, &a) != nil {
		return nil
	}
	return a.Object
}

// FuzzPartnerService checks the reading of a partner's service page sent
// by https://a.example/actor: it never panics, and a service accepted is
// the sender's own (its id a valid IRI on the sender's host), has no
// locations of this node, validates against the taxonomy, and keeps at
// most 20 points, each a real coordinate.
func FuzzPartnerService(f *testing.F) {
	for _, a := range seedServiceActivities(f) {
		f.Add(objectOf(a))
	}
	f.Add([]byte(`{"id": "https://a.example/services/5f1c7e0a", "type": "Page", "attributedTo": "https://a.example/actor",
	  "name": "Épicerie sociale", "url": "https://a.example/services/5f1c7e0a",
	  "location": [{"type": "Place", "name": "Maison", "latitude": 50.83, "longitude": 4.34}, {"type": "Place", "latitude": 91}],
	  "hsds": {"id": "5f1c7e0a", "name": "Épicerie sociale", "status": "active", "text_language": "fr",
	           "translations": {"nl": {"name": "Sociale kruidenier"}}, "categories": ["equipement-et-alimentation--alimentation"],
	           "schedules": [{"freq": "WEEKLY", "byday": "MO,TU", "opens_at": "09:00", "closes_at": "12:00"},
	                         {"valid_from": "2026-12-25", "valid_to": "2026-12-25", "closed": true}],
	           "last_modified": "2026-03-02T10:00:00Z"}}`))
	f.Add([]byte(`{"id": "https://A.EXAMPLE/services/1", "type": "Page", "attributedTo": "https://a.example/actor", "hsds": {"name": "x"}}`))
	f.Add([]byte(`{"id": "https://c.example/services/1", "type": "Page", "attributedTo": "https://a.example/actor", "hsds": {"name": "x"}}`))
	f.Add([]byte(`{"id": "https://a.example/services/1", "type": "Note", "attributedTo": "https://a.example/actor", "hsds": null}`))
	recv := fuzzFederator(f, "https://b.example", true, nil)
	tax := recv.o.Catalog.Taxonomy()
	f.Fuzz(func(t *testing.T, raw []byte) {
		ps, err := recv.partnerService(raw, them, "Maison")
		if err != nil {
			if ps != nil {
				t.Fatalf("refused with %v, yet returned a service", err)
			}
			return
		}
		switch {
		case ps.Service == nil:
			t.Fatal("accepted without a service")
		case !validIRI(ps.URI) || hostOf(ps.URI) != hostOf(them) || ps.Actor != them:
			t.Fatalf("accepted service %q of actor %q from %s", ps.URI, ps.Actor, them)
		case len(ps.Service.Locations) > 0:
			t.Fatalf("kept the sender's location ids %q", ps.Service.Locations)
		case len(ps.Points) > 20:
			t.Fatalf("kept %d points", len(ps.Points))
		}
		if p := ps.Service.Validate(tax); len(p) > 0 {
			t.Fatalf("accepted a service that does not validate: %v", p)
		}
		for _, pt := range ps.Points {
			if !(pt.Lat >= -90 && pt.Lat <= 90 && pt.Lon >= -180 && pt.Lon <= 180) || pt == (directory.Point{}) {
				t.Fatalf("kept point %+v", pt)
			}
		}
	})
}

// FuzzNeedsReport checks the reading of a partner's needs report: it
// never panics, and a report accepted is the sender's own, dated, with at
// most maxNeedCounts counts, each on a top-level theme of the taxonomy and
// a postcode, in range, each pair once.
func FuzzNeedsReport(f *testing.F) {
	for _, a := range seedServiceActivities(f) {
		if o := objectOf(a); bytes.Contains(o, []byte(typeNeedsReport)) {
			f.Add(o)
		}
	}
	f.Add([]byte(`{"id": "https://a.example/needs", "type": "NeedsReport", "attributedTo": "https://a.example/actor",
	  "updated": "2026-12-01T10:00:00Z", "counts": [{"theme": "sante", "area": "1030", "count": 3},
	  {"theme": "sante", "area": "1030", "count": 1}, {"theme": "sante--acces-aux-soins", "area": "0999", "count": 0}]}`))
	f.Add([]byte(`{"id": "https://a.example/needs", "attributedTo": "https://a.example/actor", "updated": "0001-01-01T00:00:00Z", "counts": "many"}`))
	recv := fuzzFederator(f, "https://b.example", true, nil)
	tax := recv.o.Catalog.Taxonomy()
	f.Fuzz(func(t *testing.T, raw []byte) {
		rep, err := recv.readNeedsReport(raw, them)
		if err != nil {
			if rep != nil {
				t.Fatalf("refused with %v, yet returned a report", err)
			}
			return
		}
		switch {
		case rep.AttributedTo != them || hostOf(rep.ID) != hostOf(them):
			t.Fatalf("accepted report %q attributed to %q from %s", rep.ID, rep.AttributedTo, them)
		case rep.Updated.IsZero():
			t.Fatal("accepted a report without a time")
		case len(rep.Counts) > maxNeedCounts:
			t.Fatalf("accepted %d counts", len(rep.Counts))
		}
		seen := map[[2]string]bool{}
		for _, c := range rep.Counts {
			top := slices.ContainsFunc(tax.Categories, func(term directory.Term) bool { return term.Code == c.Theme })
			if !top || !isPostcode(c.Area) || c.Count < 1 || c.Count > maxNeedCount || seen[[2]string{c.Theme, c.Area}] {
				t.Fatalf("accepted count %+v", c)
			}
			seen[[2]string{c.Theme, c.Area}] = true
		}
	})
}

// referralCalls records what the inbox hands to the referral package.
type referralCalls struct {
	offers   []*ReferralObject
	statuses []*ReferralStatus
	erasures []*ReferralErasure
}

func (r *referralCalls) Offered(_ context.Context, _ string, _ bool, o *ReferralObject) error {
	r.offers = append(r.offers, o)
	return nil
}

func (r *referralCalls) StatusReported(_ context.Context, _ string, st *ReferralStatus) error {
	r.statuses = append(r.statuses, st)
	return nil
}

func (r *referralCalls) ErasureRequested(_ context.Context, _ string, e *ReferralErasure) error {
	r.erasures = append(r.erasures, e)
	return nil
}

// seedReferralActivities are the referral activities of PROTOCOL.md
// between https://a.example (the sender) and https://b.example.
func seedReferralActivities() [][]byte {
	given := time.Date(2026, 11, 22, 9, 59, 0, 0, time.UTC)
	o := ReferralObject{ID: "https://a.example/referrals/0b7e", Type: typeReferral, AttributedTo: them, To: []string{us},
		Service: "https://b.example/services/5f1c", Sealed: append([]byte{1}, bytes.Repeat([]byte{7}, 40)...),
		Consent: referral.ConsentSummary{ID: "c1", Method: referral.OnScreen, Categories: []directory.DataCategory{directory.DataIdentity, directory.DataContact},
			NoticeVersion: "2026-11", GivenAt: given, ExpiresAt: given.Add(90 * 24 * time.Hour)}}
	act := func(id, typ, actor, to string, object any) []byte {
		return mustJSON(Activity{Context: ldContext, ID: id, Type: typ, Actor: actor, To: []string{to}, Object: mustJSON(object)})
	}
	return [][]byte{
		act("https://a.example/activities/1", typeOffer, them, us, o),
		act("https://a.example/activities/2", typeReject, them, us,
			ReferralStatus{Type: typeReferralStatus, Referral: "https://b.example/referrals/0b7e", State: referral.Rejected, Reason: "no-capacity"}),
		act("https://a.example/activities/3", typeUpdate, them, us,
			ReferralStatus{Type: typeReferralStatus, Referral: "https://b.example/referrals/0b7e", Erased: true}),
		act("https://a.example/activities/4", typeDelete, them, us,
			ReferralErasure{Type: typeReferralErasure, Referral: "https://a.example/referrals/0b7e"}),
		act("https://a.example/activities/5", typeAccept, them, us,
			ReferralStatus{Type: typeReferralStatus, Referral: "https://b.example/referrals/0b7e", State: referral.Accepted}),
	}
}

// FuzzReferralActivity checks the inbox's handling of referral
// activities up to the referral package, from any sender: it never
// panics, and whatever reaches the referral package is addressed to this
// node alone; an offer's referral is the sender's, attributed to it,
// about a service of this node, with a sealed payload within bounds and
// known data categories; a status names one of this node's referrals
// with a known state or an erasure; an erasure names one of the sender's
// referrals.
func FuzzReferralActivity(f *testing.F) {
	for _, a := range seedReferralActivities() {
		f.Add(a)
	}
	calls := &referralCalls{}
	recv := fuzzFederator(f, "https://b.example", true, calls)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := parseActivity(data)
		if err != nil {
			return
		}
		*calls = referralCalls{}
		handled, err := recv.onReferral(ctx, a)
		if !handled && err != nil {
			t.Fatalf("not handled, yet failed: %v", err)
		}
		var ie *inboxError
		if err != nil && !errors.As(err, &ie) {
			t.Fatalf("refused without an answer for the peer: %v", err)
		}
		n := len(calls.offers) + len(calls.statuses) + len(calls.erasures)
		if n == 0 {
			return
		}
		if n > 1 || !handled || err != nil {
			t.Fatalf("%d calls, handled %v, err %v", n, handled, err)
		}
		if len(a.To) != 1 || a.To[0] != us || len(a.Cc) > 0 {
			t.Fatalf("handed on an activity addressed to %q, cc %q", a.To, a.Cc)
		}
		for _, o := range calls.offers {
			ok := o.Type == typeReferral && validIRI(o.ID) && hostOf(o.ID) == hostOf(a.Actor) && o.AttributedTo == a.Actor &&
				slices.Equal(o.To, []string{us}) && validIRI(o.Service) && hostOf(o.Service) == hostOf(us) &&
				len(o.Sealed) > 0 && len(o.Sealed) <= maxSealed
			for _, c := range o.Consent.Categories {
				ok = ok && slices.Contains(directory.DataCategories, c)
			}
			if !ok {
				t.Fatalf("handed on offer %+v from %s", o, a.Actor)
			}
		}
		for _, st := range calls.statuses {
			if st.Type != typeReferralStatus || !strings.HasPrefix(st.Referral, "https://b.example/referrals/") ||
				(st.State == "" && !st.Erased) || (st.State != "" && !st.State.Valid()) {
				t.Fatalf("handed on status %+v", st)
			}
		}
		for _, e := range calls.erasures {
			if !validIRI(e.Referral) || hostOf(e.Referral) != hostOf(a.Actor) {
				t.Fatalf("handed on erasure %+v from %s", e, a.Actor)
			}
		}
	})
}

// FuzzParseActor checks the reading of an actor document fetched from
// fetchedFrom: it never panics, a document nested too deeply is refused,
// and a document accepted has an id and inbox (valid IRIs) on the host
// it was fetched from, valid IRIs or nothing for its other collections,
// a shared inbox on its host or none, a public key, a name of at most
// 500 bytes of UTF-8 text, and at most maxAttachments profile fields.
func FuzzParseActor(f *testing.F) {
	for _, file := range []struct{ name, from string }{
		{"testdata/mastodon_actor.json", "https://social.example/users/lea"},
		{"testdata/gotosocial_actor.json", "https://gts.example/users/quartier"},
	} {
		data, err := os.ReadFile(file.name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, file.from)
	}
	node := fuzzFederator(f, "https://b.example", false, nil)
	own, err := node.Actor(context.Background())
	if err == nil {
		f.Add([]byte(mustJSON(own)), us)
	}
	// A name over 500 bytes whose 500th byte is inside an "é": it was cut
	// there, leaving text that is not UTF-8.
	f.Add([]byte(`{"id": "https://maison.example.be/actor", "type": "Organization", "preferredUsername": "maison",
	  "name": "Maison de quartier `+strings.Repeat("é", 260)+`", "inbox": "https://maison.example.be/inbox",
	  "outbox": "https://maison.example.be/outbox", "followers": "https://maison.example.be/followers",
	  "following": "https://maison.example.be/following", "endpoints": {"sharedInbox": "https://other.example/inbox"},
	  "publicKey": {"id": "https://maison.example.be/actor#main-key", "owner": "https://maison.example.be/actor", "publicKeyPem": "x"},
	  "sealingKey": {"id": "https://maison.example.be/actor#sealing-key", "kem": "ML-KEM-768+X25519", "publicKeyBase64": "AQ=="},
	  "attachment": [{"type": "PropertyValue", "name": "BCE/KBO", "value": "0403.170.701"}]}`), "https://maison.example.be/actor")
	f.Add([]byte(`{"id": "https://a.example/actor", "inbox": "https://a.example/inbox", "publicKey": {}, "outbox": "javascript:x"}`), them)
	f.Fuzz(func(t *testing.T, data []byte, from string) {
		a, err := parseActor(data, from)
		if err != nil {
			if a != nil {
				t.Fatalf("refused with %v, yet returned %+v", err, a)
			}
			return
		}
		if tooDeep(data) {
			t.Fatalf("accepted a document nested %d deep", jsonDepth(data))
		}
		host := hostOf(a.ID)
		switch {
		case !validIRI(a.ID) || !validIRI(a.Inbox) || host == "" || host != hostOf(from) || hostOf(a.Inbox) != host:
			t.Fatalf("accepted actor %q with inbox %q fetched from %q", a.ID, a.Inbox, from)
		case a.PublicKey == nil:
			t.Fatal("accepted an actor without a key")
		case len(a.Name) > 500 || !utf8.ValidString(a.Name):
			t.Fatalf("kept name %q", a.Name)
		case len(a.Attachment) > maxAttachments:
			t.Fatalf("kept %d profile fields", len(a.Attachment))
		}
		for _, iri := range []string{a.Outbox, a.Followers, a.Following} {
			if iri != "" && !validIRI(iri) {
				t.Fatalf("kept IRI %q", iri)
			}
		}
		if a.Endpoints != nil && a.Endpoints.SharedInbox != "" && (!validIRI(a.Endpoints.SharedInbox) || hostOf(a.Endpoints.SharedInbox) != host) {
			t.Fatalf("kept shared inbox %q of actor %q", a.Endpoints.SharedInbox, a.ID)
		}
		for _, id := range a.Identifiers() {
			if n, ok := directory.NormalBCE(id.Value); !ok || n != id.Value {
				t.Fatalf("read identifier %q", id.Value)
			}
		}
	})
}
