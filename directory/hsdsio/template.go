package hsdsio

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/maillage/maillage/directory"
)

// The CSV template is for associations that keep their services in a
// spreadsheet: one row per service, its place on the same row. Its
// columns are documented in cmd/maillage/docs/import-template.md; headers are read
// without case, accents or punctuation ("Code postal" is code_postal),
// in English, French or Dutch.

// templateColumns maps each column to its header aliases, folded.
var templateColumns = map[string][]string{
	"id":               {"id", "ref", "reference", "identifiant"},
	"name_fr":          {"name_fr", "nom_fr", "nom", "naam_fr"},
	"name_nl":          {"name_nl", "nom_nl", "naam_nl", "naam"},
	"name_en":          {"name_en", "nom_en", "naam_en", "name"},
	"description_fr":   {"description_fr", "beschrijving_fr"},
	"description_nl":   {"description_nl", "beschrijving_nl", "beschrijving"},
	"description_en":   {"description_en", "beschrijving_en"},
	"eligibility_fr":   {"eligibility_fr", "conditions_fr", "conditions", "voorwaarden_fr"},
	"eligibility_nl":   {"eligibility_nl", "conditions_nl", "voorwaarden_nl", "voorwaarden"},
	"eligibility_en":   {"eligibility_en", "conditions_en", "voorwaarden_en", "eligibility"},
	"status":           {"status", "statut"},
	"categories":       {"categories", "category", "categorie", "themes", "theme", "thematiques", "thematique", "categorieen", "themas", "thema_s"},
	"audiences":        {"audiences", "audience", "publics", "public", "doelgroepen", "doelgroep"},
	"languages":        {"languages", "language", "langues", "langue", "talen", "taal"},
	"fee":              {"fee", "tarif", "prix", "kosten", "prijs"},
	"phone":            {"phone", "telephone", "tel", "telefoon", "gsm"},
	"email":            {"email", "e_mail", "courriel", "mail"},
	"website":          {"website", "url", "site", "site_web", "site_internet", "siteweb"},
	"hours":            {"hours", "opening_hours", "horaires", "heures_d_ouverture", "openingsuren", "openingstijden"},
	"hours_notes_fr":   {"hours_notes_fr", "remarques_horaires", "notes_horaires", "remarques_horaires_fr"},
	"hours_notes_nl":   {"hours_notes_nl", "opmerkingen_openingsuren", "opmerkingen_openingsuren_nl"},
	"hours_notes_en":   {"hours_notes_en", "hours_notes"},
	"location_id":      {"location_id", "id_lieu", "lieu_id", "locatie_id"},
	"location_name_fr": {"location_name_fr", "lieu", "nom_du_lieu", "lieu_fr"},
	"location_name_nl": {"location_name_nl", "locatie", "locatie_nl"},
	"location_name_en": {"location_name_en", "location_name", "location"},
	"address":          {"address", "adresse", "adres", "rue", "straat"},
	"postcode":         {"postcode", "postal_code", "code_postal", "cp"},
	"city":             {"city", "commune", "ville", "localite", "gemeente", "stad"},
	"latitude":         {"latitude", "lat", "breedtegraad"},
	"longitude":        {"longitude", "lon", "lng", "long", "lengtegraad"},
}

// templateAlias is templateColumns turned around.
var templateAlias = func() map[string]string {
	m := map[string]string{}
	for col, aliases := range templateColumns {
		for _, a := range aliases {
			if m[a] != "" {
				panic("hsdsio: template alias " + a + " given twice") // caught by tests
			}
			m[a] = col
		}
	}
	return m
}()

// headerKey folds a header: "Code postal" is code_postal, "Nom (FR)" is
// nom_fr, "Téléphone" is telephone.
func headerKey(h string) string {
	var b strings.Builder
	under := false
	for _, r := range directory.Fold(strings.TrimSpace(h)) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			under = false
		} else {
			under = true
		}
	}
	return b.String()
}

// templateReader reads the CSV template.
type templateReader struct {
	c      *converter
	emit   func(*Record) error
	header map[string]string // column → header as written
}

