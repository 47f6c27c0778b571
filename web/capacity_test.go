package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/web/notify"
)

// Issue 19, points 1 to 3, between real nodes: a service of B's whose
// capacity, dated closures and review date reach its partner A.

// shelter is B's night shelter: open on weekdays 9:00–17:00 in
// Brussels, taking referrals from partners.
const shelter = `{"name": "Abri de nuit", "description": "Un lit pour la nuit.", "status": "active",
  "translations": {"nl": {"name": "Nachtopvang", "description": "Een bed voor de nacht."}},
  "categories": ["logement-hebergement"],
  "schedules": [{"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "17:00"}],
  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`

// coordNodes starts A and B, partners, with B's shelter replicated on A,
// clocks stopped at start; it returns the shelter's id on B and its
// address (ActivityPub id).
func coordNodes(t *testing.T, start time.Time, k int) (nodes []*nodetest.Node, id, uri string) {
	t.Helper()
	nodes = nodetest.Start(t, k, nodetest.Options{Clock: &start, Configure: func(c *node.Config) {
		c.TileURL = unreachableTiles
		c.SweepEvery = 100 * time.Millisecond
		c.NotifyEvery = 100 * time.Millisecond
	}})
	a, b := nodes[0], nodes[1]
	tb := b.AdminToken()
	resp := b.Do("POST", "/api/v1/services", tb, shelter)
	if resp.Status != http.StatusCreated {
		t.Fatalf("B's shelter: %d %s", resp.Status, resp.Body)
	}
	var s struct{ ID string }
	resp.JSON(t, &s)
	makePartners(t, a, b, a.AdminToken(), tb)
	uri = b.URL + "/services/" + s.ID
	waitUntil(t, "A replicates B's shelter", func() bool { return len(searchOn(t, a, "q=abri")) == 1 })
	return nodes, s.ID, uri
}

// searchHit is what these tests read of a search result.
type searchHit struct {
	URI      string
	OpenNow  bool `json:"open_now"`
	Capacity *struct {
		Available   int
		Maximum     int
		State       string
		WaitingList *struct{ Length, DelayDays int } `json:"waiting_list"`
	}
	Reviewed  string
	ReviewDue bool `json:"review_due"`
}

func searchOn(t *testing.T, n *nodetest.Node, query string) []searchHit {
	t.Helper()
	var out struct{ Results []searchHit }
	resp := n.Do("GET", "/api/v1/search?"+query, "", nil)
	if resp.Status != 200 {
		t.Fatalf("search %s on %s: %d %s", query, n.Name, resp.Status, resp.Body)
	}
	resp.JSON(t, &out)
	return out.Results
}

// worker adds a worker to n and returns its token.
func worker(t *testing.T, n *nodetest.Node) string {
	t.Helper()
	email := "travailleuse@" + n.Name + ".test"
	if r := n.Do("POST", "/api/v1/users", n.AdminToken(), map[string]string{"email": email, "password": "worker-password-1", "role": "worker"}); r.Status != 201 {
		t.Fatalf("worker on %s: %d %s", n.Name, r.Status, r.Body)
	}
	return n.Token(email, "worker-password-1")
}

// problemCodes reads the codes of a 400's problems.
func problemCodes(t *testing.T, r nodetest.Response) []string {
	t.Helper()
	var body struct {
		Code     string
		Problems []struct{ Field, Code string }
	}
	r.JSON(t, &body)
	var out []string
	for _, p := range body.Problems {
		out = append(out, p.Field+" "+p.Code)
	}
	return out
}

// moveTo sets a node's clock to t.
func moveTo(n *nodetest.Node, t time.Time) { n.Clock.Advance(t.Sub(n.Clock.Now())) }

