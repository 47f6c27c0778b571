package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// hsdsSchemas is the official HSDS 3.0 schema directory, kept in the
// repository with its licence (directory/testdata/hsds/README.md).
const hsdsSchemas = "../directory/testdata/hsds/schema"

func compileSchema(t *testing.T, rel string) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(hsdsSchemas, rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("HSDS schema %s not found in the repository: %v", rel, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", rel, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, what string, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", what, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s does not validate against HSDS 3.0: %v\n%s", what, err, doc)
	}
}

// validatePage checks the HSDS Page envelope and each item of contents.
func validatePage(t *testing.T, item *jsonschema.Schema, what string, doc []byte, wantItems int) {
	t.Helper()
	var page struct {
		TotalItems *int              `json:"total_items"`
		TotalPages *int              `json:"total_pages"`
		PageNumber *int              `json:"page_number"`
		Size       *int              `json:"size"`
		FirstPage  *bool             `json:"first_page"`
		LastPage   *bool             `json:"last_page"`
		Empty      *bool             `json:"empty"`
		Contents   []json.RawMessage `json:"contents"`
	}
	if err := json.Unmarshal(doc, &page); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if page.TotalItems == nil || page.TotalPages == nil || page.PageNumber == nil || page.Size == nil ||
		page.FirstPage == nil || page.LastPage == nil || page.Empty == nil || page.Contents == nil {
		t.Fatalf("%s: Page envelope incomplete: %s", what, doc)
	}
	if len(page.Contents) != wantItems || *page.Size != wantItems {
		t.Errorf("%s: %d items (size %d), want %d", what, len(page.Contents), *page.Size, wantItems)
	}
	for i, c := range page.Contents {
		validate(t, item, fmt.Sprintf("%s contents[%d]", what, i), c)
	}
}

