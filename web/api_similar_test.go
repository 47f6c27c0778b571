package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// Before creating a service, an admin asks which services already do the
// same nearby: the API answers with scores and reasons, never the service
// itself, and not an unrelated one.
func TestSimilarServicesAPI(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	tok := n.AdminToken()
	loc := func(lat, lon string) string {
		r := n.Do("POST", "/api/v1/locations", tok, `{"name": "Lieu", "latitude": `+lat+`, "longitude": `+lon+`,
		  "addresses": [{"address_1": "Rue de la Victoire 96", "city": "Saint-Gilles", "postal_code": "1060", "country": "BE"}]}`)
		var l struct{ ID string }
		r.JSON(t, &l)
		return l.ID
	}
	here, far := loc("50.8291", "4.3449"), loc("50.8706", "4.4020")
	create := func(body string) string {
		r := n.Do("POST", "/api/v1/services", tok, body)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var s struct{ ID string }
		r.JSON(t, &s)
		return s.ID
	}
	grocery := create(`{"name": "Épicerie sociale", "description": "Produits alimentaires à petit prix pour les familles.", "status": "active",
	  "categories": ["equipement-et-alimentation--alimentation"], "audiences": ["familles"], "languages": [{"code": "fr"}],
	  "service_at_locations": [{"location_id": "` + here + `"}]}`)
	create(`{"name": "Cours de français", "status": "active", "categories": ["lecture-ecriture-calcul--maitriser-le-francais"],
	  "service_at_locations": [{"location_id": "` + far + `"}]}`)

	var res struct {
		Results []struct {
			ID, Name, Organization string
			Score                  float64
			Reasons                []struct{ Part string }
		}
	}
	// Indexed within a quarter of a second of being written.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var found struct{ Total int }
		n.Do("GET", "/api/v1/search?q=epicerie", "", nil).JSON(t, &found)
		if found.Total == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A partner-style entry of the same grocery, in Dutch, same door.
	r := n.Do("POST", "/api/v1/services/similar", tok, `{"name": "Sociale kruidenier", "status": "active",
	  "categories": ["equipement-et-alimentation--alimentation"], "audiences": ["familles"],
	  "service_at_locations": [{"location_id": "`+here+`"}]}`)
	if r.Status != http.StatusOK {
		t.Fatalf("similar: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &res)
	if len(res.Results) != 1 || res.Results[0].ID != grocery {
		t.Fatalf("similar = %+v, want the grocery only", res.Results)
	}
	var parts []string
	for _, x := range res.Results[0].Reasons {
		parts = append(parts, x.Part)
	}
	if got := strings.Join(parts, ","); !strings.Contains(got, "theme") || !strings.Contains(got, "place") {
		t.Errorf("reasons = %s", got)
	}
	// By id: never itself.
	n.Do("GET", "/api/v1/services/similar?service="+grocery, tok, nil).JSON(t, &res)
	for _, x := range res.Results {
		if x.ID == grocery {
			t.Error("a service is similar to itself")
		}
	}
	// Neither id nor body, or a bad limit: 400; anonymous: 401.
	if r := n.Do("GET", "/api/v1/services/similar", tok, nil); r.Status != http.StatusBadRequest {
		t.Errorf("no service = %d", r.Status)
	}
	if r := n.Do("GET", "/api/v1/services/similar?service="+grocery+"&limit=0", tok, nil); r.Status != http.StatusBadRequest {
		t.Errorf("limit 0 = %d", r.Status)
	}
	if r := n.Do("GET", "/api/v1/services/similar?service="+grocery, "", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous = %d", r.Status)
	}
}

// The overlap and gap view as JSON: providers by theme and area, the gaps,
// and unmet needs signalled (counts only, checked, public).
func TestNetworkOverlapsAndGaps(t *testing.T) {
	n := sampleNode(t)
	var ov struct {
		Areas []string
		Cells []struct {
			Theme, Area         string
			Providers, Services int
		}
		Services int
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.Do("GET", "/api/v1/network/overlaps", "", nil).JSON(t, &ov)
		if ov.Services == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	found := false
	for _, c := range ov.Cells {
		if c.Theme == "equipement-et-alimentation" && c.Area == "1060" {
			found = c.Providers == 1 && c.Services == 1
		}
	}
	if !found || ov.Services != 3 {
		t.Errorf("overlaps = %+v", ov)
	}
	// A second entry of the grocery next door: a likely duplicate pair.
	tok := n.AdminToken()
	var locs struct{ Locations []struct{ ID string } }
	n.Do("GET", "/api/v1/locations", "", nil).JSON(t, &locs)
	if r := n.Do("POST", "/api/v1/services", tok, `{"name": "Épicerie sociale du quartier", "status": "active",
	  "categories": ["equipement-et-alimentation--alimentation"], "service_at_locations": [{"location_id": "`+locs.Locations[0].ID+`"}]}`); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var dup struct {
		DuplicatePairs    int                       `json:"duplicate_pairs"`
		DuplicateClusters [][]struct{ Name string } `json:"duplicate_clusters"`
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		n.Do("GET", "/api/v1/network/overlaps", "", nil).JSON(t, &dup)
		if dup.DuplicatePairs > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if dup.DuplicatePairs != 1 || len(dup.DuplicateClusters) != 1 || len(dup.DuplicateClusters[0]) != 2 {
		t.Errorf("duplicates = %+v", dup)
	}
	if r := n.Do("POST", "/api/v1/network/needs", "", `{"theme": "sante", "area": "1030"}`); r.Status != http.StatusNoContent {
		t.Fatalf("need: %d %s", r.Status, r.Body)
	}
	for _, bad := range []string{`{"theme": "nothing", "area": "1030"}`, `{"theme": "sante", "area": "9999"}`, `{"theme": "sante", "area": "1030", "name": "Fatima"}`,
		`{"theme": "sante", "area": "1030", "note": "` + strings.Repeat("é", 501) + `"}`} {
		if r := n.Do("POST", "/api/v1/network/needs", "", bad); r.Status != http.StatusBadRequest {
			t.Errorf("need %s = %d, want 400", bad, r.Status)
		}
	}
	var gaps struct {
		Gaps  []struct{ Theme, Area string }
		Needs []struct {
			Theme, Area string
			Count       int
		}
	}
	n.Do("GET", "/api/v1/network/gaps", "", nil).JSON(t, &gaps)
	if len(gaps.Needs) != 1 || gaps.Needs[0].Count != 1 || gaps.Needs[0].Theme != "sante" {
		t.Errorf("needs = %+v", gaps.Needs)
	}
	gap := false
	for _, g := range gaps.Gaps {
		if g.Theme == "sante" && g.Area == "1030" {
			gap = true
		}
		if g.Theme == "equipement-et-alimentation" && g.Area == "1060" {
			t.Error("a covered theme and area is listed as a gap")
		}
	}
	if !gap {
		t.Error("health in 1030 is not a gap")
	}
}

// The results page lists its page of results and maps the first hundred:
// one search on the first page, two on later ones.
func TestSearchPagePagesAndMap(t *testing.T) {
	n := sampleNode(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var found struct{ Total int }
		n.Do("GET", "/api/v1/search", "", nil).JSON(t, &found)
		if found.Total == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range []struct {
		page  string
		items int
	}{{"1", 1}, {"2", 1}, {"3", 1}, {"4", 0}} {
		body := string(n.Do("GET", "/search?per_page=1&page="+c.page, "", nil).Body)
		if got := strings.Count(body, `<li class="result">`); got != c.items {
			t.Errorf("page %s lists %d results, want %d", c.page, got, c.items)
		}
		if c.items > 0 && strings.Count(body, `\u0022lat\u0022`)+strings.Count(body, `"lat"`) != 3 {
			t.Errorf("page %s maps %d points, want the 3 results'", c.page, strings.Count(body, `"lat"`))
		}
	}
}

// Similar services can be asked for any service the node knows: a
// partner's, by the address its search results give (issue 18, point 3).
// Asked from either node about the other's service, the pair scores the
// same; an address nobody published is a 404 that says what to give.
func TestSimilarForPartnerService(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	makePartners(t, a, b, ta, tb)
	create := func(n *nodetest.Node, tok, lat, lon, service string) string {
		r := n.Do("POST", "/api/v1/locations", tok, `{"name": "Lieu", "latitude": `+lat+`, "longitude": `+lon+`,
		  "addresses": [{"address_1": "Rue de Mérode 60", "city": "Saint-Gilles", "postal_code": "1060", "country": "BE"}]}`)
		var l struct{ ID string }
		r.JSON(t, &l)
		r = n.Do("POST", "/api/v1/services", tok, strings.Replace(service, "LOC", l.ID, 1))
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var s struct{ ID string }
		r.JSON(t, &s)
		return n.URL + "/services/" + s.ID
	}
	atA := create(a, ta, "50.8291", "4.3449", `{"name": "Aide à la déclaration d'impôts", "status": "active",
	  "description": "Nous remplissons avec vous votre déclaration fiscale, sur rendez-vous.",
	  "categories": ["difficultes-administratives-ou-juridiques"], "service_at_locations": [{"location_id": "LOC"}]}`)
	atB := create(b, tb, "50.8295", "4.3452", `{"name": "Hulp bij je belastingaangifte", "text_language": "nl", "status": "active",
	  "description": "Wij vullen samen met u uw belastingaangifte in, op afspraak.",
	  "categories": ["difficultes-administratives-ou-juridiques"], "service_at_locations": [{"location_id": "LOC"}]}`)
	type result struct {
		Results []struct {
			URI     string
			Local   bool
			Score   float64
			Reasons []struct{ Part, Detail string }
		}
		Error string
	}
	// Each holds the other's service once federation has delivered it.
	var fromA, fromB result
	waitUntil(t, "each node finds the other's service as similar", func() bool {
		fromA, fromB = result{}, result{}
		a.Do("GET", "/api/v1/services/similar?uri="+url.QueryEscape(atB), ta, nil).JSON(t, &fromA)
		b.Do("GET", "/api/v1/services/similar?uri="+url.QueryEscape(atA), tb, nil).JSON(t, &fromB)
		return len(fromA.Results) == 1 && len(fromB.Results) == 1
	})
	if fromA.Results[0].URI != atA || !fromA.Results[0].Local || fromB.Results[0].URI != atB || !fromB.Results[0].Local {
		t.Fatalf("A about B's service: %+v; B about A's: %+v", fromA, fromB)
	}
	if fromA.Results[0].Score != fromB.Results[0].Score {
		t.Errorf("the pair scores %.2f at A and %.2f at B", fromA.Results[0].Score, fromB.Results[0].Score)
	}
	var named bool
	for _, r := range fromA.Results[0].Reasons {
		named = named || (r.Part == "name" && strings.Contains(r.Detail, "≈"))
	}
	if !named {
		t.Errorf("no cross-language reason for the names: %+v", fromA.Results[0].Reasons)
	}
	// The node's own service by its address is the same as by id.
	var own result
	a.Do("GET", "/api/v1/services/similar?uri="+url.QueryEscape(atA), ta, nil).JSON(t, &own)
	if len(own.Results) != 1 || own.Results[0].URI != atB {
		t.Errorf("A's own service by address: %+v", own)
	}
	// Unknown: a 404 saying what to give, for an address and for an id.
	for _, q := range []string{"uri=" + url.QueryEscape(b.URL+"/services/nothing-here"), "uri=https%3A%2F%2Fexample.invalid%2Fs", "service=nothing-here"} {
		r := a.Do("GET", "/api/v1/services/similar?"+q, ta, nil)
		var e result
		r.JSON(t, &e)
		if r.Status != http.StatusNotFound || !strings.Contains(e.Error, "?uri=") {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}