// A worker of B sets the shelter's places in one call; A shows them
// within seconds (search API, partner page with their age), finds the
// shelter with "places now", and warns its workers on the referral form
// once B has a waiting list; B's admin closes it for the holidays, and
// A's "open now" leaves it out until the closure lifts itself on A's
// clock, with no change from B. Bad capacities and periods are refused
// with their codes and change nothing; A cannot set B's capacity.
func TestCapacityAndClosureReachPartner(t *testing.T) {
	start := time.Date(2026, 12, 21, 9, 30, 0, 0, time.UTC) // a Monday, 10:30 in Brussels
	nodes, id, uri := coordNodes(t, start, 2)
	a, b := nodes[0], nodes[1]
	wb, wa := worker(t, b), worker(t, a)
	page := "/service?uri=" + url.QueryEscape(uri)

	// Places, set by a worker (not an admin) of B.
	resp := b.Do("PUT", "/api/v1/services/"+id+"/capacity", wb, `{"available": 3, "maximum": 12}`)
	if resp.Status != 200 {
		t.Fatalf("set places: %d %s", resp.Status, resp.Body)
	}
	set := time.Now()
	waitUntil(t, "A finds the shelter with places", func() bool {
		hits := searchOn(t, a, "has_places=true")
		return len(hits) == 1 && hits[0].Capacity != nil && hits[0].Capacity.Available == 3 && hits[0].Capacity.Maximum == 12
	})
	t.Logf("places set on B shown by A's search after %v", time.Since(set).Round(time.Millisecond))
	if hits := searchOn(t, a, "places=1&q=abri"); len(hits) != 1 {
		t.Errorf("the search page's places=1: %d results", len(hits))
	}
	// Two hours later on both nodes (signatures carry their date; the
	// tokens of then have expired).
	for _, n := range nodes {
		moveTo(n, start.Add(2*time.Hour))
	}
	wa, wb = a.Token("travailleuse@"+a.Name+".test", "worker-password-1"), b.Token("travailleuse@"+b.Name+".test", "worker-password-1")
	for lang, want := range map[string][]string{
		"fr": {"Places libres : 3 sur 12", "mis à jour il y a 2 h"},
		"nl": {"Vrije plaatsen: 3 van de 12", "2 uur geleden bijgewerkt"},
	} {
		body := getPage(t, a, page, lang)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("A's page of the shelter in %s lacks %q", lang, w)
			}
		}
		if results := getPage(t, a, "/search?q=abri&places=1", lang); !strings.Contains(results, want[0]) || !strings.Contains(results, want[1]) {
			t.Errorf("A's results in %s lack the places and their age", lang)
		}
	}
	refer := func() string {
		r := a.Do("GET", "/refer?service="+url.QueryEscape(uri), wa, nil)
		if r.Status != 200 {
			t.Fatalf("A's referral form: %d", r.Status)
		}
		return string(r.Body)
	}
	if strings.Contains(refer(), `id="capacity-warning"`) {
		t.Errorf("the referral form warns while the shelter has places")
	}

	// A waiting list: no longer "places now", and A's referral form warns.
	if r := b.Do("PUT", "/api/v1/services/"+id+"/capacity", wb, `{"waiting_list": {"length": 8, "delay_days": 30}}`); r.Status != 200 {
		t.Fatalf("waiting list: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "A sees the waiting list", func() bool {
		hits := searchOn(t, a, "q=abri")
		return len(hits) == 1 && hits[0].Capacity != nil && hits[0].Capacity.State == "waiting"
	})
	if hits := searchOn(t, a, "has_places=true"); len(hits) != 0 {
		t.Errorf("has places finds %d services while the shelter has a waiting list", len(hits))
	}
	if form := refer(); !strings.Contains(form, `id="capacity-warning"`) || !strings.Contains(form, "Liste d’attente : 8 personnes en attente, environ 30 jours d’attente") ||
		!strings.Contains(form, `id="send"`) {
		t.Errorf("A's referral form does not warn of the waiting list, or cannot send:\n%s", form)
	}

	// Bad capacities: refused with their codes, nothing changed.
	for body, want := range map[string]string{
		`{"available": -1}`:                     "available capacity_range",
		`{"available": 13, "maximum": 12}`:      "available available_above_maximum",
		`{"not_accepting_until": "2026-12-01"}`: "not_accepting_until date_past",
		`{"not_accepting_until": "2028-06-01"}`: "not_accepting_until date_too_far",
		`{"available": 2, "waiting_list": {}}`:  "waiting_list capacity_contradiction",
		`{}`:                                    "available required",
	} {
		r := b.Do("PUT", "/api/v1/services/"+id+"/capacity", wb, body)
		if got := problemCodes(t, r); r.Status != 400 || len(got) != 1 || got[0] != want {
			t.Errorf("capacity %s: %d %v, want 400 %s", body, r.Status, got, want)
		}
	}
	var stored struct {
		ServiceCapacity []struct{ Available int } `json:"service_capacity"`
		CapacityStatus  map[string]any            `json:"capacity_status"`
	}
	b.Do("GET", "/api/v1/services/"+id, "", nil).JSON(t, &stored)
	if len(stored.ServiceCapacity) != 1 || stored.ServiceCapacity[0].Available != 0 || stored.CapacityStatus["waiting_list"] == nil {
		t.Errorf("after refused capacities B holds %+v", stored)
	}
	// B's HSDS read API carries the capacity as HSDS 3.1's field, in
	// documents that still validate against HSDS 3.0.
	hsdsDoc := b.Do("GET", "/hsds/services/"+id, "", nil)
	validate(t, compileSchema(t, "compiled/service.json"), "B's HSDS service with its capacity", hsdsDoc.Body)
	if !bytes.Contains(hsdsDoc.Body, []byte(`"service_capacity":[{`)) || !bytes.Contains(hsdsDoc.Body, []byte(`"capacity_status":{"waiting_list":{"length":8,"delay_days":30}}`)) ||
		!bytes.Contains(hsdsDoc.Body, []byte(`"assured_date":"2026-12-21"`)) {
		t.Errorf("B's HSDS service lacks its capacity or review date:\n%s", hsdsDoc.Body)
	}
	// A's API cannot set B's service: it is not A's.
	if r := a.Do("PUT", "/api/v1/services/"+id+"/capacity", wa, `{"available": 5}`); r.Status != 404 {
		t.Errorf("A sets B's capacity: %d %s", r.Status, r.Body)
	}

	// B's admin closes the shelter for the holidays, from today.
	tb := b.AdminToken()
	doc := map[string]any{}
	json.Unmarshal(b.Do("GET", "/api/v1/services/"+id, "", nil).Body, &doc)
	scheds := doc["schedules"].([]any)
	bad := append(append([]any{}, scheds...), map[string]any{"valid_from": "2026-12-31", "valid_to": "2026-12-21", "period": "closed", "closed": true})
	doc["schedules"] = bad
	if r := b.Do("PUT", "/api/v1/services/"+id, tb, doc); r.Status != 400 || !strings.Contains(strings.Join(problemCodes(t, r), ","), "period_order") {
		t.Errorf("a closure ending before it starts: %d %s", r.Status, r.Body)
	}
	doc["schedules"] = append(append([]any{}, scheds...), map[string]any{"valid_from": "2026-12-21", "valid_to": "2026-12-31", "period": "closed", "closed": true,
		"description": "Fermé pour les fêtes", "translations": map[string]any{"nl": map[string]any{"description": "Gesloten tijdens de feestdagen"}}})
	if r := b.Do("PUT", "/api/v1/services/"+id, tb, doc); r.Status != 200 {
		t.Fatalf("the closure: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "A's open now leaves the closed shelter out", func() bool {
		return len(searchOn(t, a, "q=abri")) == 1 && len(searchOn(t, a, "q=abri&open_now=true")) == 0
	})
	if hits := searchOn(t, a, "q=abri"); hits[0].Capacity == nil || hits[0].Capacity.State != "waiting" {
		t.Errorf("the admin's edit lost the capacity a worker set: %+v", hits[0].Capacity)
	}
	if hits := searchOn(t, a, "q=abri&open_at="+url.QueryEscape("2027-01-04T10:00:00+01:00")); len(hits) != 1 {
		t.Errorf("open on the Monday after the closure: %d results", len(hits))
	}
	for lang, want := range map[string][]string{
		"fr": {"Fermé du 21 au 31 décembre", "Fermé pour les fêtes", "Fermé jusqu’au 31 décembre", "fermé <span class=\"badge\">changement temporaire</span>"},
		"nl": {"Gesloten van 21 tot en met 31 december", "Gesloten tijdens de feestdagen", "Gesloten tot en met 31 december", "gesloten <span class=\"badge\">tijdelijke wijziging</span>"},
	} {
		body := getPage(t, a, page, lang)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("A's page in %s lacks %q", lang, w)
			}
		}
	}
	// The closure lifts itself on A's clock: still closed on its last
	// afternoon, open the next Monday morning, B doing nothing.
	moveTo(a, time.Date(2026, 12, 31, 15, 0, 0, 0, directory.Brussels())) // A's clock only: B does nothing
	if hits := searchOn(t, a, "q=abri&open_now=true"); len(hits) != 0 {
		t.Errorf("open on the closure's last afternoon")
	}
	moveTo(a, time.Date(2027, 1, 4, 9, 0, 0, 0, directory.Brussels()))
	if hits := searchOn(t, a, "q=abri&open_now=true"); len(hits) != 1 || !hits[0].OpenNow {
		t.Errorf("not open once the closure has lifted: %+v", hits)
	}
	if body := getPage(t, a, page, "fr"); strings.Contains(body, "Fermé du 21 au 31 décembre") || strings.Contains(body, "closed-until") || strings.Contains(body, "changement temporaire") {
		t.Errorf("A's page still shows the closure after it ended")
	}
}

