package hsdsio

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/maillage/maillage/directory"
)

// The converter turns HSDS records read from any source into the model.
// It is lenient where HSDS and the model differ only in form, and strict
// where the model would say something the source does not: a weekly
// rule limited to some weeks is refused, not imported as every week.

// scheduleIn is an HSDS schedule with the recurrence fields the model
// does not hold, read so that rules it cannot represent are refused.
type scheduleIn struct {
	ID           string                 `json:"id,omitempty"`
	ValidFrom    string                 `json:"valid_from,omitempty"`
	ValidTo      string                 `json:"valid_to,omitempty"`
	DtStart      string                 `json:"dtstart,omitempty"`
	Until        string                 `json:"until,omitempty"`
	Count        *float64               `json:"count,omitempty"`
	Interval     *float64               `json:"interval,omitempty"`
	Freq         string                 `json:"freq,omitempty"`
	ByDay        string                 `json:"byday,omitempty"`
	ByWeekNo     string                 `json:"byweekno,omitempty"`
	ByMonthDay   string                 `json:"bymonthday,omitempty"`
	ByYearDay    string                 `json:"byyearday,omitempty"`
	OpensAt      string                 `json:"opens_at,omitempty"`
	ClosesAt     string                 `json:"closes_at,omitempty"`
	Description  string                 `json:"description,omitempty"`
	Notes        string                 `json:"notes,omitempty"`
	Closed       bool                   `json:"closed,omitempty"`
	Translations directory.Translations `json:"translations,omitempty"`
}

// addressIn is an HSDS address with the fields the model folds away.
type addressIn struct {
	ID            string `json:"id,omitempty"`
	Address1      string `json:"address_1"`
	Address2      string `json:"address_2,omitempty"`
	City          string `json:"city"`
	Region        string `json:"region,omitempty"`
	StateProvince string `json:"state_province"`
	PostalCode    string `json:"postal_code"`
	Country       string `json:"country"`
	AddressType   string `json:"address_type"`
}

// serviceIn is a service as read from a source, before conversion. Its
// schedules, areas, attributes and languages are apart from w so that
// they can be checked and mended first.
type serviceIn struct {
	w          directory.HSDSService
	schedules  []scheduleIn
	schedPaths []string // where each schedule comes from, when not "schedules[i]"
	attributes []directory.HSDSAttribute
	areas      []directory.HSDSServiceArea
	languages  []directory.HSDSLanguage
	locations  []string // location ids as the source writes them
	problems   directory.Problems
	// terms resolves taxonomy term ids of the source (taxonomy_terms.csv)
	// to a code, a name and a taxonomy.
	terms map[string]directory.HSDSTaxonomyTerm
}

type locationIn struct {
	w         directory.HSDSLocation
	addresses []addressIn
	problems  directory.Problems
}

type organizationIn struct {
	w        directory.HSDSOrganization
	problems directory.Problems
}

type converter struct {
	tax   *directory.Taxonomy
	today string            // YYYY-MM-DD
	lang  directory.Lang    // of text in records that do not say (no text_language)
	byID  map[string]string // taxonomy term id → code, made on first use
}

// termByID is Taxonomy.TermByID from a table made once.
func (c *converter) termByID(id string) (string, bool) {
	if c.byID == nil {
		c.byID = map[string]string{}
		for _, ts := range [][]directory.Term{c.tax.Categories, c.tax.Terms} {
			for _, t := range ts {
				c.byID[t.ID()] = t.Code
			}
		}
	}
	code, ok := c.byID[id]
	return code, ok
}