func (t *templateReader) read(name string, r io.Reader, counted func(int64)) error {
	f, err := openCSV(name, r, counted, func(h string) string {
		if col := templateAlias[headerKey(h)]; col != "" {
			return col
		}
		return ""
	})
	if err != nil {
		return err
	}
	t.header = map[string]string{}
	var unknown []string
	for i, h := range f.header {
		col := f.cols[i]
		switch {
		case h == "":
		case col == "":
			unknown = append(unknown, fmt.Sprintf("%q", h))
		case t.header[col] != "":
			return fmt.Errorf("%s line 1: columns %q and %q say the same (%s)", name, t.header[col], h, col)
		default:
			t.header[col] = h
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%s line 1: unknown column(s) %s; the columns are listed in cmd/maillage/docs/import-template.md (%s)",
			name, strings.Join(unknown, ", "), strings.Join(knownColumns(), ", "))
	}
	if t.header["name_fr"] == "" && t.header["name_nl"] == "" && t.header["name_en"] == "" {
		return fmt.Errorf("%s line 1: a name column is required (name_fr, name_nl or name_en; nom, naam)", name)
	}
	for {
		r, err := f.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := t.row(r); err != nil {
			return err
		}
	}
}

func knownColumns() []string {
	var cols []string
	for c := range templateColumns {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return cols
}

func (t *templateReader) text(r row, base string) directory.Text {
	txt := directory.Text{}
	for _, l := range directory.Langs {
		txt.Set(l, r.get(base+"_"+string(l)))
	}
	if len(txt) == 0 {
		return nil
	}
	return txt
}

// column names a model field by the template's header for it.
func (t *templateReader) column(field string, text directory.Text, location bool) string {
	lang := text.Primary()
	if rest, ok := strings.CutPrefix(field, "translations."); ok {
		l, f, _ := strings.Cut(rest, ".")
		lang, field = directory.Lang(l), f
	}
	base := field
	if i := strings.IndexAny(base, ".["); i >= 0 {
		base = base[:i]
	}
	var col string
	switch {
	case location && base == "name":
		col = "location_name_" + string(lang)
	case location && (base == "latitude" || base == "longitude"):
		col = base
	case location && base == "addresses":
		switch {
		case strings.Contains(field, "postal_code"):
			col = "postcode"
		case strings.Contains(field, "city"):
			col = "city"
		default:
			col = "address"
		}
	case location:
		return field
	case base == "name" || base == "description":
		col = base + "_" + string(lang)
	case base == "eligibility_description":
		col = "eligibility_" + string(lang)
	case base == "schedules" && strings.HasSuffix(field, ".notes"):
		col = "hours_notes_" + string(lang)
	case base == "schedules":
		col = "hours"
	case base == "phones":
		col = "phone"
	case base == "url":
		col = "website"
	case base == "service_at_locations":
		col = "address"
	case base == "categories", base == "audiences", base == "languages", base == "fee", base == "email", base == "status", base == "id":
		col = base
	default:
		return field
	}
	if h := t.header[col]; h != "" {
		return h
	}
	return col
}

// list splits a cell of several values: on ";", "|" or new lines, or
// else on ",".
func list(v string) []string {
	sep := func(r rune) bool { return r == ';' || r == '|' || r == '\n' }
	if !strings.ContainsAny(v, ";|\n") {
		sep = func(r rune) bool { return r == ',' }
	}
	var out []string
	for _, p := range strings.FieldsFunc(v, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// terms reads a cell of vocabulary values: codes, or labels in any
// language. A whole cell that is one label with commas is one value.
func terms(p *directory.Problems, field, cell string, vocab []directory.Term, known func(string) bool) []string {
	if cell == "" {
		return nil
	}
	if code, ok := lookupTerm(cell, vocab, known); ok {
		return []string{code}
	}
	var out []string
	for _, v := range list(cell) {
		code, ok := lookupTerm(v, vocab, known)
		if !ok {
			p.Add(field, "%q is not a code or a label of the shared taxonomy", v)
			continue
		}
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	return out
}

func lookupTerm(v string, vocab []directory.Term, known func(string) bool) (string, bool) {
	v = strings.TrimSpace(v)
	if known(v) {
		return v, true
	}
	f := headerKey(v) // "Demandeurs d'emploi" is the label "Demandeurs d’emploi"
	for _, t := range vocab {
		for _, l := range t.Names() {
			if headerKey(l) == f {
				return t.Code, true
			}
		}
	}
	return "", false
}

var statuses = map[string]directory.Status{
	"": directory.StatusActive, "active": directory.StatusActive, "actif": directory.StatusActive, "actief": directory.StatusActive,
	"inactive": directory.StatusInactive, "inactif": directory.StatusInactive, "inactief": directory.StatusInactive,
	"defunct": directory.StatusDefunct, "temporarily closed": directory.StatusTempClosed,
	"ferme temporairement": directory.StatusTempClosed, "tijdelijk gesloten": directory.StatusTempClosed,
}

func (t *templateReader) row(r row) error {
	tax := t.c.tax
	var sp, lp directory.Problems
	if r.extra {
		sp.Add("", "has more values than the header has columns")
	}
	s := &directory.Service{
		Name:        t.text(r, "name"),
		Description: t.text(r, "description"),
		Eligibility: t.text(r, "eligibility"),
		Email:       r.get("email"),
		URL:         r.get("website"),
		Fee:         r.get("fee"),
	}
	status, ok := statuses[directory.Fold(r.get("status"))]
	if !ok {
		status = directory.Status(r.get("status")) // refused by Validate, which lists the statuses
	}
	s.Status = status
	all := append(append([]directory.Term{}, tax.Categories...), tax.Terms...)
	s.Categories = terms(&sp, "categories", r.get("categories"), all, func(c string) bool { _, ok := tax.Category(c); return ok })
	s.Audiences = terms(&sp, "audiences", r.get("audiences"), tax.Audiences, tax.IsAudience)
	fee := terms(&sp, "fee", s.Fee, tax.Fees, tax.IsFee)
	s.Fee = ""
	switch {
	case len(fee) == 1:
		s.Fee = fee[0]
	case len(fee) > 1:
		sp.Add("fee", "names one fee kind (gratuit or payant)")
	}
	for _, l := range list(r.get("languages")) {
		if code := languageCode(l); !slices.Contains(s.Languages, code) {
			s.Languages = append(s.Languages, code)
		}
	}
	for _, ph := range strings.FieldsFunc(r.get("phone"), func(r rune) bool { return r == ';' || r == '\n' }) {
		if ph = strings.TrimSpace(ph); ph != "" {
			s.Phones = append(s.Phones, directory.Phone{Number: ph})
		}
	}
	sch, hp := ParseHours(r.get("hours"))
	for _, m := range hp {
		sp.Add("schedules", "%s", m)
	}
	sch.Notes = t.text(r, "hours_notes")
	s.Schedule = sch

	sid := r.get("id")
	rec := &Record{Kind: KindService, Where: r.where, SourceID: sid, Label: s.Name.In(directory.FR)}
	if sid != "" {
		s.ID = MapID(KindService, sid)
	} else if !s.Name.IsEmpty() {
		s.ID = MapID(KindService, "name:"+directory.Fold(s.Name[s.Name.Primary()]))
		rec.idHint = "without an id column, a service is known by its name: give each row an id"
	}

	if loc := t.location(r, s, &lp); loc != nil {
		lrec := &Record{Kind: KindLocation, Where: r.where, SourceID: r.get("location_id"), Label: loc.Name.In(directory.FR), Location: loc}
		lp = merge(lp, loc.Validate())
		lrec.Problems = lp
		locName := loc.Name // the importer keeps fields, not the record
		lrec.fields = func(f string) string { return t.column(f, locName, true) }
		if err := t.emit(lrec); err != nil {
			return err
		}
		s.Locations = []string{loc.ID}
	}
	sp = merge(sp, s.Validate(tax))
	rec.Service, rec.Problems = s, sp
	name := s.Name
	rec.fields = func(f string) string { return t.column(f, name, false) }
	return t.emit(rec)
}

// location reads the place of a row, if it has one. Rows at the same
// address share one location, unless location_id says otherwise.
func (t *templateReader) location(r row, s *directory.Service, p *directory.Problems) *directory.Location {
	street, postcode, city := r.get("address"), r.get("postcode"), r.get("city")
	lat, lon := r.get("latitude"), r.get("longitude")
	name := t.text(r, "location_name")
	id := r.get("location_id")
	if street == "" && postcode == "" && city == "" && lat == "" && lon == "" && name == nil && id == "" {
		return nil
	}
	l := &directory.Location{Name: name, Address: directory.Address{Street: street, Postcode: postcode, City: city, Country: "BE"}}
	if l.Name == nil {
		// A place without a name is called by its address, in the
		// language the service is written in.
		l.Name = directory.Text{}
		l.Name.Set(s.Name.Primary(), cmpOr(street, city))
	}
	la := parseFloat(p, "latitude", lat)
	lo := parseFloat(p, "longitude", lon)
	switch {
	case la != nil && lo != nil:
		l.Point = &directory.Point{Lat: *la, Lon: *lo}
	case (lat == "") != (lon == ""):
		p.Add("latitude", "latitude and longitude go together")
	}
	switch {
	case id != "":
		l.ID = MapID(KindLocation, id)
	case street != "":
		l.ID = MapID(KindLocation, "address:"+directory.Fold(street)+"|"+postcode+"|"+directory.Fold(city))
	case l.Point != nil:
		l.ID = MapID(KindLocation, fmt.Sprintf("point:%g,%g", l.Point.Lat, l.Point.Lon))
	default:
		l.ID = MapID(KindLocation, "place:"+directory.Fold(l.Name.In(directory.FR))+"|"+postcode+"|"+directory.Fold(city))
	}
	return l
}
