package hsdsio

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/maillage/maillage/directory"
)

// maxHeldRows bounds the rows of child tables (phones, schedules,
// addresses, …) an import of tabular data holds in memory to join them
// to their services; services, locations and organizations themselves
// are read one row at a time.
const maxHeldRows = 1_000_000

// maxTabularJSON bounds the JSON form of tabular data, read whole.
const maxTabularJSON = 64 << 20

// tableSet holds the tables of tabular HSDS data.
type tableSet interface {
	// each calls fn for every row of table ("services", "phones", …); a
	// table that is absent has no rows.
	each(table string, fn func(row) error) error
}

// tableName names a table by its HSDS file name: "service_at_location.csv"
// (the name in the HSDS schema) and "service_at_locations" are one table.
func tableName(file string) string {
	n := strings.ToLower(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
	switch n {
	case "service_at_location":
		return "service_at_locations"
	case "accessibility_for_disabilities":
		return "accessibility"
	}
	return n
}

func columnKey(h string) string { return strings.ToLower(strings.TrimSpace(h)) }

// dirTables reads CSV files of a directory.
type dirTables struct {
	files   map[string]string // table → path
	counted func(int64)
}

// openDirTables finds the tables of dir: those its datapackage.json
// lists, or else the CSV files named as in HSDS.
func openDirTables(dir string) (*dirTables, error) {
	t := &dirTables{files: map[string]string{}}
	pkg := filepath.Join(dir, "datapackage.json")
	if data, err := os.ReadFile(pkg); err == nil {
		var dp struct {
			Resources []struct {
				Name string          `json:"name"`
				Path json.RawMessage `json:"path"`
			} `json:"resources"`
		}
		if err := json.Unmarshal(data, &dp); err != nil {
			return nil, fmt.Errorf("datapackage.json: %v", err)
		}
		for i, r := range dp.Resources {
			var path string
			if err := json.Unmarshal(r.Path, &path); err != nil || path == "" {
				return nil, fmt.Errorf("datapackage.json: resources[%d].path must be the name of a CSV file beside it", i)
			}
			if filepath.IsAbs(path) || strings.Contains(filepath.ToSlash(path), "..") {
				return nil, fmt.Errorf("datapackage.json: resources[%d].path %q must be a file beside it", i, path)
			}
			name := tableName(path)
			if r.Name != "" && tableName(r.Name) != name && !strings.EqualFold(r.Name, strings.TrimSuffix(name, "s")) {
				name = tableName(r.Name)
			}
			t.files[name] = filepath.Join(dir, path)
		}
	} else if !os.IsNotExist(err) {
		return nil, err
	} else {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
				t.files[tableName(e.Name())] = filepath.Join(dir, e.Name())
			}
		}
	}
	if t.files["services"] == "" && t.files["organizations"] == "" && t.files["locations"] == "" {
		return nil, fmt.Errorf("%s holds no services.csv, organizations.csv or locations.csv: not HSDS tabular data", dir)
	}
	return t, nil
}