func TestHSDSOutputValidates(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	admin := n.AdminToken()
	org := `{"name": "Maison de quartier", "description": "Un lieu", "website": "https://maison.example.be",
	  "email": "info@maison.example.be", "phones": [{"number": "+32 2 555 00 00"}],
	  "organization_identifiers": [{"identifier_scheme": "BE-BCE_KBO", "identifier_type": "enterprise number", "identifier": "0403.170.701"}],
	  "translations": {"nl": {"name": "Buurthuis", "description": "Een plek"}}}`
	if resp := n.Do("PUT", "/api/v1/organization", admin, org); resp.Status != http.StatusOK {
		t.Fatalf("put organization: %d %s", resp.Status, resp.Body)
	}
	loc := `{"name": "Accueil", "latitude": 50.83, "longitude": 4.34,
	  "addresses": [{"address_1": "Rue de la Victoire 96", "city": "Saint-Gilles", "postal_code": "1060", "country": "BE"}],
	  "accessibility": [{"description": "Entrée de plain-pied"}]}`
	resp := n.Do("POST", "/api/v1/locations", admin, loc)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create location: %d %s", resp.Status, resp.Body)
	}
	var l struct{ ID string }
	resp.JSON(t, &l)
	body := strings.Replace(serviceBody, `"status"`, `"service_at_locations": [{"location_id": "`+l.ID+`"}], "url": "https://maison.example.be/epicerie", "email": "epicerie@maison.example.be", "status"`, 1)
	resp = n.Do("POST", "/api/v1/services", admin, body)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create service: %d %s", resp.Status, resp.Body)
	}
	var s struct {
		ID             string `json:"id"`
		OrganizationID string `json:"organization_id"`
	}
	resp.JSON(t, &s)
	n.Do("POST", "/api/v1/services", admin, `{"name": "Cours de français", "status": "active", "categories": ["lecture-ecriture-calcul--maitriser-le-francais"]}`)

	service := compileSchema(t, "compiled/service.json")
	serviceList := compileSchema(t, "compiled/service_list.json")
	organization := compileSchema(t, "compiled/organization.json")
	organizationList := compileSchema(t, "compiled/organization_list.json")
	taxonomy := compileSchema(t, "taxonomy.json")
	term := compileSchema(t, "taxonomy_term.json")

	get := func(path string) []byte {
		t.Helper()
		resp := n.Do("GET", path, "", nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.Status, resp.Body)
		}
		return resp.Body
	}

	var root map[string]string
	json.Unmarshal(get("/hsds/"), &root)
	if root["version"] != "3.0" || root["openapi_url"] == "" {
		t.Errorf("GET /hsds/ = %v", root)
	}
	for _, lang := range []string{"fr", "nl", "en"} {
		validate(t, service, "service ("+lang+")", get("/hsds/services/"+s.ID+"?lang="+lang))
		validatePage(t, serviceList, "services page ("+lang+")", get("/hsds/services?lang="+lang), 2)
	}
	full := get("/hsds/services/" + s.ID)
	for _, want := range []string{`"service_at_locations"`, `"latitude":50.83`, `"organization":{`, `"taxonomy_term":{`} {
		if !bytes.Contains(full, []byte(want)) {
			t.Errorf("full service lacks %s", want)
		}
	}
	validatePage(t, serviceList, "services by term", get("/hsds/services?taxonomy_term_id=equipement-et-alimentation"), 1)
	// The search index follows the store a moment after each write.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if bytes.Contains(n.Do("GET", "/api/v1/search?q=epicerie&scope=local", "", nil).Body, []byte(`"total":1`)) {
			break
		}
	}
	validatePage(t, serviceList, "services search", get("/hsds/services?search=epicerie"), 1)
	validatePage(t, serviceList, "services modified later", get("/hsds/services?modified_after=2999-01-01"), 0)
	validatePage(t, serviceList, "services page 2", get("/hsds/services?per_page=1&page=2"), 1)
	validate(t, organization, "organization", get("/hsds/organizations/"+s.OrganizationID))
	validatePage(t, organizationList, "organizations", get("/hsds/organizations"), 1)
	validatePage(t, taxonomy, "taxonomies", get("/hsds/taxonomies"), 1)
	validatePage(t, term, "taxonomy terms", get("/hsds/taxonomy_terms?per_page=500"), 85)

	var terms struct{ Contents []struct{ ID string } }
	json.Unmarshal(get("/hsds/taxonomy_terms?search=alimentation"), &terms)
	if len(terms.Contents) == 0 {
		t.Fatal("taxonomy term search found nothing for alimentation")
	}
	validate(t, term, "taxonomy term", get("/hsds/taxonomy_terms/"+terms.Contents[0].ID))

	for path, want := range map[string]int{
		"/hsds/services/00000000-0000-4000-8000-000000000000": 404,
		"/hsds/services?per_page=0":                           400,
		"/hsds/services?taxonomy_term_id=nothing":             400,
		"/hsds/services?modified_after=yesterday":             400,
	} {
		if resp := n.Do("GET", path, "", nil); resp.Status != want {
			t.Errorf("GET %s = %d, want %d", path, resp.Status, want)
		}
	}
}

// The unfiltered list reads only its page's services: the same pages,
// totals and flags as the filtered path that reads them all (a filter
// every service passes).
func TestHSDSServicesPages(t *testing.T) {
	n := nodetest.Start(t, 1, nodetest.Options{})[0]
	tok := n.AdminToken()
	for i := range 7 {
		if r := n.Do("POST", "/api/v1/services", tok, fmt.Sprintf(`{"name": "Service %d", "status": "active"}`, i)); r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
	}
	type page struct {
		TotalItems int  `json:"total_items"`
		TotalPages int  `json:"total_pages"`
		PageNumber int  `json:"page_number"`
		Size       int  `json:"size"`
		FirstPage  bool `json:"first_page"`
		LastPage   bool `json:"last_page"`
		Empty      bool `json:"empty"`
		Contents   []struct{ ID string }
	}
	for p := 1; p <= 4; p++ {
		var fast, slow page
		n.Do("GET", fmt.Sprintf("/hsds/services?per_page=3&page=%d", p), "", nil).JSON(t, &fast)
		n.Do("GET", fmt.Sprintf("/hsds/services?per_page=3&page=%d&modified_after=2000-01-01T00:00:00Z", p), "", nil).JSON(t, &slow)
		if fmt.Sprint(fast) != fmt.Sprint(slow) {
			t.Errorf("page %d: %+v, reading all: %+v", p, fast, slow)
		}
		if want := min(3, max(0, 7-(p-1)*3)); len(fast.Contents) != want || fast.TotalItems != 7 {
			t.Errorf("page %d: %d services of %d", p, len(fast.Contents), fast.TotalItems)
		}
	}
}
