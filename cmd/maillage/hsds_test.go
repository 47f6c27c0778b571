package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/hsdsio"
	"github.com/maillage/maillage/directory/sample"
	"github.com/maillage/maillage/web/account"
)

// hsdsDir is the official HSDS 3.0 reference, kept in the repository with
// its licence (directory/testdata/hsds/README.md).
const hsdsDir = "../../directory/testdata/hsds"

var testNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// openTestNode creates a node in a temporary directory and opens it as
// the offline commands do, with a stopped clock.
func openTestNode(t *testing.T) *node.Node {
	t.Helper()
	now := func() time.Time { return testNow }
	dir := filepath.Join(t.TempDir(), "node")
	err := node.Init(context.Background(), dir, node.InitParams{BaseURL: "http://maison.test", Name: "Maison de quartier", Handle: "maison",
		AdminEmail: "admin@maison.test", AdminPassword: "correct-horse-battery", Now: now,
		Params: account.Params{Time: 1, MemKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(node.Config{DataDir: dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func testCLI() (*cli, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cli{stdout: &out, stderr: &errb, now: func() time.Time { return testNow }}, &out, &errb
}

// importInto runs the import command's work on an open node.
func importInto(t *testing.T, n *node.Node, path string, o importOptions) (report string, err error) {
	t.Helper()
	if o.lang == "" {
		o.lang = "fr"
	}
	c, out, _ := testCLI()
	err = runImport(context.Background(), c, n, path, o)
	return out.String(), err
}

func serviceIDs(t *testing.T, n *node.Node) []string {
	t.Helper()
	var ids []string
	err := n.Catalog.ForEachService(context.Background(), func(s *directory.Service) error {
		ids = append(ids, s.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func wantLines(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// Each official HSDS example is imported, or refused for the reason it
// has: the examples carry a latitude of 100, phone numbers in quotes and
// weekly schedules limited to some weeks, which the model cannot hold.
func TestImportOfficialExamples(t *testing.T) {
	const (
		svcID = "ac148810-d857-441c-9679-408f346de14b"
		orgID = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
	)
	latitude := `location "3a19ff88-4620-4d17-9830-ac1d859eb5d5": latitude: 100 is outside -90..90`
	phone := `phones[0].number: "\"+44 1234 234567\"" is not a phone number`
	schedule := `schedules[0].byweekno: a weekly rule limited to some weeks or days of the month or year cannot be held`
	until := `schedules[0].until: a weekly rule that ends (2005-01-01) cannot be held`
	locRefused := `service_at_locations[0].location_id: location 3a19ff88-4620-4d17-9830-ac1d859eb5d5 is refused`
	notRecord := "is not an HSDS service, location, service_at_location or organization"
	taxonomy := "is a taxonomy or a taxonomy term: the network shares one taxonomy"
	tests := []struct {
		file     string
		services int // on the node after the import
		refused  bool
		want     []string
	}{
		{"service_list.json", 1, false, []string{"services: 1 created, 0 updated, 0 unchanged, 0 refused", "organization: updated",
			"the association now has the file's id " + orgID}},
		{"organization_list.json", 0, false, []string{"services: 0 created", "organization: updated"}},
		{"service_full.json", 0, true, []string{
			"refused: service_at_locations[0].location: " + latitude,
			`refused: organization: organization "` + orgID + `": ` + phone,
			`refused: document: service "` + svcID + `": ` + until,
			`refused: document: service "` + svcID + `": ` + schedule,
			`refused: document: service "` + svcID + `": ` + phone,
			`refused: document: service "` + svcID + `": ` + locRefused,
			"services: 0 created, 0 updated, 0 unchanged, 1 refused", "locations: 0 created, 0 updated, 0 unchanged, 1 refused", "organization: refused"}},
		{"organization_full.json", 0, true, []string{
			"refused: locations[0]: " + latitude,
			`refused: organization: organization "` + orgID + `": ` + phone,
			`refused: services[0]: service "` + svcID + `": ` + schedule,
			`refused: services[0]: service "` + svcID + `": ` + locRefused,
			"services: 0 created, 0 updated, 0 unchanged, 1 refused", "locations: 0 created, 0 updated, 0 unchanged, 1 refused"}},
		{"service_at_location_full.json", 0, true, []string{
			"refused: service.service_at_locations[0].location: " + latitude,
			`refused: service: service "` + svcID + `": ` + locRefused}},
		{"service_at_location_list.json", 0, true, []string{
			"refused: contents[0].service.service_at_locations[0].location: " + latitude,
			`refused: contents[0].service: service "` + svcID + `": ` + locRefused,
			"services: 0 created, 0 updated, 0 unchanged, 1 refused", "organization: updated"}},
		{"tabular.json", 0, true, []string{
			"refused: locations.csv[0]: " + latitude,
			`refused: services.csv[0]: service "` + svcID + `": schedules[0].until (schedules.csv[0]): a weekly rule that ends`,
			`refused: services.csv[0]: service "` + svcID + `": service_at_locations[0].location_id (service_at_location.csv[0]): location 3a19ff88-4620-4d17-9830-ac1d859eb5d5 is refused`,
			"organization: updated"}},
		{"location.json", 0, true, []string{"refused: document: " + latitude, "locations: 0 created, 0 updated, 0 unchanged, 1 refused"}},
		{"base.json", 0, true, []string{"refused: document: " + notRecord, "other records: 1 refused"}},
		{"taxonomy.json", 0, true, []string{"refused: document: " + taxonomy}},
		{"taxonomy_term.json", 0, true, []string{"refused: document: " + taxonomy}},
		{"taxonomy_list.json", 0, true, []string{"refused: contents[0]: " + taxonomy}},
		{"taxonomy_term_list.json", 0, true, []string{"refused: contents[0]: " + taxonomy}},
	}
	examples, _ := filepath.Glob(filepath.Join(hsdsDir, "examples", "*.json"))
	if len(examples) == 0 {
		t.Fatalf("no HSDS examples in %s: the fixtures are missing from the repository", hsdsDir)
	}
	if len(examples) != len(tests) {
		t.Errorf("%d examples in %s, %d tested: add the new ones", len(examples), hsdsDir, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			n := openTestNode(t)
			report, err := importInto(t, n, filepath.Join(hsdsDir, "examples", tt.file), importOptions{lang: "en"})
			if refused := err != nil && strings.Contains(err.Error(), "refused"); refused != tt.refused {
				t.Errorf("import error = %v, want refusals %v", err, tt.refused)
			}
			wantLines(t, "report", report, tt.want...)
			if got := len(serviceIDs(t, n)); got != tt.services {
				t.Errorf("%d services on the node, want %d", got, tt.services)
			}
		})
	}

	// With their coordinates, phone numbers and schedules mended, the
	// full examples import, with notes on what the model leaves out.
	for _, tt := range []struct{ file, where string }{{"service_full.json", "document"}, {"organization_full.json", "services[0]"}} {
		t.Run("mended "+tt.file, func(t *testing.T) {
			path := mendExample(t, tt.file)
			n := openTestNode(t)
			report, err := importInto(t, n, path, importOptions{lang: "en"})
			if err != nil {
				t.Fatalf("%v\n%s", err, report)
			}
			wantLines(t, "report", report, "services: 1 created, 0 updated, 0 unchanged, 0 refused",
				"locations: 1 created, 0 updated, 0 unchanged, 0 refused", "organization: updated",
				`note: `+tt.where+`: service "`+svcID+`": attributes[0]: taxonomy term "code" (taxonomy) is not a category of the shared taxonomy; left out`,
				`note: `+tt.where+`: service "`+svcID+`": service_areas[0].extent: a geojson extent is not held; its name and description are kept as text`)
			s, err := n.Catalog.Service(context.Background(), svcID)
			if err != nil {
				t.Fatal(err)
			}
			l, err := n.Catalog.Location(context.Background(), "3a19ff88-4620-4d17-9830-ac1d859eb5d5")
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Schedule.Weekly) != 2 || s.Schedule.Weekly[0].Day != time.Thursday || s.Schedule.Weekly[1].Opens != 600 ||
				s.Phones[0].Number != "+44 1234 234567" || len(s.Languages) != 1 || s.Languages[0] != "ur" ||
				!strings.HasPrefix(s.Area.Description[directory.EN], "The service is available to all residents of the MyCity area.") ||
				len(s.Categories) != 0 || len(s.Locations) != 1 {
				t.Errorf("service = %+v", s)
			}
			if l.Address.Street != "1-30 Main Street, MyVillage" || l.Address.Country != "US" || l.Point == nil || l.Point.Lat != 50.84 {
				t.Errorf("location = %+v", l)
			}
		})
	}

	// What the service list brings, field by field.
	n := openTestNode(t)
	if _, err := importInto(t, n, filepath.Join(hsdsDir, "examples", "service_list.json"), importOptions{lang: "en"}); err != nil {
		t.Fatal(err)
	}
	s, err := n.Catalog.Service(context.Background(), svcID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name[directory.EN] != "Community Counselling" || s.Name[directory.FR] != "" || *s.MinimumAge != 12 || *s.MaximumAge != 100 ||
		s.Email != "email@example.com" || s.URL != "http://example.com/counselling" || s.Status != directory.StatusActive || s.OrganizationID != orgID {
		t.Errorf("imported service = %+v", s)
	}
	org, _ := n.Catalog.Organization(context.Background())
	if org.ID != orgID || org.Name[directory.EN] != "Example Organization Inc." || org.LegalStatus != "Limited Company" {
		t.Errorf("organization = %+v", org)
	}
}

// The shipped template imports, and importing it again changes nothing;
// an edited row updates its service only.
func TestImportTemplateTwice(t *testing.T) {
	n := openTestNode(t)
	template := filepath.Join("docs", "import-template.csv")
	report, err := importInto(t, n, template, importOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, report)
	}
	wantLines(t, "first import", report, "services: 3 created, 0 updated, 0 unchanged, 0 refused", "locations: 2 created, 0 updated, 0 unchanged, 0 refused")
	report, err = importInto(t, n, template, importOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "second import", report, "services: 0 created, 0 updated, 3 unchanged, 0 refused", "locations: 0 created, 0 updated, 2 unchanged, 0 refused")
	if ids := serviceIDs(t, n); len(ids) != 3 {
		t.Fatalf("%d services after two imports, want 3", len(ids))
	}
	s, err := n.Catalog.Service(context.Background(), hsdsio.MapID(hsdsio.KindService, "epicerie"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Schedule.Weekly) != 11 || len(s.Schedule.Exceptions) != 1 || !s.Schedule.Exceptions[0].Closed ||
		s.Schedule.Notes[directory.NL] != "'s Namiddags op afspraak" || s.Phones[0].Number != "+32 2 555 12 34" ||
		len(s.Languages) != 3 || s.Eligibility[directory.NL] != "Wonen in Sint-Gillis" {
		t.Errorf("épicerie = %+v", s)
	}
	perm, _ := n.Catalog.Service(context.Background(), hsdsio.MapID(hsdsio.KindService, "permanence"))
	if len(perm.Schedule.Weekly) != 5 || perm.Schedule.Weekly[0].Day != time.Monday {
		t.Errorf("permanence hours %+v: ma-vr in a Dutch cell is Monday to Friday", perm.Schedule.Weekly)
	}

	data, _ := os.ReadFile(template)
	edited := filepath.Join(t.TempDir(), "edited.csv")
	os.WriteFile(edited, bytes.Replace(data, []byte("lundi et mercredi 18h-20h"), []byte("lundi et jeudi 18h-20h"), 1), 0o600)
	report, err = importInto(t, n, edited, importOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "import of an edited row", report, "services: 0 created, 1 updated, 2 unchanged, 0 refused")
}

const badSheet = `id,nom,categories,téléphone,horaires,adresse,code postal,commune,latitude,longitude
1,Épicerie,alimentation,+32 2 555 12 34,lun-ven 9h-12h,Rue Haute 1,1000,Bruxelles,50.84,4.35
2,,alimentation,abc,lun 9h,Rue Haute 1,1000,Bruxelles,50.84,4.35
3,Cours,nothing,,,Rue Basse 2,10000,Bruxelles,95,4.35
4,Atelier vélo,mobilite,,mardi 14h-17h,,,,,
`

// A dry run lists every problem with its line and column and writes
// nothing; an import writes the valid rows and reports the others;
// --strict writes nothing.
func TestImportDryRunAndStrict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sheet.csv")
	os.WriteFile(path, []byte(badSheet), 0o600)
	n := openTestNode(t)
	report, err := importInto(t, n, path, importOptions{dryRun: true})
	if err == nil || err.Error() != "3 record(s) refused, listed above" {
		t.Errorf("dry run error = %v, want 3 refused", err)
	}
	wantLines(t, "dry run", report,
		`refused: sheet.csv line 3: service "2": nom: is required in at least one of fr, nl, en`,
		`refused: sheet.csv line 3: service "2": horaires: "lun 9h": "9h" is not a period like 9h-12h`,
		`refused: sheet.csv line 3: service "2": téléphone: "abc" is not a phone number`,
		`refused: sheet.csv line 4: location "Rue Basse 2": code postal: "10000" is not a Belgian postcode (4 digits)`,
		`refused: sheet.csv line 4: location "Rue Basse 2": latitude: 95 is outside -90..90`,
		`refused: sheet.csv line 4: service "3": categories: "nothing" is not a code or a label of the shared taxonomy`,
		`refused: sheet.csv line 4: service "3": adresse: location `,
		"dry run: nothing was written",
		"services: 2 to create, 0 to update, 0 unchanged, 2 refused",
		"locations: 1 to create, 0 to update, 0 unchanged, 1 refused")
	if ids := serviceIDs(t, n); len(ids) != 0 {
		t.Fatalf("a dry run wrote %d services", len(ids))
	}

	report, err = importInto(t, n, path, importOptions{strict: true})
	if err == nil {
		t.Error("--strict import with problems did not fail")
	}
	wantLines(t, "strict", report, "--strict: nothing was written, as 3 record(s) have problems")
	if ids := serviceIDs(t, n); len(ids) != 0 {
		t.Fatalf("--strict wrote %d services", len(ids))
	}

	report, err = importInto(t, n, path, importOptions{})
	if err == nil {
		t.Error("import with refused rows did not fail")
	}
	wantLines(t, "import", report, "services: 2 created, 0 updated, 0 unchanged, 2 refused")
	if ids := serviceIDs(t, n); len(ids) != 2 {
		t.Fatalf("%d services written, want the 2 valid rows", len(ids))
	}
}

func compileSchema(t *testing.T, rel string) *jsonschema.Schema {
	t.Helper()
	path, _ := filepath.Abs(filepath.Join(hsdsDir, "schema", rel))
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", rel, err)
	}
	return s
}

func validateJSON(t *testing.T, s *jsonschema.Schema, what string, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", what, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s does not validate against HSDS 3.0: %v", what, err)
	}
}

// seedSample gives a node an association profile, locations and services
// as an association would enter them.
func seedSample(t *testing.T, n *node.Node) {
	t.Helper()
	ctx := context.Background()
	org, _ := n.Catalog.Organization(ctx)
	org.Name = directory.T(directory.FR, "Maison de quartier Midi", directory.NL, "Buurthuis Zuid")
	org.Description = directory.T(directory.FR, "Maison de quartier à Saint-Gilles.")
	org.Identifiers = []directory.Identifier{{Scheme: directory.SchemeBCE, Value: "0403.170.701"}}
	org.Phones = []directory.Phone{{Number: "+32 2 555 00 00", Description: directory.T(directory.FR, "Accueil", directory.NL, "Onthaal")}}
	org.Website = "https://midi.example.be"
	if _, err := n.Catalog.UpdateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	g := sample.New(7)
	var locs []string
	for range 4 {
		l, err := n.Catalog.CreateLocation(ctx, g.Location())
		if err != nil {
			t.Fatal(err)
		}
		locs = append(locs, l.ID)
	}
	for i := range 30 {
		if _, err := n.Catalog.CreateService(ctx, g.Service(locs[i%len(locs)])); err != nil {
			t.Fatal(err)
		}
	}
}

func exportOf(t *testing.T, n *node.Node, opts hsdsio.ExportOptions) []byte {
	t.Helper()
	c, out, _ := testCLI()
	if err := runExport(context.Background(), c, n, "", opts); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Export writes HSDS that validates against the official schemas; an
// empty node that imports it exports the same bytes again.
func TestExportImportRoundTrip(t *testing.T) {
	a := openTestNode(t)
	seedSample(t, a)
	for _, format := range []hsdsio.Format{hsdsio.FormatJSON, hsdsio.FormatNDJSON} {
		t.Run(string(format), func(t *testing.T) {
			first := exportOf(t, a, hsdsio.ExportOptions{Format: format})
			if format == hsdsio.FormatJSON {
				validateJSON(t, compileSchema(t, "compiled/organization.json"), "export", first)
				var doc struct {
					Locations []json.RawMessage `json:"locations"`
					Services  []struct {
						Schedules  []json.RawMessage `json:"schedules"`
						Attributes []json.RawMessage `json:"attributes"`
					} `json:"services"`
				}
				json.Unmarshal(first, &doc)
				if len(doc.Locations) != 4 || len(doc.Services) != 30 || len(doc.Services[0].Schedules) == 0 || len(doc.Services[0].Attributes) == 0 {
					t.Errorf("export holds %d locations and %d services (schedules and taxonomy: %+v)", len(doc.Locations), len(doc.Services), doc.Services[0])
				}
			} else {
				service, org := compileSchema(t, "compiled/service.json"), compileSchema(t, "compiled/organization.json")
				location := compileSchema(t, "location.json")
				sc := bufio.NewScanner(bytes.NewReader(first))
				sc.Buffer(nil, 1<<20)
				lines := 0
				for sc.Scan() {
					lines++
					switch {
					case lines == 1:
						validateJSON(t, org, "line 1", sc.Bytes())
					case lines <= 5:
						validateJSON(t, location, "location line", sc.Bytes())
					default:
						validateJSON(t, service, "service line", sc.Bytes())
					}
				}
				if lines != 35 {
					t.Errorf("NDJSON export has %d lines, want 1 + 4 + 30", lines)
				}
			}
			path := filepath.Join(t.TempDir(), "export."+string(format))
			os.WriteFile(path, first, 0o600)

			b := openTestNode(t)
			report, err := importInto(t, b, path, importOptions{})
			if err != nil {
				t.Fatalf("import of the export: %v\n%s", err, report)
			}
			wantLines(t, "import of the export", report, "services: 30 created, 0 updated, 0 unchanged, 0 refused",
				"locations: 4 created, 0 updated, 0 unchanged, 0 refused", "organization: updated", "the association now has the file's id")
			second := exportOf(t, b, hsdsio.ExportOptions{Format: format})
			if !bytes.Equal(first, second) {
				t.Errorf("export → import → export differs:\n%s", firstDifference(first, second))
			}
			report, err = importInto(t, b, path, importOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantLines(t, "second import of the export", report, "services: 0 created, 0 updated, 30 unchanged, 0 refused",
				"locations: 0 created, 0 updated, 4 unchanged, 0 refused", "organization: unchanged")
		})
	}
}

// mendExample writes a copy of an official example with what the model
// refuses mended: coordinates in range, phone numbers without quotes,
// weekly schedules without an end.
func mendExample(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(hsdsDir, "examples", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	json.Unmarshal(data, &doc)
	var mend func(v any)
	mend = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["latitude"]; ok {
				x["latitude"], x["longitude"] = 50.84, 4.35
			}
			if n, ok := x["number"].(string); ok {
				x["number"] = strings.Trim(n, `"`)
			}
			if _, ok := x["freq"]; ok {
				for _, k := range []string{"valid_to", "until", "count", "byweekno", "bymonthday", "byyearday"} {
					delete(x, k)
				}
			}
			for _, e := range x {
				mend(e)
			}
		case []any:
			for _, e := range x {
				mend(e)
			}
		}
	}
	mend(doc)
	data, _ = json.Marshal(doc)
	path := filepath.Join(t.TempDir(), file)
	os.WriteFile(path, data, 0o600)
	return path
}

func firstDifference(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return "first:  …" + string(a[from:min(len(a), i+200)]) + "\nsecond: …" + string(b[from:min(len(b), i+200)])
}

// A file holding two associations is refused unless --organization says
// which; the other's services are then skipped, not refused.
func TestImportChoosesTheOrganization(t *testing.T) {
	doc := `{"contents": [
	  {"id": "org-a", "name": "A", "description": "", "services": [{"id": "a1", "name": "Service A", "status": "active"}]},
	  {"id": "org-b", "name": "B", "description": "", "services": [{"id": "b1", "name": "Service B", "status": "active"},
	    {"id": "b2", "name": "Service B2", "status": "active", "organization_id": "org-a"}]}]}`
	path := filepath.Join(t.TempDir(), "two.json")
	os.WriteFile(path, []byte(doc), 0o600)
	n := openTestNode(t)
	_, err := importInto(t, n, path, importOptions{})
	if err == nil || !strings.Contains(err.Error(), "the file holds 2 organizations (org-a, org-b)") {
		t.Fatalf("error = %v, want the two organizations named", err)
	}
	report, err := importInto(t, n, path, importOptions{org: "org-b"})
	if err == nil {
		t.Error("b2 names another organization than the one it is listed in, and was not refused")
	}
	wantLines(t, "import of org-b", report, "services: 1 created, 0 updated, 0 unchanged, 1 refused, 1 skipped (another organization)",
		`contents[1].services[1]: service "b2": organization_id: is not the organization the service is listed in`,
		"organization: updated, skipped (another organization)")
	if ids := serviceIDs(t, n); len(ids) != 1 || ids[0] != hsdsio.MapID(hsdsio.KindService, "b1") {
		t.Errorf("services = %v, want b1 only", ids)
	}
	if _, err := importInto(t, n, path, importOptions{org: "org-c"}); err == nil || !strings.Contains(err.Error(), "no such organization") {
		t.Errorf("error = %v for an organization not in the file", err)
	}
}

// The commands on the built binary: exit codes, the dry run's report on
// stdout and progress on stderr, and a refusal while the node runs.
func TestImportExportCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	initNode(t, dir, "http://maison.test")
	sheet := filepath.Join(t.TempDir(), "sheet.csv")
	os.WriteFile(sheet, []byte(badSheet), 0o600)

	stdout, stderr, code := runCLI(t, nil, "import", "--data", dir, "--dry-run", sheet)
	if code != 1 || !strings.Contains(stdout, "refused: sheet.csv line 3") || !strings.Contains(stderr, "3 record(s) refused") ||
		!strings.Contains(stderr, "checking: ") {
		t.Errorf("dry run: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	stdout, _, code = runCLI(t, nil, "import", "--data", dir, filepath.Join("docs", "import-template.csv"))
	if code != 0 || !strings.Contains(stdout, "services: 3 created") {
		t.Errorf("import: exit %d\n%s", code, stdout)
	}
	out := filepath.Join(t.TempDir(), "export.json")
	_, stderr, code = runCLI(t, []string{"MAILLAGE_LANG=nl"}, "export", "--data", dir, "--out", out)
	data, _ := os.ReadFile(out)
	if code != 0 || !strings.Contains(stderr, "wrote 3 service(s)") || !bytes.Contains(data, []byte(`"name": "Sociale kruidenier"`)) {
		t.Errorf("export: exit %d, %s\n%.300s", code, stderr, data)
	}
	if _, stderr, code := runCLI(t, nil, "import", "--data", dir, "--format", "xml", sheet); code != 2 || !strings.Contains(stderr, "--format must be") {
		t.Errorf("bad --format: exit %d %s", code, stderr)
	}

	n, err := node.Open(node.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, stderr, code := runCLI(t, nil, "import", "--data", dir, sheet); code != 1 || !strings.Contains(stderr, "the node is running; stop it first") {
		t.Errorf("import on a running node: exit %d %s", code, stderr)
	}
}
