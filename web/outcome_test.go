package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// refer sends a referral from n to a service (its id at the partner) with
// a fresh consent, and returns its handle and address.
func refer(t *testing.T, n *nodetest.Node, tok, serviceID, resident string) (handle, uri, consent string) {
	t.Helper()
	given := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	resp := n.Do("POST", "/api/v1/referrals", tok, `{"service": "`+serviceID+`", "resident": {"name": "`+resident+`"},
	  "consent": {"method": "on-screen", "categories": ["identity"], "notice_version": "2026-11",
	  "notice_hash": "`+strings.Repeat("ab", 32)+`", "notice_lang": "fr", "given_at": "`+given+`"}}`)
	if resp.Status != 201 {
		t.Fatalf("refer: %d %s", resp.Status, resp.Body)
	}
	var ref struct{ ID, URI string }
	resp.JSON(t, &ref)
	var full referralJSON
	n.Do("GET", "/api/v1/referrals/"+ref.ID, tok, nil).JSON(t, &full)
	return ref.ID, ref.URI, full.Consent.ID
}

// partners makes x and y partners: x asks, y accepts, whatever other
// partners they have.
func partners(t *testing.T, x, y *nodetest.Node, tx, ty string) {
	t.Helper()
	if r := x.Do("POST", "/api/v1/partners", tx, map[string]string{"actor": "@" + y.Name + "@" + y.Addr}); r.Status != 202 {
		t.Fatalf("partner request: %d %s", r.Status, r.Body)
	}
	var rels struct {
		Partners []struct{ ID, State, Actor string }
	}
	id := ""
	waitUntil(t, y.Name+" sees "+x.Name+"'s request", func() bool {
		y.Do("GET", "/api/v1/partners", ty, nil).JSON(t, &rels)
		for _, r := range rels.Partners {
			if r.Actor == x.URL+"/actor" && r.State == "pending" {
				id = r.ID
			}
		}
		return id != ""
	})
	if r := y.Do("POST", "/api/v1/partners/"+id+"/accept", ty, nil); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
}

type referralJSON struct {
	ID, URI, State, Reason, Service string
	Consent                         struct{ ID string }
	Suggestion                      *struct {
		Service, Provider string
		Name              map[string]string
	}
	Resident map[string]any
}

