package hsdsio

import (
	"bytes"
	"cmp"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
)

// Fuzz targets of the import readers, fed from memory: HSDS JSON and
// NDJSON, HSDS tabular CSV files, the CSV template, and the opening hours
// of the template. Each checks that a reader never panics and returns in
// time, that an error names where in the source it is, and that a record
// read without problems validates. Run one with, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzReadJSON$' -fuzztime 10m -parallel 1 ./directory/hsdsio/

// readLimit is how long a reader may take on one fuzz input: they are
// small, and a reader that is linear in its input reads them in
// milliseconds even instrumented for fuzzing.
const readLimit = 5 * time.Second

func fuzzConverter() *converter {
	return &converter{tax: directory.DefaultTaxonomy(), lang: directory.FR, today: "2026-12-01"}
}

// recordChecker checks every record a reader emits.
type recordChecker struct {
	t   *testing.T
	tax *directory.Taxonomy
	n   int
}

func (c *recordChecker) emit(r *Record) error {
	t := c.t
	t.Helper()
	c.n++
	if r.Where == "" {
		t.Fatalf("record %s without a place in the source", r.name())
	}
	for _, p := range slices.Concat(r.Problems, r.Notes) {
		if !utf8.ValidString(p.Message) || !utf8.ValidString(r.field(p.Field)) {
			t.Fatalf("%s: a problem is not UTF-8 text: %q: %q", r.Where, r.field(p.Field), p.Message)
		}
	}
	if len(r.Problems) > 0 {
		return nil
	}
	var p directory.Problems
	switch r.Kind {
	case KindService:
		if r.Service == nil {
			t.Fatalf("%s: a service record without its service", r.Where)
		}
		p = r.Service.Validate(c.tax)
	case KindLocation:
		if r.Location == nil {
			t.Fatalf("%s: a location record without its location", r.Where)
		}
		p = r.Location.Validate()
	case KindOrganization:
		if r.Organization == nil {
			t.Fatalf("%s: an organization record without its organization", r.Where)
		}
		p = r.Organization.Validate()
	default:
		t.Fatalf("%s: record of kind %q without problems", r.Where, r.Kind)
	}
	if len(p) > 0 {
		t.Fatalf("%s: %s read without problems, yet it does not validate: %v", r.Where, r.Kind, p)
	}
	return nil
}

// timed runs read and fails if it takes more than readLimit.
func timed(t *testing.T, size int, read func() error) error {
	t.Helper()
	start := time.Now()
	err := read()
	if d := time.Since(start); d > readLimit {
		t.Fatalf("reading %d bytes took %v", size, d)
	}
	return err
}

// An error names where in the source it is: the JSON path or line of the
// record ("contents[3]: …", "line 12: …", "document: …"), or the file and
// line of a CSV table.
var (
	jsonPlace  = regexp.MustCompile(`(?s)^.+?: `)
	linePlace  = regexp.MustCompile(`^line \d+: `)
	tablePlace = regexp.MustCompile(`^[a-z_]+\.csv (line \d+|after line \d+|is empty)`)
)

func checkError(t *testing.T, err error, place *regexp.Regexp) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if !place.MatchString(msg) && !strings.HasPrefix(msg, "the file has data after its JSON document") {
		t.Fatalf("error without a place in the source: %q", msg)
	}
	if !utf8.ValidString(msg) {
		t.Fatalf("error is not UTF-8 text: %q", msg)
	}
}

