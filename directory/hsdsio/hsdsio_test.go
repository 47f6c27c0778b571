package hsdsio

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
)

// Ids that are not UUIDs are mapped as documented, so that other tools
// can compute them: the expected values come from Python's
// uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_DNS, "maillage import"), "service:42").
func TestImportMapID(t *testing.T) {
	tests := []struct{ kind, in, want string }{
		{KindService, "42", "6c44e036-e34c-5f1b-8771-6278eb158300"},
		{KindLocation, "42", "492ec9eb-2bf5-5387-9c5a-f7a60ae65ebb"},
		{KindService, "AC148810-D857-441C-9679-408F346DE14B", "ac148810-d857-441c-9679-408f346de14b"},
		{KindService, " ac148810-d857-441c-9679-408f346de14b ", "ac148810-d857-441c-9679-408f346de14b"},
		{KindService, "", ""},
	}
	for _, tt := range tests {
		if got := MapID(tt.kind, tt.in); got != tt.want {
			t.Errorf("MapID(%q, %q) = %q, want %q", tt.kind, tt.in, got, tt.want)
		}
	}
}

func TestImportParseHours(t *testing.T) {
	slot := func(d time.Weekday, o, c directory.Clock) directory.Slot {
		return directory.Slot{Day: d, Opens: o, Closes: c}
	}
	tests := []struct {
		in       string
		want     directory.Schedule
		problems []string // substrings, one per problem
	}{
		{in: "lun-ven 9h-12h, 13h30-17h", want: directory.Schedule{Weekly: []directory.Slot{
			slot(1, 540, 720), slot(1, 810, 1020), slot(2, 540, 720), slot(2, 810, 1020), slot(3, 540, 720), slot(3, 810, 1020),
			slot(4, 540, 720), slot(4, 810, 1020), slot(5, 540, 720), slot(5, 810, 1020)}}},
		{in: "du lundi au mercredi de 9h à 12h; samedi 10:00-12:00", want: directory.Schedule{Weekly: []directory.Slot{
			slot(1, 540, 720), slot(2, 540, 720), slot(3, 540, 720), slot(6, 600, 720)}}},
		{in: "ma, wo, vr 09:00-12:00", want: directory.Schedule{Weekly: []directory.Slot{slot(1, 540, 720), slot(3, 540, 720), slot(5, 540, 720)}}},
		{in: "ma-je 14h-16h", want: directory.Schedule{Weekly: []directory.Slot{slot(2, 840, 960), slot(3, 840, 960), slot(4, 840, 960)}}},
		{in: "MO,WE 9-12\nsat-sun 10h-11h", want: directory.Schedule{Weekly: []directory.Slot{slot(1, 540, 720), slot(3, 540, 720), slot(6, 600, 660), slot(0, 600, 660)}}},
		{in: "vendredi-lundi 20h-24h", want: directory.Schedule{Weekly: []directory.Slot{slot(5, 1200, 1440), slot(6, 1200, 1440), slot(0, 1200, 1440), slot(1, 1200, 1440)}}},
		{in: "lundi 9h-12h; dimanche fermé; 2026-12-25 fermé; 2026-12-24 9h-12h", want: directory.Schedule{
			Weekly:     []directory.Slot{slot(1, 540, 720)},
			Exceptions: []directory.Exception{{Date: "2026-12-25", Closed: true}, {Date: "2026-12-24", Hours: []directory.Span{{Opens: 540, Closes: 720}}}}}},
		{in: "", want: directory.Schedule{}},
		{in: "ma 9h-12h", problems: []string{`"ma" is a day in French and another in Dutch`}},
		{in: "lun 9h-12h; blurb 10h-11h", want: directory.Schedule{Weekly: []directory.Slot{slot(1, 540, 720)}},
			problems: []string{`"blurb" is not a day`}},
		{in: "lun 9h-25h", problems: []string{`"25h" is not a time of day`}},
		{in: "lun 9h", problems: []string{`"9h" is not a period`}},
		{in: "lundi", problems: []string{"no opening hours"}},
		{in: "9h-12h", problems: []string{"say which days"}},
		{in: "2026-02-30 fermé", problems: []string{"2026-02-30 is not a date"}},
	}
	for _, tt := range tests {
		got, problems := ParseHours(tt.in)
		if len(tt.problems) == 0 && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseHours(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if len(problems) != len(tt.problems) {
			t.Errorf("ParseHours(%q) problems = %q, want %d like %q", tt.in, problems, len(tt.problems), tt.problems)
			continue
		}
		for i, want := range tt.problems {
			if !strings.Contains(problems[i], want) {
				t.Errorf("ParseHours(%q) problem %d = %q, want it to say %q", tt.in, i, problems[i], want)
			}
		}
	}
}

// readAll reads every record of a file written in a temporary directory.
func readAll(t *testing.T, name, content string, opts ReadOptions) ([]*Record, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	var out []*Record
	err = src.Read(nil, func(r *Record) error { out = append(out, r); return nil })
	return out, err
}

// problemsOf lists a record's problems as "field: message".
func problemsOf(r *Record) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, r.field(p.Field)+": "+p.Message)
	}
	return out
}

