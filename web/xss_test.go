package web_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// xss are markups a hostile author may put in a field, each in a
// form that would run if a page let it through unescaped.
var xss = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(2)>`,
	`javascript:alert(3)`,
	`</title><svg onload=alert(4)>`,
	`{{.}}'-alert(5)-'`,
}

// Every field a user or a partner writes is shown escaped on every page
// that shows it, on the node that wrote it and on the partner that
// replicated it: no markup of the payloads survives, and a link never
// takes a javascript: address.
func TestNoMarkupThroughUserFields(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	field := func(i int) string { return "Champ " + xss[i%len(xss)] }

	org := map[string]any{"name": field(0), "description": field(1), "website": "https://a.example/" + url.PathEscape(xss[0]),
		"email": "contact@a.example"}
	if r := a.Do("PUT", "/api/v1/organization", ta, org); r.Status != 200 {
		t.Fatalf("organization: %d %s", r.Status, r.Body)
	}
	var loc struct{ ID string }
	r := a.Do("POST", "/api/v1/locations", ta, map[string]any{"name": field(2), "description": field(3),
		"addresses": []map[string]any{{"address_type": "physical", "address_1": field(4), "city": field(0), "postal_code": "1060", "country": "BE"}},
		"latitude":  50.83, "longitude": 4.34})
	if r.Status != 201 {
		t.Fatalf("location: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &loc)
	svc := map[string]any{"name": field(1), "alternate_name": field(2), "description": field(3), "status": "active",
		"eligibility_description": field(4), "application_process": field(0), "fees_description": field(1), "interpretation_services": field(2),
		"url":        "https://a.example/services?x=" + url.QueryEscape(xss[1]),
		"categories": []string{"equipement-et-alimentation--alimentation"}, "service_at_locations": []map[string]any{{"location_id": loc.ID}},
		"translations": map[string]any{"nl": map[string]any{"name": field(3), "description": field(4)}}}
	r = a.Do("POST", "/api/v1/services", ta, svc)
	if r.Status != 201 {
		t.Fatalf("service: %d %s", r.Status, r.Body)
	}
	var created struct{ ID string }
	r.JSON(t, &created)

	// B replicates it from A.
	if r := b.Do("POST", "/api/v1/partners", tb, map[string]string{"actor": "@" + a.Name + "@" + a.Addr}); r.Status != 202 {
		t.Fatalf("partner request: %d %s", r.Status, r.Body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var rels struct{ Partners []struct{ ID, State string } }
		a.Do("GET", "/api/v1/partners", ta, nil).JSON(t, &rels)
		if len(rels.Partners) == 1 && rels.Partners[0].State == "pending" {
			a.Do("POST", "/api/v1/partners/"+rels.Partners[0].ID+"/accept", ta, nil)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no partner request at A")
		}
		time.Sleep(50 * time.Millisecond)
	}
	uri := a.URL + "/services/" + created.ID
	for {
		var list struct{ Total int }
		b.Do("GET", "/api/v1/network/services", "", nil).JSON(t, &list)
		if list.Total == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B did not replicate A's service")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A need's note is shown to A's admins.
	if r := a.Do("POST", "/api/v1/network/needs", "", map[string]string{"theme": "sante", "area": "1060", "note": field(0)}); r.Status != 204 {
		t.Fatalf("need: %d %s", r.Status, r.Body)
	}

	pages := []struct {
		n     *nodetest.Node
		path  string
		token string
	}{
		{a, "/", ""}, {a, "/services/" + created.ID, ""}, {a, "/services/" + created.ID + "?lang=nl", ""}, {a, "/actor", ""},
		{a, "/about", ""}, {a, "/search?q=Champ", ""}, {a, "/network", ta}, {a, "/admin/services", ta},
		{a, "/admin/services/" + created.ID, ta}, {a, "/admin/organization", ta}, {a, "/admin/locations", ta},
		{a, "/admin/locations/" + loc.ID, ta},
		{b, "/service?uri=" + url.QueryEscape(uri), ""}, {b, "/organization?actor=" + url.QueryEscape(a.URL+"/actor"), ""},
		{b, "/search?q=Champ&scope=all", ""}, {b, "/admin/partners", tb},
	}
	for _, p := range pages {
		res := p.n.Do("GET", p.path, p.token, nil)
		if res.Status != 200 {
			t.Errorf("%s %s: %d", p.n.Name, p.path, res.Status)
			continue
		}
		body := res.Body
		if !bytes.Contains(body, []byte("Champ")) {
			t.Errorf("%s %s shows none of the fields: the page checks nothing", p.n.Name, p.path)
		}
		// Escaped, the payloads stay readable text (&lt;img … onerror=…):
		// what must not appear is their markup.
		for _, bad := range []string{"<script>alert", "<img src=x", `"><img`, "<svg onload", `href="javascript:`, `src="javascript:`, "</title><svg"} {
			if bytes.Contains(bytes.ToLower(body), []byte(strings.ToLower(bad))) {
				t.Errorf("%s %s lets %q through", p.n.Name, p.path, bad)
			}
		}
	}
	// JSON answers carry the text as text, escaped for JSON in HTML.
	var api map[string]any
	if err := json.Unmarshal(a.Do("GET", "/api/v1/services/"+created.ID, "", nil).Body, &api); err != nil || api["name"] != field(1) {
		t.Errorf("the API does not give the name as written: %v %v", err, api["name"])
	}
}