var seedJSON = []string{
	`{"id": "s1", "name": "Épicerie sociale", "status": "active", "description": "Colis alimentaires",
	  "languages": [{"code": "fra"}, {"code": "nl"}], "phones": [{"number": "+32 2 555 12 34"}],
	  "schedules": [{"freq": "WEEKLY", "byday": "MO,TU,WE", "opens_at": "09:00", "closes_at": "12:00"},
	                {"valid_from": "2026-12-25", "valid_to": "2026-12-25", "closed": true}],
	  "attributes": [{"taxonomy_term_id": "x", "value": "equipement-et-alimentation--alimentation"}],
	  "service_at_locations": [{"location": {"id": "l1", "name": "Local", "latitude": 50.8, "longitude": 4.3,
	    "addresses": [{"address_1": "Rue Haute 1", "postal_code": "1000", "city": "Bruxelles", "country": "BE"}]}}],
	  "translations": {"nl": {"name": "Sociale kruidenier"}}}`,
	`{"id": "o1", "name": "Maison", "description": "Un lieu", "website": "https://maison.example.be",
	  "organization_identifiers": [{"identifier_scheme": "BE-BCE_KBO", "identifier": "0403.170.701"}],
	  "services": [{"id": "s3", "name": "Cours", "status": "active", "organization_id": "o1"}],
	  "locations": [{"id": "l2", "location_type": "physical", "name": "Accueil", "latitude": 50.83, "longitude": 4.34}]}`,
	`{"total_items": 2, "page_number": 1, "contents": [{"id": "a", "name": "x", "status": "active"},
	  {"id": "o", "name": "Org", "services": [{"id": "b", "name": "y", "status": "active"}]}, 42]}`,
	`[{"id": "l1", "location_type": "physical", "name": "Local", "latitude": 50.8, "longitude": 4.3},
	  {"service": {"id": "s", "name": "z", "status": "active"}, "location_id": "l1",
	   "schedules": [{"freq": "WEEKLY", "byday": "SA", "opens_at": "10:00", "closes_at": "12:00", "interval": 2}]},
	  {"id": "t1", "name": "Alimentation", "code": "alimentation", "taxonomy": "x"}]`,
	`{"services.csv": [{"id": "svc-1", "name": "Épicerie", "status": "active", "minimum_age": 12}],
	  "schedules.csv": [{"id": "sc1", "service_id": "svc-1", "freq": "WEEKLY", "byday": "MO", "opens_at": "09:00", "closes_at": "12:00"}],
	  "locations.csv": [{"id": "loc-1", "latitude": "50,83", "longitude": "4.34", "name": "Accueil"}]}`,
	`{"id": "a", "name": "x", "status": "active"}` + "\n" + `{"id": "b"}`,
	`{"id": "s2", "name": `,
	`{"contents": null, "services": "x"}`,
	`{"id": "deep", "name": "x", "services": null, "contents": [{"id": "o2", "name": "y", "services": null,
	  "contents": [{"id": "o3", "name": "z", "locations": [{"id": "l", "name": "n", "latitude": 1}]}]}]}`,
	"\ufeff{}", `"text"`, `[1, [2, [3]]]`, ``,
}

