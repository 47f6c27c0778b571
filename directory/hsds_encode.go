package directory

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// HSDSEncoder turns records into their wire form.
//
// Lang is the language wanted in the HSDS fields. With Display false (the
// JSON API) the encoding is exact: a record whose name lacks Lang is
// written in its own primary language, and every other language goes to
// translations, so decoding gives the record back. With Display true (the
// HSDS read API, meant for people and plain HSDS consumers) every HSDS
// field is filled in Lang with fallback to the other languages.
type HSDSEncoder struct {
	Taxonomy *Taxonomy
	Lang     Lang
	Display  bool
}

// texts collects one record's translations while its fields are written.
type texts struct {
	lang    Lang
	display bool
	tr      Translations
}

func (e HSDSEncoder) texts(name Text) *texts {
	l := e.Lang
	if l == "" {
		l = FR
	}
	if !e.Display && name[l] == "" && !name.IsEmpty() {
		l = name.Primary()
	}
	return &texts{lang: l, display: e.Display}
}

// sub returns a collector for a nested record in the same language.
func (x *texts) sub() *texts { return &texts{lang: x.lang, display: x.display} }

func (x *texts) put(field string, t Text) string {
	for l, v := range t {
		if l == x.lang || v == "" {
			continue
		}
		if x.tr == nil {
			x.tr = Translations{}
		}
		if x.tr[l] == nil {
			x.tr[l] = map[string]string{}
		}
		x.tr[l][field] = v
	}
	if x.display {
		return t.In(x.lang)
	}
	return t[x.lang]
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Service encodes s. Locations found in locs are embedded in
// service_at_locations; org, when not nil, is embedded as organization.
func (e HSDSEncoder) Service(s *Service, locs map[string]*Location, org *Organization) HSDSService {
	x := e.texts(s.Name)
	w := HSDSService{
		ID:                     s.ID,
		OrganizationID:         s.OrganizationID,
		Name:                   x.put("name", s.Name),
		AlternateName:          x.put("alternate_name", s.AlternateName),
		Description:            x.put("description", s.Description),
		URL:                    s.URL,
		Email:                  s.Email,
		Status:                 string(s.Status),
		InterpretationServices: x.put("interpretation_services", s.Interpretation),
		ApplicationProcess:     x.put("application_process", s.ApplicationProcess),
		FeesDescription:        x.put("fees_description", s.FeesDescription),
		EligibilityDescription: x.put("eligibility_description", s.Eligibility),
		MinimumAge:             s.MinimumAge,
		MaximumAge:             s.MaximumAge,
		LastModified:           stamp(s.Updated),
		Created:                stamp(s.Created),
		Phones:                 e.phones(x, s.ID, s.Phones),
		Schedules:              e.schedules(x, s.ID, s.Schedule),
		ServiceAreas:           e.areas(x, s.ID, s.Area),
		Languages:              e.languages(x.lang, s.ID, s.Languages),
		Attributes:             e.attributes(x.lang, s.ID, s.Categories),
		TextLanguage:           string(x.lang),
		Categories:             s.Categories,
		Audiences:              s.Audiences,
		Fee:                    s.Fee,
		ReferralPolicy:         s.Referral,
	}
	if !s.Reviewed.IsZero() {
		w.AssuredDate = DateOf(s.Reviewed)
	}
	w.ServiceCapacity, w.CapacityStatus = capacityWire(s)
	for _, id := range s.Locations {
		sal := HSDSServiceAtLocation{ID: DerivedID(s.ID, "service_at_location", id), ServiceID: s.ID, LocationID: id}
		if l := locs[id]; l != nil {
			wl := e.Location(l)
			sal.Location = &wl
		}
		w.ServiceAtLocations = append(w.ServiceAtLocations, sal)
	}
	if org != nil {
		wo := e.Organization(org)
		w.Organization = &wo
	}
	w.Translations = x.tr
	return w
}

func (e HSDSEncoder) phones(x *texts, owner string, phones []Phone) []HSDSPhone {
	var out []HSDSPhone
	for i, p := range phones {
		px := x.sub()
		out = append(out, HSDSPhone{
			ID:          DerivedID(owner, "phone", fmt.Sprint(i)),
			Number:      p.Number,
			Type:        p.Type,
			Description: px.put("description", p.Description),
		})
		out[i].Translations = px.tr
	}
	return out
}

func (e HSDSEncoder) schedules(x *texts, owner string, s Schedule) []HSDSSchedule {
	var out []HSDSSchedule
	add := func(w HSDSSchedule, note Text, field string) {
		sx := x.sub()
		v := sx.put(field, note)
		if field == "notes" {
			w.Notes = v
		} else {
			w.Description = v
		}
		w.Translations = sx.tr
		w.ID = DerivedID(owner, "schedule", fmt.Sprint(len(out)))
		out = append(out, w)
	}
	// One entry per distinct opening period, listing the days it applies.
	type period struct{ opens, closes Clock }
	days := map[period][]time.Weekday{}
	var order []period
	for _, sl := range s.Weekly {
		k := period{sl.Opens, sl.Closes}
		if _, ok := days[k]; !ok {
			order = append(order, k)
		}
		days[k] = append(days[k], sl.Day)
	}
	for _, k := range order {
		var codes []string
		for _, d := range days[k] {
			codes = append(codes, DayCode(d))
		}
		add(HSDSSchedule{Freq: "WEEKLY", ByDay: strings.Join(codes, ","), OpensAt: k.opens.String(), ClosesAt: k.closes.String()}, nil, "description")
	}
	for _, ex := range s.Exceptions {
		if ex.Closed || len(ex.Hours) == 0 {
			add(HSDSSchedule{ValidFrom: ex.Date, ValidTo: ex.Date, Closed: true}, ex.Note, "description")
			continue
		}
		for i, h := range ex.Hours {
			var note Text
			if i == 0 {
				note = ex.Note
			}
			add(HSDSSchedule{ValidFrom: ex.Date, ValidTo: ex.Date, OpensAt: h.Opens.String(), ClosesAt: h.Closes.String()}, note, "description")
		}
	}
	for _, p := range s.Periods {
		w := HSDSSchedule{ValidFrom: p.From, ValidTo: p.To}
		switch {
		case p.Closed:
			w.Period, w.Closed = PeriodClosed, true
			add(w, p.Message, "description")
		case len(p.Hours) > 0:
			// One entry per slot, in the order given: the first carries
			// the message.
			for i, sl := range p.Hours {
				var msg Text
				if i == 0 {
					msg = p.Message
				}
				add(HSDSSchedule{ValidFrom: p.From, ValidTo: p.To, Period: PeriodHours, Freq: "WEEKLY", ByDay: DayCode(sl.Day),
					OpensAt: sl.Opens.String(), ClosesAt: sl.Closes.String()}, msg, "description")
			}
		default:
			w.Period = PeriodMessage
			add(w, p.Message, "description")
		}
	}
	if !s.Notes.IsEmpty() {
		add(HSDSSchedule{}, s.Notes, "notes")
	}
	return out
}

// capacityWire writes a service's capacity as HSDS 3.1's
// service_capacity and the capacity_status extension.
func capacityWire(s *Service) ([]HSDSServiceCapacity, *HSDSCapacityStatus) {
	c := s.Capacity
	if c == nil {
		return nil, nil
	}
	unit := c.UnitOrDefault()
	w := HSDSServiceCapacity{
		ID: DerivedID(s.ID, "service_capacity"), ServiceID: s.ID,
		Unit:      HSDSUnit{ID: DerivedID("capacity-unit", unit), Name: unit, Scheme: CapacityUnitScheme, Identifier: unit},
		Available: c.Available, Maximum: c.Maximum,
	}
	if !c.Updated.IsZero() {
		w.Updated = c.Updated.UTC().Format(time.RFC3339Nano)
	}
	var status *HSDSCapacityStatus
	if c.Waiting != nil || c.NotAcceptingUntil != "" {
		status = &HSDSCapacityStatus{NotAcceptingUntil: c.NotAcceptingUntil}
		if c.Waiting != nil {
			wl := *c.Waiting
			status.WaitingList = &wl
		}
	}
	return []HSDSServiceCapacity{w}, status
}

func (e HSDSEncoder) areas(x *texts, owner string, a ServiceArea) []HSDSServiceArea {
	var out []HSDSServiceArea
	add := func(w HSDSServiceArea) {
		w.ID = DerivedID(owner, "service_area", fmt.Sprint(len(out)))
		out = append(out, w)
	}
	for _, pc := range a.Postcodes {
		add(HSDSServiceArea{Name: pc, ExtentType: "postcode"})
	}
	for _, c := range a.Communes {
		add(HSDSServiceArea{Name: c, ExtentType: "commune"})
	}
	if r := a.Radius; r != nil {
		add(HSDSServiceArea{ExtentType: "radius", Extent: fmt.Sprintf("%g,%g,%g", r.Center.Lat, r.Center.Lon, r.Km)})
	}
	if !a.Description.IsEmpty() {
		ax := x.sub()
		w := HSDSServiceArea{ExtentType: "text", Description: ax.put("description", a.Description)}
		w.Translations = ax.tr
		add(w)
	}
	return out
}

func (e HSDSEncoder) languages(l Lang, owner string, codes []string) []HSDSLanguage {
	names := display.Tags(language.Make(string(l)))
	var out []HSDSLanguage
	for _, c := range codes {
		out = append(out, HSDSLanguage{ID: DerivedID(owner, "language", c), Code: c, Name: names.Name(language.Make(c))})
	}
	return out
}

func (e HSDSEncoder) attributes(l Lang, owner string, codes []string) []HSDSAttribute {
	var out []HSDSAttribute
	for _, c := range codes {
		term, ok := e.Taxonomy.Category(c)
		if !ok {
			continue
		}
		wt := e.Term(term, l)
		out = append(out, HSDSAttribute{
			ID:             DerivedID(owner, "attribute", c),
			LinkID:         owner,
			LinkType:       "service",
			LinkEntity:     "service",
			TaxonomyTermID: wt.ID,
			Value:          c,
			TaxonomyTerm:   &wt,
		})
	}
	return out
}

// Term encodes a category or term of the shared taxonomy in l.
func (e HSDSEncoder) Term(t Term, l Lang) HSDSTaxonomyTerm {
	x := &texts{lang: l, display: true}
	w := HSDSTaxonomyTerm{
		ID:         t.ID(),
		Code:       t.Code,
		Name:       x.put("name", t.Labels),
		Taxonomy:   "maillage-themes",
		TaxonomyID: TaxonomyID,
		Language:   string(l),
	}
	w.Description = w.Name
	if t.Parent != "" {
		w.ParentID = DerivedID("taxonomy-term", t.Parent)
	}
	w.Translations = x.tr
	return w
}

// Taxonomy describes the shared category taxonomy as an HSDS taxonomy.
func (e HSDSEncoder) TaxonomyRecord() HSDSTaxonomy {
	return HSDSTaxonomy{
		ID:          TaxonomyID,
		Name:        "maillage-themes",
		Description: e.Taxonomy.Source,
		Version:     "1",
	}
}

// Organization encodes o.
func (e HSDSEncoder) Organization(o *Organization) HSDSOrganization {
	x := e.texts(o.Name)
	w := HSDSOrganization{
		ID:           o.ID,
		Name:         x.put("name", o.Name),
		Description:  x.put("description", o.Description),
		Email:        o.Email,
		Website:      o.Website,
		LegalStatus:  o.LegalStatus,
		Phones:       e.phones(x, o.ID, o.Phones),
		TextLanguage: string(x.lang),
		LastModified: stamp(o.Updated),
	}
	for i, id := range o.Identifiers {
		w.OrganizationIdentifiers = append(w.OrganizationIdentifiers, HSDSOrgIdentifier{
			ID:               DerivedID(o.ID, "identifier", fmt.Sprint(i)),
			IdentifierScheme: id.Scheme,
			IdentifierType:   identifierType(id.Scheme),
			Identifier:       id.Value,
		})
	}
	w.Translations = x.tr
	return w
}

func identifierType(scheme string) string {
	if scheme == SchemeBCE {
		return "enterprise number"
	}
	return scheme
}

// Location encodes l.
func (e HSDSEncoder) Location(l *Location) HSDSLocation {
	x := e.texts(l.Name)
	w := HSDSLocation{
		ID:             l.ID,
		LocationType:   "physical",
		Name:           x.put("name", l.Name),
		Description:    x.put("description", l.Description),
		Transportation: x.put("transportation", l.Transportation),
		Wheelchair:     l.WheelchairOK,
		TextLanguage:   string(x.lang),
		LastModified:   stamp(l.Updated),
	}
	if l.Point != nil {
		lat, lon := l.Point.Lat, l.Point.Lon
		w.Latitude, w.Longitude = &lat, &lon
	}
	a := l.Address
	if a != (Address{}) {
		w.Addresses = []HSDSAddress{{
			ID:            DerivedID(l.ID, "address"),
			Address1:      a.Street,
			City:          a.City,
			Region:        a.Region,
			StateProvince: a.Region,
			PostalCode:    a.Postcode,
			Country:       a.Country,
			AddressType:   "physical",
		}}
	}
	if !l.Accessibility.IsEmpty() {
		acc := x.put("accessibility", l.Accessibility)
		w.Accessibility = []HSDSAccessibility{{ID: DerivedID(l.ID, "accessibility"), Description: acc}}
	}
	w.Translations = x.tr
	return w
}

// sortedLangs returns the languages of tr in the order of Langs.
func sortedLangs(tr Translations) []Lang {
	var out []Lang
	for l := range tr {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Lang) int { return slices.Index(Langs, a) - slices.Index(Langs, b) })
	return out
}