// The spreadsheet template as Excel writes it with a French locale: a
// byte order mark, ";" between cells, French headers.
func TestImportTemplateFrenchSpreadsheet(t *testing.T) {
	csv := "\ufeffRéférence;Nom;Naam;Thématiques;Publics;Langues;Tarif;Adresse;Code postal;Commune;Latitude;Longitude;Téléphone;Courriel;Site web;Horaires\n" +
		"1;Épicerie sociale;Sociale kruidenier;Alimentation;Familles, Séniors;fra, nl;Gratuit;Rue de la Victoire 96;1060;Saint-Gilles;50,8291;4,3449;02/555.12.34;epicerie@maison.example.be;https://maison.example.be;lun-ven 9h-12h\n" +
		";;;;;;;;;;;;;;;\n" +
		"2;Cours de français;;Maîtriser le français;tous-publics;fr;payant;rue de la victoire 96;1060;saint-gilles;50,8291;4,3449;;;;mardi 18h-20h\n"
	recs, err := readAll(t, "services.csv", csv, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("got %d records, want location+service twice (the empty row skipped)", len(recs))
	}
	for _, r := range recs {
		if len(r.Problems) > 0 {
			t.Errorf("%s %s: problems %q", r.Where, r.name(), problemsOf(r))
		}
	}
	loc, svc := recs[0].Location, recs[1].Service
	if recs[0].Where != "services.csv line 2" || recs[3].Where != "services.csv line 4" {
		t.Errorf("where = %q, %q; want the lines of the rows", recs[0].Where, recs[3].Where)
	}
	if svc.ID != MapID(KindService, "1") || svc.Name[directory.FR] != "Épicerie sociale" || svc.Name[directory.NL] != "Sociale kruidenier" {
		t.Errorf("service = %s %v", svc.ID, svc.Name)
	}
	if !reflect.DeepEqual(svc.Categories, []string{"equipement-et-alimentation--alimentation"}) ||
		!reflect.DeepEqual(svc.Audiences, []string{"familles", "seniors"}) || !reflect.DeepEqual(svc.Languages, []string{"fr", "nl"}) ||
		svc.Fee != "gratuit" || len(svc.Phones) != 1 || svc.Phones[0].Number != "02/555.12.34" || len(svc.Schedule.Weekly) != 5 {
		t.Errorf("service vocabulary and contacts = %+v", svc)
	}
	if loc.Point == nil || loc.Point.Lat != 50.8291 || loc.Address.Postcode != "1060" || loc.Address.Country != "BE" || loc.Name[directory.FR] != "Rue de la Victoire 96" {
		t.Errorf("location = %+v", loc)
	}
	// The second row's place is the same address, written otherwise.
	if recs[2].Location.ID != loc.ID || !reflect.DeepEqual(recs[3].Service.Locations, []string{loc.ID}) {
		t.Errorf("second row's location %s, want the first row's %s", recs[2].Location.ID, loc.ID)
	}
}