// FuzzReadJSON reads HSDS JSON, as a document or as NDJSON lines.
func FuzzReadJSON(f *testing.F) {
	for _, s := range seedJSON {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	lines := strings.Join([]string{
		`{"id": "s1", "name": "Épicerie", "status": "active"}`,
		`{"id": "s2", "name": `,
		``,
		`{"id": "l1", "location_type": "physical", "name": "Local", "latitude": 50.8, "longitude": 4.3}`,
		`{"version": "3.0"}`,
		`{"id": "s4", "name": "x", "status": "active"} {}`,
	}, "\r\n")
	f.Add([]byte(lines), true)
	tax := directory.DefaultTaxonomy()
	f.Fuzz(func(t *testing.T, data []byte, ndjson bool) {
		c := &recordChecker{t: t, tax: tax}
		j := &jsonReader{c: fuzzConverter(), emit: c.emit}
		err := timed(t, len(data), func() error {
			if ndjson {
				return j.ndjson(bytes.NewReader(data), nil)
			}
			return j.file(bytes.NewReader(data), nil)
		})
		if ndjson {
			checkError(t, err, linePlace)
		} else {
			checkError(t, err, jsonPlace)
		}
	})
}

// memCSV is HSDS tabular data in memory: the CSV text of each table.
type memCSV map[string]string

// each reads a table as dirTables does from its file.
func (m memCSV) each(table string, fn func(row) error) error {
	text, ok := m[table]
	if !ok {
		return nil
	}
	cf, err := openCSV(table+".csv", strings.NewReader(text), nil, columnKey)
	if err != nil {
		return err
	}
	for {
		r, err := cf.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

// fuzzTables are the tables FuzzReadTabular fills, in the order of its
// arguments.
var fuzzTables = []string{"organizations", "locations", "services", "phones", "schedules", "service_at_locations",
	"addresses", "attributes", "taxonomy_terms", "languages", "organization_identifiers"}

// FuzzReadTabular reads HSDS tabular data: one CSV text per table ("" for
// a table that is absent).
func FuzzReadTabular(f *testing.F) {
	f.Add("id,name,description,website\norg-1,Maison,Un lieu,https://maison.example.be\n",
		"id,location_type,name,latitude,longitude\nloc-1,physical,Accueil,50.83,4.34\n",
		"id,organization_id,name,status,minimum_age\nsvc-1,org-1,Épicerie,active,12\nsvc-2,org-1,Cours,active,douze\n",
		"id,service_id,organization_id,contact_id,number\np1,svc-1,,,+32 2 555 12 34\np2,svc-1,,c1,+32 470 00 00 00\np3,,org-1,,+32 2 555 00 00\n",
		"id,service_id,freq,byday,opens_at,closes_at\nsc1,svc-1,WEEKLY,\"MO,TU\",09:00,12:00\nsc2,svc-2,WEEKLY,MO,9h,12:00\n",
		"id,service_id,location_id\nsal1,svc-1,loc-1\n",
		"id,location_id,address_1,address_2,city,state_province,postal_code,country,address_type\na1,loc-1,Rue Haute 1,2e étage,Bruxelles,,1000,BE,physical\na2,loc-1,BP 12,,Bruxelles,,1000,BE,postal\n",
		"id,link_id,taxonomy_term_id,link_type\nat1,svc-1,t1,service\n",
		"id,code,name,description\nt1,equipement-et-alimentation--alimentation,Alimentation,\n",
		"id,service_id,code\nl1,svc-1,fra\n",
		"id,organization_id,identifier_scheme,identifier_type,identifier\ni1,org-1,BE-BCE_KBO,enterprise number,0403.170.701\n")
	f.Add("\ufeffid;name\n1;Maison\n", "id;name;latitude\nl;Lieu;50,8\n", "id;name;status;extra\ns;Service;active\ns2;x;active;1;2\n",
		"", "id,service_at_location_id,freq,byday,opens_at,closes_at,interval,until\nsc,sal1,WEEKLY,SA,10:00,12:00,2,2027-01-01\n",
		"id,service_id,location_id\nsal1,s2,l\n", "", "", "", "", "")
	f.Add("", "", "name,\"status\nactive", "", "", "", "", "", "", "", "")
	tax := directory.DefaultTaxonomy()
	f.Fuzz(func(t *testing.T, orgs, locs, svcs, phones, scheds, sals, addrs, attrs, terms, langs, ids string) {
		tables := memCSV{}
		size := 0
		for i, text := range []string{orgs, locs, svcs, phones, scheds, sals, addrs, attrs, terms, langs, ids} {
			if text != "" {
				tables[fuzzTables[i]] = text
				size += len(text)
			}
		}
		c := &recordChecker{t: t, tax: tax}
		err := timed(t, size, func() error { return (&tabularReader{c: fuzzConverter(), t: tables, emit: c.emit}).read() })
		checkError(t, err, tablePlace)
	})
}

// FuzzReadTemplate reads the CSV template.
func FuzzReadTemplate(f *testing.F) {
	f.Add([]byte("\ufeffRéférence;Nom;Naam;Thématiques;Publics;Langues;Tarif;Adresse;Code postal;Commune;Latitude;Longitude;Téléphone;Courriel;Site web;Horaires\n" +
		"1;Épicerie sociale;Sociale kruidenier;Alimentation;Familles, Séniors;fra, nl;Gratuit;Rue de la Victoire 96;1060;Saint-Gilles;50,8291;4,3449;02/555.12.34;epicerie@maison.example.be;https://maison.example.be;lun-ven 9h-12h\n" +
		";;;;;;;;;;;;;;;\n" +
		"2;Cours de français;;Maîtriser le français;tous-publics;fr;payant;rue de la victoire 96;1060;saint-gilles;50,8291;4,3449;;;;mardi 18h-20h\n"))
	f.Add([]byte("id,nom,description_en,categories,languages,fee,email,website,téléphone,horaires,adresse,latitude\n" +
		"a,Épicerie,ok,nothing,french,cher,not-an-email,www.example.be,abc,lun 9h,Rue Haute 1,95\n" +
		"b,,,,,,,,,,,\n"))
	f.Add([]byte("name\tstatut\tlieu\tlocation_id\thours\thours_notes_nl\n\"Permanence\nsociale\"\tactif\tAccueil\tL1\t\"ma-vr 9-12; 2026-12-25 gesloten\"\tna afspraak\n"))
	f.Add([]byte("nom,adress,code postal\nx,y,1000\n"))
	f.Add([]byte("nom,name_fr\nx,y\n"))
	f.Add([]byte("nom,adresse\n\"x,y\n"))
	f.Add([]byte("nom,adresse\ncaf\xe9,y\n"))
	f.Add([]byte("nom,latitude,longitude\nx,NaN,Inf\ny,1e400,-0\n"))
	f.Add([]byte(""))
	tax := directory.DefaultTaxonomy()
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &recordChecker{t: t, tax: tax}
		err := timed(t, len(data), func() error {
			return (&templateReader{c: fuzzConverter(), emit: c.emit}).read("services.csv", bytes.NewReader(data), nil)
		})
		checkError(t, err, tablePlace)
	})
}

// FuzzParseHours reads opening hours as the template writes them: it
// never panics; what it reads is days of the week, times of day and
// dates; and hours read without problems, written again (in iCalendar
// day codes and HH:MM), read the same, and travel through the HSDS
// encoding of a service unchanged.
func FuzzParseHours(f *testing.F) {
	for _, s := range []string{
		"lun-ven 9h-12h, 13h30-17h", "du lundi au mercredi de 9h à 12h; samedi 10:00-12:00", "ma, wo, vr 09:00-12:00",
		"ma-je 14h-16h", "MO,WE 9-12\nsat-sun 10h-11h", "vendredi-lundi 20h-24h",
		"lundi 9h-12h; dimanche fermé; 2026-12-25 fermé; 2026-12-24 9h-12h", "", "ma 9h-12h", "lun 9h-12h; blurb 10h-11h",
		"lun 9h-25h", "lun 9h", "lundi", "9h-12h", "2026-02-30 fermé", "2026-12-24", "maandag tot vrijdag 9.30 tot 12u",
		"mon & wed 9:00-12:00 and 14:00-16:00", "sa 12h-9h", "2026-12-24 fermé; 2026-12-24 9h-10h", "di–za 8h—9h\r\nzo gesloten",
	} {
		f.Add(s)
	}
	tax := directory.DefaultTaxonomy()
	f.Fuzz(func(t *testing.T, s string) {
		sch, problems := ParseHours(s)
		for _, sl := range sch.Weekly {
			if sl.Day < time.Sunday || sl.Day > time.Saturday || !clockOK(sl.Opens) || !clockOK(sl.Closes) {
				t.Fatalf("ParseHours(%q) read slot %+v", s, sl)
			}
		}
		for _, e := range sch.Exceptions {
			if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
				t.Fatalf("ParseHours(%q) read date %q", s, e.Date)
			}
			for _, h := range e.Hours {
				if !clockOK(h.Opens) || !clockOK(h.Closes) {
					t.Fatalf("ParseHours(%q) read span %+v", s, h)
				}
			}
		}
		for _, p := range problems {
			if !utf8.ValidString(p) {
				t.Fatalf("ParseHours(%q): problem %q is not UTF-8 text", s, p)
			}
		}
		if len(problems) > 0 {
			return
		}
		text := writeHours(sch)
		again, problems := ParseHours(text)
		if len(problems) > 0 || !reflect.DeepEqual(again, sch) {
			t.Fatalf("ParseHours(%q) = %+v, written %q, read again %+v, %q", s, sch, text, again, problems)
		}
		svc := &directory.Service{ID: "9b2a4d1e-0c56-4e8f-9a3b-2f6d7c8e1a00", Name: directory.T(directory.FR, "x"),
			Status: directory.StatusActive, Schedule: sch}
		if len(svc.Validate(tax)) > 0 {
			return // the HSDS encoding holds valid schedules
		}
		w := directory.HSDSEncoder{Taxonomy: tax, Lang: directory.FR}.Service(svc, nil, nil)
		back, err := w.Model(tax)
		if err != nil {
			t.Fatalf("ParseHours(%q): the HSDS encoding of its hours does not decode: %v", s, err)
		}
		if got, want := normalHours(back.Schedule), normalHours(sch); !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseHours(%q) = %+v, through HSDS %+v", s, want, got)
		}
	})
}