// A third node cannot change a service of B's at A: an Update of B's
// service signed by C, attributed to C or to B, and one claiming to come
// from B with C's key, are each refused, and A keeps B's capacity.
func TestForgedCapacityRefused(t *testing.T) {
	start := time.Date(2026, 12, 21, 9, 30, 0, 0, time.UTC)
	nodes, id, uri := coordNodes(t, start, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	makePartners(t, a, c, a.AdminToken(), c.AdminToken())
	if r := b.Do("PUT", "/api/v1/services/"+id+"/capacity", b.AdminToken(), `{"available": 3}`); r.Status != 200 {
		t.Fatalf("places: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "A sees B's places", func() bool {
		hits := searchOn(t, a, "has_places=true")
		return len(hits) == 1 && hits[0].Capacity.Available == 3
	})
	var record map[string]any
	json.Unmarshal(b.Do("GET", "/api/v1/services/"+id, "", nil).Body, &record)
	record["service_capacity"] = []any{map[string]any{"unit": map[string]any{"name": "places", "identifier": "places"}, "available": 99,
		"updated": "2026-12-21T10:00:00Z"}}
	pem, err := c.Node().Store.Secret(context.Background(), "actor-rsa")
	if err != nil {
		t.Fatal(err)
	}
	key, err := federation.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	cActor, bActor := c.URL+"/actor", b.URL+"/actor"
	for i, tc := range []struct {
		name, actor, attributedTo string
		want                      int
	}{
		{"attributed to C", cActor, cActor, 400},
		{"attributed to B, sent by C", cActor, bActor, 400},
		{"claiming to be B", bActor, bActor, 403},
	} {
		activity := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": c.URL + "/activities/forged-" + string(rune('a'+i)),
			"type": "Update", "actor": tc.actor, "to": []string{"https://www.w3.org/ns/activitystreams#Public"},
			"object": map[string]any{"id": uri, "type": "Note", "attributedTo": tc.attributedTo, "url": uri,
				"updated": "2026-12-21T10:00:00.5Z", "content": "<p>Abri de nuit</p>", "hsds": record}}
		body, _ := json.Marshal(activity)
		req, _ := http.NewRequest("POST", a.URL+"/inbox", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/activity+json")
		s := &federation.Signer{Key: key, KeyID: cActor + "#main-key", Now: a.Clock.Now}
		if err := s.Sign(req, body); err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: A answered %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	time.Sleep(time.Second) // anything applied would be indexed by now
	hits := searchOn(t, a, "q=abri")
	if len(hits) != 1 || hits[0].Capacity == nil || hits[0].Capacity.Available != 3 {
		t.Errorf("after the forged updates A shows %+v, want B's 3 places", hits)
	}
	if body := getPage(t, a, "/service?uri="+url.QueryEscape(uri), "fr"); !strings.Contains(body, "Places libres : 3") || strings.Contains(body, "Places libres : 99") {
		t.Errorf("A's page of B's shelter changed")
	}
}

// Freshness between partners: six months after its last review, B's
// admins are reminded once and A shows the shelter as not reviewed for
// long (page, results, API); a capacity set meanwhile is no review;
// "still correct" re-dates it and A's mark goes.
func TestReviewFreshnessReachesPartner(t *testing.T) {
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	nodes, id, uri := coordNodes(t, start, 2)
	a, b := nodes[0], nodes[1]
	page := "/service?uri=" + url.QueryEscape(uri)
	if body := getPage(t, a, page, "fr"); !strings.Contains(body, "Vérifié le 1er juin 2026") {
		t.Errorf("A's page does not say when B checked the shelter")
	}
	if hits := searchOn(t, a, "q=abri"); hits[0].Reviewed != "2026-06-01" || hits[0].ReviewDue {
		t.Errorf("A's search: reviewed %q, due %v", hits[0].Reviewed, hits[0].ReviewDue)
	}
	ctx := context.Background()
	users, err := b.Node().Store.Users(ctx)
	if err != nil || len(users) != 1 {
		t.Fatalf("B's users: %v %v", users, err)
	}
	// The reminders of the service among the admin's notifications.
	stale := func() int {
		list, _, _ := b.Node().Notify.Notifications(ctx, users[0].ID, 100)
		k := 0
		for _, n := range list {
			if n.Event.Kind == notify.ServiceStale && n.Event.Service == id {
				k++
			}
		}
		return k
	}
	later := start.Add(183 * 24 * time.Hour)
	for _, n := range nodes {
		moveTo(n, later)
	}
	// A worker sets the capacity: no review, the reminder still comes.
	wb := worker(t, b)
	if r := b.Do("PUT", "/api/v1/services/"+id+"/capacity", wb, `{"available": 1}`); r.Status != 200 {
		t.Fatalf("places: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "B's admin reminded", func() bool { return stale() == 1 })
	waitUntil(t, "A has the capacity", func() bool {
		hits := searchOn(t, a, "has_places=true")
		return len(hits) == 1
	})
	if hits := searchOn(t, a, "q=abri"); !hits[0].ReviewDue {
		t.Errorf("A's search does not mark the shelter not reviewed")
	}
	for lang, want := range map[string]string{"fr": "Pas vérifié depuis plus de 6 mois", "nl": "Al meer dan 6 maanden niet nagekeken"} {
		if body := getPage(t, a, page, lang); !strings.Contains(body, want) {
			t.Errorf("A's page in %s lacks %q", lang, want)
		}
		if body := getPage(t, a, "/search?q=abri", lang); !strings.Contains(body, want) {
			t.Errorf("A's results in %s lack %q", lang, want)
		}
	}
	if body := string(b.Do("GET", "/admin/services", b.AdminToken(), nil).Body); !strings.Contains(body, `id="due"`) || !strings.Contains(body, "Abri de nuit") {
		t.Errorf("B's admin services page does not list the shelter to check")
	}
	if body := string(b.Do("GET", "/admin", b.AdminToken(), nil).Body); !strings.Contains(body, "1 service n’a plus été vérifié depuis longtemps.") {
		t.Errorf("B's admin home does not say a service is due for review")
	}
	// "Still correct": an admin's, not a worker's.
	if r := b.Do("POST", "/api/v1/services/"+id+"/reviewed", wb, nil); r.Status != 403 {
		t.Errorf("a worker says still correct: %d", r.Status)
	}
	if r := b.Do("POST", "/api/v1/services/"+id+"/reviewed", b.AdminToken(), nil); r.Status != 200 {
		t.Fatalf("still correct: %d %s", r.Status, r.Body)
	}
	waitUntil(t, "A's mark goes", func() bool {
		hits := searchOn(t, a, "q=abri")
		return !hits[0].ReviewDue && hits[0].Reviewed == "2026-12-01"
	})
	if body := getPage(t, a, page, "fr"); !strings.Contains(body, "Vérifié le 1er décembre 2026") || strings.Contains(body, "Pas vérifié") {
		t.Errorf("A's page after still correct does not say checked on 1 December")
	}
	if body := string(b.Do("GET", "/admin/services", b.AdminToken(), nil).Body); strings.Contains(body, `id="due"`) {
		t.Errorf("B's admin services page still lists the shelter to check")
	}
	b.Clock.Advance(24 * time.Hour)
	time.Sleep(time.Second)
	if k := stale(); k != 1 {
		t.Errorf("%d reminders after still correct, want the first only", k)
	}
}