// service converts in into rec.
func (c *converter) service(in *serviceIn, rec *Record) {
	w := in.w
	w.Schedules, w.Attributes, w.ServiceAreas, w.Languages, w.ServiceAtLocations = nil, nil, nil, nil, nil
	w.TextLanguage = cmpOr(w.TextLanguage, string(c.lang))
	rec.Kind, rec.SourceID = KindService, w.ID
	if rec.Label == "" {
		rec.Label = w.Name
	}
	p := slices.Clone(in.problems)
	var notes directory.Problems
	for i, s := range in.schedules {
		path := fmt.Sprintf("schedules[%d]", i)
		if i < len(in.schedPaths) && in.schedPaths[i] != "" {
			path = in.schedPaths[i]
		}
		c.checkRecurrence(&p, path, s)
		w.Schedules = append(w.Schedules, directory.HSDSSchedule{
			ID: s.ID, ValidFrom: s.ValidFrom, ValidTo: s.ValidTo, Freq: s.Freq, ByDay: s.ByDay,
			OpensAt: s.OpensAt, ClosesAt: s.ClosesAt, Description: s.Description, Notes: s.Notes,
			Closed: s.Closed, Translations: s.Translations,
		})
		if strings.EqualFold(s.Freq, "WEEKLY") {
			// The validity of a weekly rule was checked above; the model
			// reads valid_from on an entry as an exception's date.
			w.Schedules[i].ValidFrom, w.Schedules[i].ValidTo = "", ""
		}
	}
	for i, a := range in.attributes {
		code := c.attributeCode(a, in.terms)
		if code == "" {
			notes.Add(fmt.Sprintf("attributes[%d]", i), "%s is not a category of the shared taxonomy; left out", describeAttribute(a, in.terms))
			continue
		}
		if !slices.Contains(w.Categories, code) {
			w.Categories = append(slices.Clip(w.Categories), code)
		}
	}
	for i, a := range in.areas {
		switch a.ExtentType {
		case "geojson", "topojson", "kml":
			notes.Add(fmt.Sprintf("service_areas[%d].extent", i), "a %s extent is not held; its name and description are kept as text", a.ExtentType)
			a.ExtentType, a.Extent = "", ""
		case "text":
			if a.Name != "" {
				a.ExtentType = "" // keeps the name with the description
			}
		}
		w.ServiceAreas = append(w.ServiceAreas, a)
	}
	for _, l := range in.languages {
		l.Code = languageCode(l.Code)
		w.Languages = append(w.Languages, l)
	}
	for _, id := range in.locations {
		w.ServiceAtLocations = append(w.ServiceAtLocations, directory.HSDSServiceAtLocation{LocationID: id})
	}
	s, err := w.Model(c.tax)
	if err != nil {
		mp, ok := directory.AsProblems(err)
		if !ok {
			mp = directory.Problems{{Message: err.Error()}}
		}
		p = merge(p, renameSchedules(mp, in.schedPaths))
	}
	if strings.TrimSpace(w.ID) == "" {
		p.Add("id", "is required: without it, importing the file again would add the service again")
	}
	s.ID = MapID(KindService, w.ID)
	s.OrganizationID = ""
	for i, l := range s.Locations {
		s.Locations[i] = MapID(KindLocation, l)
	}
	s.Locations = slices.Compact(s.Locations)
	for _, l := range in.locations {
		if id := MapID(KindLocation, l); id != l {
			if rec.refs == nil {
				rec.refs = map[string]string{}
			}
			rec.refs[id] = l
		}
	}
	p = merge(p, s.Validate(c.tax))
	rec.Service, rec.Problems, rec.Notes = s, p, notes
	if w.OrganizationID != "" {
		rec.Org, rec.orgSource = MapID(KindOrganization, w.OrganizationID), w.OrganizationID
	}
}

// renameSchedules names schedule problems by where each schedule came
// from, when that is not the service's own schedules list.
func renameSchedules(p directory.Problems, paths []string) directory.Problems {
	for i := range p {
		for j, path := range paths {
			prefix := fmt.Sprintf("schedules[%d]", j)
			if path != "" && (p[i].Field == prefix || strings.HasPrefix(p[i].Field, prefix+".")) {
				p[i].Field = path + strings.TrimPrefix(p[i].Field, prefix)
			}
		}
	}
	return p
}

// checkRecurrence refuses weekly rules the model cannot hold: it keeps
// hours that apply every week from now on, so a rule that skips weeks,
// ends, or starts later would be imported as something it is not.
func (c *converter) checkRecurrence(p *directory.Problems, path string, s scheduleIn) {
	if !strings.EqualFold(s.Freq, "WEEKLY") {
		return // exceptions and other frequencies are read by the model
	}
	if s.Interval != nil && *s.Interval != 1 {
		p.Add(path+".interval", "%v: only a rule for every week (interval 1) can be held", *s.Interval)
	}
	if s.Count != nil {
		p.Add(path+".count", "a weekly rule that ends after a number of times cannot be held; the model keeps hours valid every week")
	}
	for _, f := range []struct{ name, v string }{{"until", s.Until}, {"valid_to", s.ValidTo}} {
		if f.v != "" {
			p.Add(path+"."+f.name, "a weekly rule that ends (%s) cannot be held; the model keeps hours valid every week", f.v)
		}
	}
	for _, f := range []struct{ name, v string }{{"valid_from", s.ValidFrom}, {"dtstart", s.DtStart}} {
		if d := dateOf(f.v); f.v != "" && (d == "" || d > c.today) {
			p.Add(path+"."+f.name, "%s: a weekly rule that starts later cannot be held; the model keeps hours valid from now on", f.v)
		}
	}
	for _, f := range []struct{ name, v string }{{"byweekno", s.ByWeekNo}, {"bymonthday", s.ByMonthDay}, {"byyearday", s.ByYearDay}} {
		if f.v != "" {
			p.Add(path+"."+f.name, "a weekly rule limited to some weeks or days of the month or year cannot be held")
		}
	}
}