// size is the bytes of the files read.
func (t *dirTables) size() int64 {
	var n int64
	for _, tb := range tabularTables {
		if p := t.files[tb]; p != "" {
			if fi, err := os.Stat(p); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// tabularTables are the tables an import reads, in the order it reads
// them; the others (contacts, funding, cost options, programs, …) hold
// what the model does not.
var tabularTables = []string{"organization_identifiers", "phones", "schedules", "service_areas", "service_at_locations",
	"languages", "attributes", "taxonomy_terms", "addresses", "accessibility", "organizations", "locations", "services"}

func (t *dirTables) each(table string, fn func(row) error) error {
	path := t.files[table]
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cf, err := openCSV(filepath.Base(path), f, t.counted, columnKey)
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

// memTables is the JSON form of tabular data, as in the HSDS examples:
// {"services.csv": [{"id": …, "name": …}, …], …}.
type memTables map[string][]row

func (t memTables) each(table string, fn func(row) error) error {
	for _, r := range t[table] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// tabular reads the JSON form of tabular data, whose first key was read.
func (j *jsonReader) tabular(dec *json.Decoder, b *budget, key, where string) error {
	tables := memTables{}
	total := 0
	for {
		b.reset()
		var rows []map[string]any
		if err := dec.Decode(&rows); err != nil {
			return syntaxError(at(where, key), fmt.Errorf("must be an array of rows: %w", err))
		}
		name := tableName(key)
		for i, m := range rows {
			r := row{where: fmt.Sprintf("%s[%d]", key, i), vals: map[string]string{}}
			for k, v := range m {
				r.vals[columnKey(k)] = cellText(v)
				total += len(k) + len(r.vals[columnKey(k)])
			}
			tables[name] = append(tables[name], r)
		}
		if total > maxTabularJSON {
			return fmt.Errorf("%s: tabular JSON larger than %d MiB; use CSV files", cmpOr(where, "document"), maxTabularJSON>>20)
		}
		if !dec.More() {
			break
		}
		t, err := dec.Token()
		if err != nil {
			return syntaxError(where, err)
		}
		key, _ = t.(string)
	}
	b.reset()
	if _, err := dec.Token(); err != nil {
		return syntaxError(where, err)
	}
	return (&tabularReader{c: j.c, t: tables, emit: j.emit}).read()
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// tabularReader joins the tables into records: organizations, then
// locations, then services.
type tabularReader struct {
	c    *converter
	t    tableSet
	emit func(*Record) error
	held int
}

// group loads table into memory by the column parent.
func (a *tabularReader) group(table, parent string) (map[string][]row, error) {
	out := map[string][]row{}
	err := a.route(table, func(r row) (map[string][]row, string) { return out, r.get(parent) })
	return out, err
}

// route loads table into memory, each row into the map and under the key
// to returns (none when the map is nil or the key empty).
func (a *tabularReader) route(table string, to func(row) (map[string][]row, string)) error {
	return a.t.each(table, func(r row) error {
		m, k := to(r)
		if m == nil || k == "" {
			return nil
		}
		if a.held++; a.held > maxHeldRows {
			return fmt.Errorf("%s: more than %d rows of phones, schedules, addresses and the like to join; split the data or use NDJSON", r.where, maxHeldRows)
		}
		m[k] = append(m[k], r)
		return nil
	})
}

// children is the rows joined to the records.
type children struct {
	identifiers, orgPhones, svcPhones, schedules, salSchedules, areas, sals, languages, attributes, addresses, access map[string][]row
	terms                                                                                                             map[string]directory.HSDSTaxonomyTerm
}

func (a *tabularReader) read() error {
	var ch children
	var err error
	load := func(dst *map[string][]row, table, parent string) {
		if err == nil {
			*dst, err = a.group(table, parent)
		}
	}
	load(&ch.identifiers, "organization_identifiers", "organization_id")
	// A phone is a service's, or else the organization's; one with a
	// contact_id is a person's: contacts are not imported.
	ch.svcPhones, ch.orgPhones = map[string][]row{}, map[string][]row{}
	if err == nil {
		err = a.route("phones", func(r row) (map[string][]row, string) {
			switch {
			case r.get("contact_id") != "":
				return nil, ""
			case r.get("service_id") != "":
				return ch.svcPhones, r.get("service_id")
			case r.get("location_id") == "" && r.get("service_at_location_id") == "":
				return ch.orgPhones, r.get("organization_id")
			}
			return nil, ""
		})
	}
	// Schedules are a service's, or a service's at one location.
	ch.schedules, ch.salSchedules = map[string][]row{}, map[string][]row{}
	if err == nil {
		err = a.route("schedules", func(r row) (map[string][]row, string) {
			if id := r.get("service_id"); id != "" {
				return ch.schedules, id
			}
			return ch.salSchedules, r.get("service_at_location_id")
		})
	}
	load(&ch.areas, "service_areas", "service_id")
	load(&ch.sals, "service_at_locations", "service_id")
	load(&ch.languages, "languages", "service_id")
	load(&ch.attributes, "attributes", "link_id")
	load(&ch.addresses, "addresses", "location_id")
	load(&ch.access, "accessibility", "location_id")
	if err != nil {
		return err
	}
	ch.terms = map[string]directory.HSDSTaxonomyTerm{}
	err = a.t.each("taxonomy_terms", func(r row) error {
		ch.terms[r.get("id")] = directory.HSDSTaxonomyTerm{ID: r.get("id"), Code: r.get("code"), Name: r.get("name"), Taxonomy: r.get("taxonomy")}
		return nil
	})
	if err != nil {
		return err
	}
	if err := a.t.each("organizations", func(r row) error { return a.organization(r, &ch) }); err != nil {
		return err
	}
	if err := a.t.each("locations", func(r row) error { return a.location(r, &ch) }); err != nil {
		return err
	}
	return a.t.each("services", func(r row) error { return a.service(r, &ch) })
}

// origins renames the fields of child rows to the rows they come from.
type origins map[string]string

func (o origins) add(field string, r row) { o[field] = r.where }

func (o origins) rename(f string) string {
	end := strings.IndexByte(f, ']')
	if end < 0 {
		return f
	}
	if where, ok := o[f[:end+1]]; ok {
		return f + " (" + where + ")"
	}
	return f
}

func extraProblem(r row, p *directory.Problems) {
	if r.extra {
		p.Add("", "has more values than the header has columns")
	}
}

func (a *tabularReader) organization(r row, ch *children) error {
	id := r.get("id")
	in := &organizationIn{w: directory.HSDSOrganization{ID: id, Name: r.get("name"), Description: r.get("description"),
		Email: r.get("email"), Website: r.get("website"), LegalStatus: r.get("legal_status"), TextLanguage: string(a.c.lang)}}
	extraProblem(r, &in.problems)
	o := origins{}
	for i, pr := range ch.orgPhones[id] {
		in.w.Phones = append(in.w.Phones, directory.HSDSPhone{ID: pr.get("id"), Number: pr.get("number"), Type: pr.get("type"), Description: pr.get("description")})
		o.add(fmt.Sprintf("phones[%d]", i), pr)
	}
	for i, ir := range ch.identifiers[id] {
		in.w.OrganizationIdentifiers = append(in.w.OrganizationIdentifiers, directory.HSDSOrgIdentifier{ID: ir.get("id"),
			IdentifierScheme: ir.get("identifier_scheme"), IdentifierType: ir.get("identifier_type"), Identifier: ir.get("identifier")})
		o.add(fmt.Sprintf("organization_identifiers[%d]", i), ir)
	}
	rec := &Record{Where: r.where, fields: o.rename}
	a.c.organization(in, rec)
	return a.emit(rec)
}

func parseFloat(p *directory.Problems, field, v string) *float64 {
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
	if err != nil {
		p.Add(field, "%q is not a number", v)
		return nil
	}
	return &f
}

func parseInt(p *directory.Problems, field, v string) *int {
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.Add(field, "%q is not a whole number", v)
		return nil
	}
	return &n
}

func (a *tabularReader) location(r row, ch *children) error {
	id := r.get("id")
	in := &locationIn{w: directory.HSDSLocation{ID: id, LocationType: r.get("location_type"), Name: r.get("name"),
		Description: r.get("description"), Transportation: r.get("transportation"), TextLanguage: string(a.c.lang)}}
	extraProblem(r, &in.problems)
	in.w.Latitude = parseFloat(&in.problems, "latitude", r.get("latitude"))
	in.w.Longitude = parseFloat(&in.problems, "longitude", r.get("longitude"))
	o := origins{}
	for i, ar := range ch.addresses[id] {
		in.addresses = append(in.addresses, addressIn{ID: ar.get("id"), Address1: ar.get("address_1"), Address2: ar.get("address_2"),
			City: ar.get("city"), Region: ar.get("region"), StateProvince: ar.get("state_province"), PostalCode: ar.get("postal_code"),
			Country: ar.get("country"), AddressType: ar.get("address_type")})
		o.add(fmt.Sprintf("addresses[%d]", i), ar)
	}
	for _, ar := range ch.access[id] {
		in.w.Accessibility = append(in.w.Accessibility, directory.HSDSAccessibility{ID: ar.get("id"), Description: ar.get("description")})
	}
	rec := &Record{Where: r.where, fields: o.rename}
	if org := r.get("organization_id"); org != "" {
		rec.Org, rec.orgSource = MapID(KindOrganization, org), org
	}
	a.c.location(in, rec)
	return a.emit(rec)
}

func (a *tabularReader) service(r row, ch *children) error {
	id := r.get("id")
	in := &serviceIn{terms: ch.terms, w: directory.HSDSService{ID: id, OrganizationID: r.get("organization_id"),
		Name: r.get("name"), AlternateName: r.get("alternate_name"), Description: r.get("description"), URL: r.get("url"),
		Email: r.get("email"), Status: r.get("status"), InterpretationServices: r.get("interpretation_services"),
		ApplicationProcess: r.get("application_process"), FeesDescription: r.get("fees_description"),
		EligibilityDescription: r.get("eligibility_description"), TextLanguage: string(a.c.lang)}}
	extraProblem(r, &in.problems)
	in.w.MinimumAge = parseInt(&in.problems, "minimum_age", r.get("minimum_age"))
	in.w.MaximumAge = parseInt(&in.problems, "maximum_age", r.get("maximum_age"))
	o := origins{}
	for i, pr := range ch.svcPhones[id] {
		in.w.Phones = append(in.w.Phones, directory.HSDSPhone{ID: pr.get("id"), Number: pr.get("number"), Type: pr.get("type"), Description: pr.get("description")})
		o.add(fmt.Sprintf("phones[%d]", i), pr)
	}
	schedules := ch.schedules[id]
	for i, sr := range ch.sals[id] {
		in.locations = append(in.locations, sr.get("location_id"))
		o.add(fmt.Sprintf("service_at_locations[%d]", i), sr)
		if len(ch.schedules[id]) == 0 {
			schedules = append(schedules, ch.salSchedules[sr.get("id")]...) // hours given only per location
		}
	}
	for i, sr := range schedules {
		s := scheduleIn{ID: sr.get("id"), ValidFrom: sr.get("valid_from"), ValidTo: sr.get("valid_to"), DtStart: sr.get("dtstart"),
			Until: sr.get("until"), Freq: sr.get("freq"), ByDay: sr.get("byday"), ByWeekNo: sr.get("byweekno"),
			ByMonthDay: sr.get("bymonthday"), ByYearDay: sr.get("byyearday"), OpensAt: sr.get("opens_at"), ClosesAt: sr.get("closes_at"),
			Description: sr.get("description"), Notes: sr.get("notes")}
		field := fmt.Sprintf("schedules[%d]", i)
		s.Interval = parseFloat(&in.problems, field+".interval", sr.get("interval"))
		s.Count = parseFloat(&in.problems, field+".count", sr.get("count"))
		in.schedules = append(in.schedules, s)
		o.add(field, sr)
	}
	for i, ar := range ch.areas[id] {
		in.areas = append(in.areas, directory.HSDSServiceArea{ID: ar.get("id"), Name: ar.get("name"), Description: ar.get("description"),
			Extent: ar.get("extent"), ExtentType: ar.get("extent_type")})
		o.add(fmt.Sprintf("service_areas[%d]", i), ar)
	}
	for i, lr := range ch.languages[id] {
		in.languages = append(in.languages, directory.HSDSLanguage{ID: lr.get("id"), Code: lr.get("code"), Name: lr.get("name")})
		o.add(fmt.Sprintf("languages[%d]", i), lr)
	}
	for i, ar := range ch.attributes[id] {
		in.attributes = append(in.attributes, directory.HSDSAttribute{ID: ar.get("id"), LinkID: id, TaxonomyTermID: ar.get("taxonomy_term_id"),
			LinkType: ar.get("link_type"), LinkEntity: ar.get("link_entity"), Value: ar.get("value")})
		o.add(fmt.Sprintf("attributes[%d]", i), ar)
	}
	rec := &Record{Where: r.where, fields: o.rename}
	a.c.service(in, rec)
	return a.emit(rec)
}