// Issue 19, point 4, between three real nodes: B rejects A's referral as
// referred elsewhere, suggests C's service and writes a note; A sees the
// suggestion (never the note) and refers the person to C with a new
// consent; C receives only what the new referral carries.
func TestReferredElsewhereAndReReferral(t *testing.T) {
	nodes := nodetest.Start(t, 3, nodetest.Options{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta, tb, tc := a.AdminToken(), b.AdminToken(), c.AdminToken()
	partners(t, a, b, ta, tb)
	partners(t, b, c, tb, tc)
	partners(t, a, c, ta, tc)
	service := func(n *nodetest.Node, tok, name string) string {
		r := n.Do("POST", "/api/v1/services", tok, `{"name": "`+name+`", "status": "active", "categories": ["lecture-ecriture-calcul--maitriser-le-francais"],
		  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity"]}}`)
		if r.Status != 201 {
			t.Fatalf("service: %d %s", r.Status, r.Body)
		}
		var s struct{ ID string }
		r.JSON(t, &s)
		return s.ID
	}
	atB := service(b, tb, "Alphabétisation")
	atC := service(c, tc, "Cours de français langue étrangère")
	waitUntil(t, "A and B hold C's service, A holds B's", func() bool {
		var x, y struct{ Total int }
		a.Do("GET", "/api/v1/search?q=cours+francais+etrangere", "", nil).JSON(t, &x)
		b.Do("GET", "/api/v1/search?q=cours+francais+etrangere", "", nil).JSON(t, &y)
		var z struct{ Total int }
		a.Do("GET", "/api/v1/search?q=alphabetisation", "", nil).JSON(t, &z)
		return x.Total == 1 && y.Total == 1 && z.Total == 1
	})
	first, firstURI, firstConsent := refer(t, a, ta, atB, "Première Personne")
	var atBRef struct{ Referrals []struct{ ID, URI string } }
	waitUntil(t, "B receives the referral", func() bool {
		b.Do("GET", "/api/v1/referrals", tb, nil).JSON(t, &atBRef)
		return len(atBRef.Referrals) == 1
	})
	handleB := atBRef.Referrals[0].ID

	// Refused, nothing changed: a suggestion with another reason, one
	// this node does not know, a note too long.
	for _, body := range []string{
		`{"to": "rejected", "reason": "no-capacity", "suggestion": "` + c.URL + `/services/` + atC + `"}`,
		`{"to": "rejected", "reason": "referred-elsewhere", "suggestion": "https://unknown.example/services/x"}`,
		`{"to": "rejected", "reason": "no-capacity", "note": "` + strings.Repeat("x", 1001) + `"}`,
	} {
		if r := b.Do("POST", "/api/v1/referrals/"+handleB+"/transition", tb, body); r.Status != http.StatusBadRequest {
			t.Errorf("%.80s: %d %s", body, r.Status, r.Body)
		}
	}
	var got referralJSON
	b.Do("GET", "/api/v1/referrals/"+handleB, tb, nil).JSON(t, &got)
	if got.State != "received" || got.Suggestion != nil {
		t.Fatalf("after refusals B holds %+v", got)
	}
	// B rejects: referred elsewhere, C's service suggested, a note.
	r := b.Do("POST", "/api/v1/referrals/"+handleB+"/transition", tb,
		`{"to": "rejected", "reason": "referred-elsewhere", "note": "`+noteText+`", "suggestion": "`+c.URL+`/services/`+atC+`"}`)
	if r.Status != 200 {
		t.Fatalf("reject: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), noteText) {
		t.Error("the API answer shows the note")
	}
	var atA referralJSON
	waitUntil(t, "A hears of the rejection and the suggestion", func() bool {
		a.Do("GET", "/api/v1/referrals/"+first, ta, nil).JSON(t, &atA)
		return atA.State == "rejected" && atA.Suggestion != nil
	})
	if atA.Reason != "referred-elsewhere" || atA.Suggestion.Service != c.URL+"/services/"+atC || atA.Suggestion.Name["fr"] != "Cours de français langue étrangère" ||
		atA.Suggestion.Provider != "Association "+c.Name {
		t.Errorf("A's view: %+v %+v", atA, atA.Suggestion)
	}
	raw := a.Do("GET", "/api/v1/referrals/"+first, ta, nil).Body
	if strings.Contains(string(raw), noteText) {
		t.Error("the note reached the sender")
	}
	// A refers the person to the suggested service, with a new consent.
	second, secondURI, secondConsent := refer(t, a, ta, atC, "Première Personne")
	if second == first || secondURI == firstURI || secondConsent == firstConsent || secondConsent == "" {
		t.Errorf("the new referral reuses the first: %s %s %s", second, secondURI, secondConsent)
	}
	var atCRefs struct{ Referrals []struct{ ID, URI string } }
	waitUntil(t, "C receives the new referral", func() bool {
		c.Do("GET", "/api/v1/referrals", tc, nil).JSON(t, &atCRefs)
		return len(atCRefs.Referrals) == 1
	})
	var atCRef referralJSON
	c.Do("GET", "/api/v1/referrals/"+atCRefs.Referrals[0].ID+"?open=1", tc, nil).JSON(t, &atCRef)
	if atCRef.URI != secondURI || atCRef.Consent.ID != secondConsent {
		t.Errorf("C holds %+v", atCRef)
	}
	// C knows nothing of the first referral, nor of B's note.
	for _, path := range []string{"/api/v1/referrals", "/api/v1/referrals/" + atCRefs.Referrals[0].ID + "?open=1"} {
		body := string(c.Do("GET", path, tc, nil).Body)
		if strings.Contains(body, firstURI) || strings.Contains(body, noteText) {
			t.Errorf("C's %s names the first referral or B's note", path)
		}
	}
}

const noteText = "NOTE-Zineb-appeler-apres-16h"