// dateOf returns the YYYY-MM-DD date at the start of an ISO 8601 date or
// date-time, or "".
func dateOf(v string) string {
	if len(v) < 10 || v[4] != '-' || v[7] != '-' {
		return ""
	}
	return v[:10]
}

// attributeCode returns the shared taxonomy's code for an attribute, or "".
func (c *converter) attributeCode(a directory.HSDSAttribute, terms map[string]directory.HSDSTaxonomyTerm) string {
	if code, ok := c.termByID(a.TaxonomyTermID); ok {
		return code
	}
	term := a.TaxonomyTerm
	if term == nil {
		if t, ok := terms[a.TaxonomyTermID]; ok {
			term = &t
		}
	}
	if term != nil {
		if code, ok := c.termByID(term.ID); ok {
			return code
		}
		if _, ok := c.tax.Category(term.Code); ok {
			return term.Code
		}
	}
	if _, ok := c.tax.Category(a.Value); ok {
		return a.Value
	}
	return ""
}

func describeAttribute(a directory.HSDSAttribute, terms map[string]directory.HSDSTaxonomyTerm) string {
	term := a.TaxonomyTerm
	if term == nil {
		if t, ok := terms[a.TaxonomyTermID]; ok {
			term = &t
		}
	}
	switch {
	case term != nil && term.Code != "":
		return fmt.Sprintf("taxonomy term %q (%s)", term.Code, cmpOr(term.Taxonomy, "taxonomy not named"))
	case term != nil:
		return fmt.Sprintf("taxonomy term %q", cmpOr(term.Name, term.ID))
	case a.TaxonomyTermID != "":
		return fmt.Sprintf("taxonomy term %s", a.TaxonomyTermID)
	}
	return fmt.Sprintf("value %q", a.Value)
}

// languageCode writes a language as the model does, in ISO 639-1 when the
// language has such a code ("fra" and "fre" are "fr").
func languageCode(code string) string {
	code = strings.TrimSpace(code)
	if b, err := language.ParseBase(code); err == nil {
		return b.String()
	}
	return strings.ToLower(code)
}

// location converts in into rec.
func (c *converter) location(in *locationIn, rec *Record) {
	w := in.w
	w.Addresses = nil
	w.TextLanguage = cmpOr(w.TextLanguage, string(c.lang))
	rec.Kind, rec.SourceID = KindLocation, w.ID
	if rec.Label == "" {
		rec.Label = w.Name
	}
	p := slices.Clone(in.problems)
	var notes directory.Problems
	addrs := in.addresses
	if len(addrs) > 1 {
		var kept []addressIn
		for i, a := range addrs {
			if a.AddressType == "" || a.AddressType == "physical" {
				kept = append(kept, a)
			} else {
				notes.Add(fmt.Sprintf("addresses[%d]", i), "a %s address is left out: a location keeps the address where people go", a.AddressType)
			}
		}
		if len(kept) > 0 {
			addrs = kept
		}
	}
	for _, a := range addrs {
		street := strings.TrimSpace(a.Address1)
		if a2 := strings.TrimSpace(a.Address2); a2 != "" {
			street = strings.TrimSpace(street + ", " + a2)
		}
		w.Addresses = append(w.Addresses, directory.HSDSAddress{ID: a.ID, Address1: street, City: a.City, Region: a.Region,
			StateProvince: a.StateProvince, PostalCode: a.PostalCode, Country: a.Country, AddressType: a.AddressType})
	}
	l, err := w.Model()
	if err != nil {
		mp, ok := directory.AsProblems(err)
		if !ok {
			mp = directory.Problems{{Message: err.Error()}}
		}
		p = merge(p, mp)
	}
	if strings.TrimSpace(w.ID) == "" {
		p.Add("id", "is required: services name their locations by id")
	}
	l.ID = MapID(KindLocation, w.ID)
	p = merge(p, l.Validate())
	rec.Location, rec.Problems, rec.Notes = l, p, notes
}

// organization converts in into rec.
func (c *converter) organization(in *organizationIn, rec *Record) {
	w := in.w
	rec.Kind, rec.SourceID = KindOrganization, w.ID
	if rec.Label == "" {
		rec.Label = w.Name
	}
	w.Services = nil
	w.TextLanguage = cmpOr(w.TextLanguage, string(c.lang))
	p := slices.Clone(in.problems)
	o, err := w.Model()
	if err != nil {
		mp, ok := directory.AsProblems(err)
		if !ok {
			mp = directory.Problems{{Message: err.Error()}}
		}
		p = merge(p, mp)
	}
	if strings.TrimSpace(w.ID) == "" {
		p.Add("id", "is required")
	}
	o.ID = MapID(KindOrganization, w.ID)
	p = merge(p, o.Validate())
	rec.Organization, rec.Problems, rec.Org = o, p, o.ID
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