func clockOK(c directory.Clock) bool { return c >= 0 && c <= 24*60 }

// writeHours writes a schedule in the template's syntax, one rule a slot
// and one an exception date.
func writeHours(sch directory.Schedule) string {
	var rules []string
	for _, sl := range sch.Weekly {
		rules = append(rules, directory.DayCode(sl.Day)+" "+sl.Opens.String()+"-"+sl.Closes.String())
	}
	for _, e := range sch.Exceptions {
		if e.Closed {
			rules = append(rules, e.Date+" fermé")
		}
		var spans []string
		for _, h := range e.Hours {
			spans = append(spans, h.Opens.String()+"-"+h.Closes.String())
		}
		if len(spans) > 0 || !e.Closed {
			rules = append(rules, strings.TrimSpace(e.Date+" "+strings.Join(spans, ", ")))
		}
	}
	return strings.Join(rules, "; ")
}

// normalHours is a schedule as the HSDS encoding keeps it: weekly slots
// in any order, an exception without hours closed that day.
func normalHours(s directory.Schedule) directory.Schedule {
	out := directory.Schedule{Weekly: slices.Clone(s.Weekly)}
	slices.SortFunc(out.Weekly, func(a, b directory.Slot) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Opens, b.Opens), cmp.Compare(a.Closes, b.Closes))
	})
	for _, e := range s.Exceptions {
		e.Closed = e.Closed || len(e.Hours) == 0
		e.Note = nil
		out.Exceptions = append(out.Exceptions, e)
	}
	return out
}