// Problems name the column as the sheet writes it, on the row's line.
func TestImportTemplateProblemsNameColumns(t *testing.T) {
	csv := "id,nom,description_en,categories,languages,fee,email,website,téléphone,horaires,adresse,latitude\n" +
		"a,Épicerie,ok,nothing,french,cher,not-an-email,www.example.be,abc,lun 9h,Rue Haute 1,95\n" +
		"b,,,,,,,,,,,\n"
	recs, err := readAll(t, "sheet.csv", csv, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range recs {
		got[r.Where+" "+r.Kind] = append(got[r.Where+" "+r.Kind], problemsOf(r)...)
	}
	want := map[string][]string{
		"sheet.csv line 2 location": {"latitude: latitude and longitude go together"},
		"sheet.csv line 2 service": {
			`categories: "nothing" is not a code or a label of the shared taxonomy`,
			`fee: "cher" is not a code or a label of the shared taxonomy`,
			`horaires: "lun 9h": "9h" is not a period like 9h-12h`,
			`website: must be an absolute http or https URL`,
			`email: "not-an-email" is not an email address`,
			`téléphone: "abc" is not a phone number`,
			`languages: "french" is not a two-letter ISO 639-1 language code`,
		},
		"sheet.csv line 3 service": {"nom: is required in at least one of fr, nl, en"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}

func TestImportTemplateRefusesUnknownColumns(t *testing.T) {
	_, err := readAll(t, "sheet.csv", "nom,adress,code postal\nx,y,1000\n", ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), `line 1: unknown column(s) "adress"`) {
		t.Errorf("error = %v, want the unknown column named", err)
	}
	_, err = readAll(t, "sheet.csv", "nom,name_fr\nx,y\n", ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), `columns "nom" and "name_fr" say the same`) {
		t.Errorf("error = %v, want the repeated column named", err)
	}
	_, err = readAll(t, "sheet.csv", "nom,adresse\n\"x,y\n", ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "sheet.csv line 2") {
		t.Errorf("error = %v, want the line of the broken quote", err)
	}
	_, err = readAll(t, "sheet.csv", "nom,adresse\ncaf\xe9,y\n", ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "line 2 is not UTF-8") {
		t.Errorf("error = %v, want the line that is not UTF-8", err)
	}
}

// An NDJSON file is read a line at a time: a line too long or broken is
// refused alone, and the lines after it are read.
func TestImportNDJSONLines(t *testing.T) {
	long := `{"id": "x", "name": "` + strings.Repeat("a", MaxRecord+10) + `", "status": "active"}`
	lines := []string{
		`{"id": "s1", "name": "Épicerie", "status": "active"}`,
		long,
		`{"id": "s2", "name": `,
		``,
		`{"id": "l1", "location_type": "physical", "name": "Local", "latitude": 50.8, "longitude": 4.3}`,
		`{"id": "o1", "name": "Maison", "description": "", "services": [{"id": "s3", "name": "Cours", "status": "active"}]}`,
		`{"version": "3.0"}`,
		`{"id": "s4", "name": "x", "status": "active"} {}`,
	}
	recs, err := readAll(t, "data.ndjson", strings.Join(lines, "\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		s := strings.TrimSpace(r.Where + " " + r.Kind + " " + r.SourceID)
		if len(r.Problems) > 0 {
			s += ": " + r.Problems[0].Message
		}
		got = append(got, s)
	}
	want := []string{
		"line 1 service s1",
		"line 2: is longer than 1 MiB; not read",
		"line 3: the JSON ends too early",
		"line 5 location l1",
		"line 6: services[0] service s3",
		"line 6 organization o1",
		"line 7: is not an HSDS service, location, service_at_location or organization (nor a list of them)",
		"line 8: has data after its JSON value; NDJSON holds one record a line",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records:\n got %q\nwant %q", got, want)
	}
	if recs[4].Doc == 0 || recs[4].Doc != recs[5].Doc {
		t.Errorf("the service of line 6 is not tied to its organization: docs %d, %d", recs[4].Doc, recs[5].Doc)
	}
}

// A record over MaxRecord in a JSON list stops the reading with an error
// naming it, rather than being read into memory.
func TestImportJSONRecordTooLarge(t *testing.T) {
	doc := `{"total_items": 2, "contents": [{"id": "a", "name": "x", "status": "active"}, {"id": "b", "name": "` +
		strings.Repeat("b", 3*MaxRecord) + `", "status": "active"}]}`
	recs, err := readAll(t, "page.json", doc, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "contents[1]: record larger than 1 MiB") {
		t.Errorf("error = %v, want contents[1] refused as too large", err)
	}
	if len(recs) != 1 || recs[0].SourceID != "a" {
		t.Errorf("records before the large one = %d", len(recs))
	}
	_, err = readAll(t, "two.json", `{"id": "a", "name": "x", "status": "active"}`+"\n"+`{"id": "b"}`, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "--format ndjson") {
		t.Errorf("error = %v, want a hint that the file is NDJSON", err)
	}
}

// A 100,000-line NDJSON file is read with little memory: the heap stays
// far below the file's size.
func TestImportNDJSONStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 40 MB file")
	}
	path := filepath.Join(t.TempDir(), "big.ndjson")
	var b bytes.Buffer
	desc := strings.Repeat("Colis alimentaires et produits de première nécessité. ", 5)
	for i := range 100_000 {
		fmt.Fprintf(&b, `{"id": "svc-%d", "name": "Service %d", "description": %q, "status": "active", "languages": [{"code": "fr"}]}`+"\n", i, i, desc)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	size := int64(b.Len())
	b = bytes.Buffer{}
	src, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var peak uint64
	var ms runtime.MemStats
	var read int64
	err = src.Read(func(k int64) { read += k }, func(r *Record) error {
		if n++; n%20_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		if len(r.Problems) > 0 {
			return fmt.Errorf("%s: %v", r.Where, r.Problems)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 100_000 || read != size {
		t.Errorf("read %d records and %d bytes, want 100000 and %d", n, read, size)
	}
	if peak > uint64(size/4) {
		t.Errorf("heap reached %d MB reading a %d MB file", peak>>20, size>>20)
	}
}

// HSDS tabular data in CSV files: rows of child tables are joined to
// their services and named by their file and line in problems.
func TestImportTabularDirectory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"organizations.csv":            "id,name,description,website\norg-1,Maison,Un lieu,https://maison.example.be\n",
		"organization_identifiers.csv": "id,organization_id,identifier_scheme,identifier_type,identifier\ni1,org-1,BE-BCE_KBO,enterprise number,0403.170.701\n",
		"locations.csv":                "id,location_type,name,latitude,longitude\nloc-1,physical,Accueil,50.83,4.34\n",
		"addresses.csv":                "id,location_id,address_1,address_2,city,state_province,postal_code,country,address_type\na1,loc-1,Rue Haute 1,2e étage,Bruxelles,,1000,BE,physical\na2,loc-1,BP 12,,Bruxelles,,1000,BE,postal\n",
		"services.csv":                 "id,organization_id,name,status,minimum_age\nsvc-1,org-1,Épicerie,active,12\nsvc-2,org-1,Cours,active,douze\n",
		"phones.csv":                   "id,service_id,organization_id,contact_id,number\np1,svc-1,,,+32 2 555 12 34\np2,svc-1,,c1,+32 470 00 00 00\np3,,org-1,,+32 2 555 00 00\n",
		"schedules.csv":                "id,service_id,freq,byday,opens_at,closes_at\nsc1,svc-1,WEEKLY,\"MO,TU\",09:00,12:00\nsc2,svc-2,WEEKLY,MO,9h,12:00\n",
		"service_at_location.csv":      "id,service_id,location_id\nsal1,svc-1,loc-1\n",
		"languages.csv":                "id,service_id,code\nl1,svc-1,fra\n",
		"taxonomy_terms.csv":           "id,code,name,description\nt1,equipement-et-alimentation--alimentation,Alimentation,\n",
		"attributes.csv":               "id,link_id,taxonomy_term_id,link_type\nat1,svc-1,t1,service\n",
		"contacts.csv":                 "id,name\nc1,Ann Persona\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Open(dir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []*Record
	var read int64
	if err := src.Read(func(n int64) { read += n }, func(r *Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	all := 0
	for _, content := range files {
		all += len(content)
	}
	if size := src.Size(); read != size || size != int64(all-len(files["contacts.csv"])) {
		t.Errorf("read %d bytes of %d (%d in all): want each table once, contacts.csv never", read, size, all)
	}
	if len(recs) != 4 {
		t.Fatalf("got %d records, want organization, location and two services", len(recs))
	}
	org, loc, s1, s2 := recs[0], recs[1], recs[2], recs[3]
	for _, r := range recs[:3] {
		if len(r.Problems) > 0 {
			t.Errorf("%s: %q", r.Where, problemsOf(r))
		}
	}
	if o := org.Organization; o.ID != MapID(KindOrganization, "org-1") || len(o.Phones) != 1 || o.Phones[0].Number != "+32 2 555 00 00" ||
		len(o.Identifiers) != 1 || o.Identifiers[0].Value != "0403.170.701" {
		t.Errorf("organization = %+v", o)
	}
	if l := loc.Location; l.Address.Street != "Rue Haute 1, 2e étage" || l.Point == nil || len(loc.Notes) != 1 {
		t.Errorf("location = %+v, notes %v; want the physical address kept, the postal one noted", l, loc.Notes)
	}
	s := s1.Service
	if s.ID != MapID(KindService, "svc-1") || *s.MinimumAge != 12 || len(s.Phones) != 1 || len(s.Schedule.Weekly) != 2 ||
		!reflect.DeepEqual(s.Languages, []string{"fr"}) || !reflect.DeepEqual(s.Categories, []string{"equipement-et-alimentation--alimentation"}) ||
		!reflect.DeepEqual(s.Locations, []string{MapID(KindLocation, "loc-1")}) || s1.Org != org.Organization.ID {
		t.Errorf("service = %+v", s)
	}
	want := []string{`minimum_age: "douze" is not a whole number`, `schedules[0].opens_at (schedules.csv line 3): time "9h" is not HH:MM`}
	if got := problemsOf(s2); !reflect.DeepEqual(got, want) {
		t.Errorf("problems of services.csv line 3 = %q, want %q", got, want)
	}
	if s2.Where != "services.csv line 3" {
		t.Errorf("where = %q", s2.Where)
	}
}