// Organizations nested in the lists of organizations ("contents") were
// each read again whole, so that a 200 kB document 4,000 deep took half
// a minute: nesting is bounded, and what lies deeper is refused where it
// is.
func TestReadJSONDeepNesting(t *testing.T) {
	const levels = 4000
	doc := strings.Repeat(`{"id": "o", "name": "x", "services": null, "contents": [`, levels) + strings.Repeat(`]}`, levels)
	var recs []*Record
	j := &jsonReader{c: fuzzConverter(), emit: func(r *Record) error { recs = append(recs, r); return nil }}
	start := time.Now()
	if err := j.file(strings.NewReader(doc), nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("reading %d levels took %v", levels, d)
	}
	want := "contents[0]" + strings.Repeat(".contents[0]", maxNesting)
	if len(recs) != 1 || recs[0].Where != want || len(recs[0].Problems) != 1 {
		t.Fatalf("records = %+v, want one refused at %s", recs, want)
	}
	// Nesting within the bound is read as before.
	recs = nil
	j = &jsonReader{c: fuzzConverter(), emit: func(r *Record) error { recs = append(recs, r); return nil }}
	if err := j.file(strings.NewReader(seedJSON[8]), nil); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Kind != KindLocation || recs[1].Kind != KindOrganization {
		t.Errorf("records of two nested organizations = %+v", recs)
	}
}
