package directory

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// reader reads one record's free text back from its HSDS fields and
// translations, and reports translations that name no field of it.
type reader struct {
	lang Lang
	tr   Translations
	path string
	used map[string]bool
}

func newReader(p *Problems, path, textLang string, tr Translations) *reader {
	l := FR
	if textLang != "" {
		var ok bool
		if l, ok = ParseLang(textLang); !ok || string(l) != textLang {
			p.Add(join(path, "text_language"), "must be one of fr, nl, en")
			l = FR
		}
	}
	for tl := range tr {
		if !slices.Contains(Langs, tl) {
			p.Add(join(path, "translations."+string(tl)), "language must be one of fr, nl, en")
		} else if tl == l {
			p.Add(join(path, "translations."+string(tl)), "repeats text_language; put that text in the fields themselves")
		}
	}
	return &reader{lang: l, tr: tr, path: path, used: map[string]bool{}}
}

// sub reads a nested record in the same language.
func (r *reader) sub(p *Problems, path string, tr Translations) *reader {
	return newReader(p, path, string(r.lang), tr)
}

func (r *reader) text(field, base string) Text {
	r.used[field] = true
	t := Text{}
	t.Set(r.lang, base)
	for l, fields := range r.tr {
		if l != r.lang && slices.Contains(Langs, l) {
			t.Set(l, fields[field])
		}
	}
	if len(t) == 0 {
		return nil
	}
	return t
}

func (r *reader) finish(p *Problems) {
	for _, l := range sortedLangs(r.tr) {
		var unknown []string
		for f := range r.tr[l] {
			if !r.used[f] {
				unknown = append(unknown, f)
			}
		}
		slices.Sort(unknown)
		for _, f := range unknown {
			p.Add(join(r.path, "translations."+string(l)+"."+f), "is not a text field of this record")
		}
	}
}

// DecodeService reads a service from its JSON wire form. The error, when
// not nil, is Problems listing everything wrong with the document's shape;
// call Service.Validate for the rules on values.
func DecodeService(data []byte, tax *Taxonomy) (*Service, error) {
	var w HSDSService
	if p := DecodeStrict(data, &w); len(p) > 0 {
		return nil, p
	}
	return w.Model(tax)
}

// Model converts the wire form back into a Service.
func (w *HSDSService) Model(tax *Taxonomy) (*Service, error) {
	var p Problems
	r := newReader(&p, "", w.TextLanguage, w.Translations)
	s := &Service{
		ID:                 w.ID,
		OrganizationID:     w.OrganizationID,
		Name:               r.text("name", w.Name),
		AlternateName:      r.text("alternate_name", w.AlternateName),
		Description:        r.text("description", w.Description),
		URL:                strings.TrimSpace(w.URL),
		Email:              strings.TrimSpace(w.Email),
		Status:             Status(w.Status),
		Interpretation:     r.text("interpretation_services", w.InterpretationServices),
		ApplicationProcess: r.text("application_process", w.ApplicationProcess),
		FeesDescription:    r.text("fees_description", w.FeesDescription),
		Eligibility:        r.text("eligibility_description", w.EligibilityDescription),
		MinimumAge:         w.MinimumAge,
		MaximumAge:         w.MaximumAge,
		Categories:         slices.Clone(w.Categories),
		Audiences:          w.Audiences,
		Fee:                w.Fee,
		Referral:           w.ReferralPolicy,
	}
	if s.Status == "" {
		s.Status = StatusActive
	}
	if s.Referral != nil && s.Referral.From == "" {
		s.Referral.From = FromPartners // referrals come from partners unless the service says otherwise
	}
	r.finish(&p)
	s.Phones = readPhones(&p, r, "phones", w.Phones)
	s.Schedule = readSchedules(&p, r, w.Schedules)
	s.Capacity = readCapacity(&p, w.ServiceCapacity, w.CapacityStatus)
	if w.AssuredDate != "" {
		if d, err := time.ParseInLocation(time.DateOnly, w.AssuredDate, Brussels()); err == nil {
			s.Reviewed = d
		} else {
			p.Add("assured_date", "%q is not a date (YYYY-MM-DD)", w.AssuredDate)
		}
	}
	s.Area = readAreas(&p, r, w.ServiceAreas)
	for i, sal := range w.ServiceAtLocations {
		if sal.LocationID == "" {
			p.Add(fmt.Sprintf("service_at_locations[%d].location_id", i), "is required")
			continue
		}
		if !slices.Contains(s.Locations, sal.LocationID) {
			s.Locations = append(s.Locations, sal.LocationID)
		}
	}
	for i, l := range w.Languages {
		if l.Code == "" {
			p.Add(fmt.Sprintf("languages[%d].code", i), "is required")
			continue
		}
		if !slices.Contains(s.Languages, l.Code) {
			s.Languages = append(s.Languages, l.Code)
		}
	}
	// Categories may also come as HSDS attributes linking taxonomy terms.
	for i, a := range w.Attributes {
		code := attributeCode(tax, a)
		if code == "" {
			p.Add(fmt.Sprintf("attributes[%d]", i), "does not name a term of the shared taxonomy")
			continue
		}
		if !slices.Contains(s.Categories, code) {
			s.Categories = append(s.Categories, code)
		}
	}
	return s, p.Err()
}

func attributeCode(tax *Taxonomy, a HSDSAttribute) string {
	if t, ok := tax.TermByID(a.TaxonomyTermID); ok {
		return t.Code
	}
	if a.TaxonomyTerm != nil {
		if t, ok := tax.TermByID(a.TaxonomyTerm.ID); ok {
			return t.Code
		}
		if _, ok := tax.Category(a.TaxonomyTerm.Code); ok {
			return a.TaxonomyTerm.Code
		}
	}
	if _, ok := tax.Category(a.Value); ok {
		return a.Value
	}
	return ""
}

func readPhones(p *Problems, r *reader, path string, in []HSDSPhone) []Phone {
	var out []Phone
	for i, w := range in {
		pr := r.sub(p, fmt.Sprintf("%s[%d]", path, i), w.Translations)
		out = append(out, Phone{Number: strings.TrimSpace(w.Number), Type: w.Type, Description: pr.text("description", w.Description)})
		pr.finish(p)
	}
	return out
}

// readCapacity reads HSDS 3.1's service_capacity (one entry) and the
// capacity_status extension. A unit of another scheme counts as places.
func readCapacity(p *Problems, in []HSDSServiceCapacity, status *HSDSCapacityStatus) *Capacity {
	if len(in) == 0 && status == nil {
		return nil
	}
	if len(in) > 1 {
		p.Add("service_capacity", "a service has one capacity")
	}
	c := &Capacity{Unit: UnitPlaces}
	if len(in) > 0 {
		w := in[0]
		c.Available, c.Maximum = w.Available, w.Maximum
		for _, u := range []string{w.Unit.Identifier, w.Unit.Name} {
			if slices.Contains(CapacityUnits, u) {
				c.Unit = u
				break
			}
		}
		if w.Updated != "" {
			t, err := time.Parse(time.RFC3339Nano, w.Updated)
			if err != nil {
				p.Add("service_capacity.updated", "%q is not an RFC 3339 date-time", w.Updated)
			}
			c.Updated = t
		}
	}
	if status != nil {
		if status.WaitingList != nil {
			wl := *status.WaitingList
			c.Waiting = &wl
		}
		c.NotAcceptingUntil = status.NotAcceptingUntil
	}
	return c
}

// periodKey names the period an entry belongs to.
type periodKey struct{ from, to, kind string }

// readPeriod adds a period entry to s: its dates and kind name the
// period; a closure, one slot of its hours, or its message.
func readPeriod(p *Problems, path string, w HSDSSchedule, desc Text, s *Schedule, periods map[periodKey]int) {
	switch w.Period {
	case PeriodClosed, PeriodHours, PeriodMessage:
	default:
		p.Add(path+".period", "must be closed, hours or message")
		return
	}
	if w.ValidFrom == "" || w.ValidTo == "" {
		p.Add(path+".valid_from", "a period needs valid_from and valid_to")
		return
	}
	k := periodKey{w.ValidFrom, w.ValidTo, w.Period}
	j, seen := periods[k]
	if !seen {
		j = len(s.Periods)
		periods[k] = j
		s.Periods = append(s.Periods, Period{From: w.ValidFrom, To: w.ValidTo, Closed: w.Period == PeriodClosed})
	}
	per := &s.Periods[j]
	per.Message = mergeText(per.Message, desc)
	if w.Period != PeriodHours {
		return
	}
	if !strings.EqualFold(w.Freq, "WEEKLY") {
		p.Add(path+".freq", "the hours of a period are WEEKLY")
		return
	}
	span, ok := readSpan(p, path, w.OpensAt, w.ClosesAt)
	if !ok {
		return
	}
	for _, code := range strings.Split(w.ByDay, ",") {
		d, ok := ParseDayCode(code)
		if !ok {
			p.Add(path+".byday", "%q is not a day code (MO, TU, WE, TH, FR, SA, SU)", code)
			continue
		}
		per.Hours = append(per.Hours, Slot{Day: d, Opens: span.Opens, Closes: span.Closes})
	}
}

func readSchedules(p *Problems, r *reader, in []HSDSSchedule) Schedule {
	var s Schedule
	exceptions := map[string]int{} // date → index in s.Exceptions
	periods := map[periodKey]int{} // → index in s.Periods
	for i, w := range in {
		path := fmt.Sprintf("schedules[%d]", i)
		sr := r.sub(p, path, w.Translations)
		desc := sr.text("description", w.Description)
		notes := sr.text("notes", w.Notes)
		sr.finish(p)
		switch {
		case w.Period != "":
			readPeriod(p, path, w, desc, &s, periods)
		case strings.EqualFold(w.Freq, "WEEKLY"):
			span, ok := readSpan(p, path, w.OpensAt, w.ClosesAt)
			if !ok {
				continue
			}
			if w.ByDay == "" {
				p.Add(path+".byday", "is required for a weekly schedule (MO,TU,…)")
			}
			for _, code := range strings.Split(w.ByDay, ",") {
				if code == "" {
					continue
				}
				d, ok := ParseDayCode(code)
				if !ok {
					p.Add(path+".byday", "%q is not a day code (MO, TU, WE, TH, FR, SA, SU)", code)
					continue
				}
				s.Weekly = append(s.Weekly, Slot{Day: d, Opens: span.Opens, Closes: span.Closes})
			}
			s.Notes = mergeText(s.Notes, notes)
		case w.Freq != "":
			p.Add(path+".freq", "only WEEKLY schedules are supported")
		case w.ValidFrom != "":
			if w.ValidTo != "" && w.ValidTo != w.ValidFrom {
				p.Add(path+".valid_to", "an exception covers one date: valid_to must equal valid_from")
			}
			if _, err := time.Parse(time.DateOnly, w.ValidFrom); err != nil {
				p.Add(path+".valid_from", "%q is not a date (YYYY-MM-DD)", w.ValidFrom)
				continue
			}
			j, seen := exceptions[w.ValidFrom]
			if !seen {
				j = len(s.Exceptions)
				exceptions[w.ValidFrom] = j
				s.Exceptions = append(s.Exceptions, Exception{Date: w.ValidFrom})
			}
			ex := &s.Exceptions[j]
			ex.Note = mergeText(ex.Note, desc)
			if w.Closed || (w.OpensAt == "" && w.ClosesAt == "") {
				ex.Closed = true
				continue
			}
			if span, ok := readSpan(p, path, w.OpensAt, w.ClosesAt); ok {
				ex.Hours = append(ex.Hours, span)
			}
		default:
			s.Notes = mergeText(s.Notes, mergeText(notes, desc))
		}
	}
	return s
}

func mergeText(a, b Text) Text {
	if b.IsEmpty() {
		return a
	}
	if a == nil {
		a = Text{}
	}
	for l, v := range b {
		if a[l] == "" {
			a[l] = v
		} else {
			a[l] += "\n" + v
		}
	}
	return a
}

func readSpan(p *Problems, path, opens, closes string) (Span, bool) {
	o, err1 := ParseClock(opens)
	if err1 != nil {
		p.Add(path+".opens_at", "%s", err1)
	}
	c, err2 := ParseClock(closes)
	if err2 != nil {
		p.Add(path+".closes_at", "%s", err2)
	}
	return Span{o, c}, err1 == nil && err2 == nil
}

func readAreas(p *Problems, r *reader, in []HSDSServiceArea) ServiceArea {
	var a ServiceArea
	for i, w := range in {
		path := fmt.Sprintf("service_areas[%d]", i)
		ar := r.sub(p, path, w.Translations)
		desc := ar.text("description", w.Description)
		ar.finish(p)
		switch w.ExtentType {
		case "postcode":
			a.Postcodes = append(a.Postcodes, strings.TrimSpace(w.Name))
		case "commune":
			a.Communes = append(a.Communes, strings.TrimSpace(w.Name))
		case "radius":
			rad, err := parseRadius(w.Extent)
			if err != nil {
				p.Add(path+".extent", "%s", err)
				continue
			}
			if a.Radius != nil {
				p.Add(path, "a service area has at most one radius")
			}
			a.Radius = rad
		case "text", "":
			if w.ExtentType == "" && w.Name != "" {
				desc = mergeText(Text{r.lang: w.Name}, desc)
			}
			a.Description = mergeText(a.Description, desc)
		default:
			p.Add(path+".extent_type", "must be postcode, commune, radius or text")
		}
	}
	return a
}

func parseRadius(extent string) (*Radius, error) {
	parts := strings.Split(extent, ",")
	if len(parts) != 3 {
		return nil, fmt.Errorf("radius extent must be \"lat,lon,km\"")
	}
	var v [3]float64
	for i, s := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("radius extent must be \"lat,lon,km\"")
		}
		v[i] = f
	}
	return &Radius{Center: Point{Lat: v[0], Lon: v[1]}, Km: v[2]}, nil
}

// DecodeLocation reads a location from its JSON wire form.
func DecodeLocation(data []byte) (*Location, error) {
	var w HSDSLocation
	if p := DecodeStrict(data, &w); len(p) > 0 {
		return nil, p
	}
	return w.Model()
}

// Model converts the wire form back into a Location.
func (w *HSDSLocation) Model() (*Location, error) {
	var p Problems
	r := newReader(&p, "", w.TextLanguage, w.Translations)
	l := &Location{
		ID:             w.ID,
		Name:           r.text("name", w.Name),
		Description:    r.text("description", w.Description),
		Transportation: r.text("transportation", w.Transportation),
		WheelchairOK:   w.Wheelchair,
	}
	var acc string
	for _, a := range w.Accessibility {
		acc = strings.TrimSpace(acc + "\n" + a.Description)
	}
	l.Accessibility = r.text("accessibility", acc)
	r.finish(&p)
	if w.LocationType != "" && w.LocationType != "physical" {
		p.Add("location_type", "only physical locations are supported")
	}
	if (w.Latitude == nil) != (w.Longitude == nil) {
		p.Add("latitude", "latitude and longitude go together")
	} else if w.Latitude != nil {
		l.Point = &Point{Lat: *w.Latitude, Lon: *w.Longitude}
	}
	switch len(w.Addresses) {
	case 0:
		l.Address.Country = "BE"
	case 1:
		a := w.Addresses[0]
		l.Address = Address{
			Street:   strings.TrimSpace(a.Address1),
			Postcode: strings.TrimSpace(a.PostalCode),
			City:     strings.TrimSpace(a.City),
			Region:   strings.TrimSpace(cmpOr(a.Region, a.StateProvince)),
			Country:  strings.ToUpper(strings.TrimSpace(cmpOr(a.Country, "BE"))),
		}
	default:
		p.Add("addresses", "a location has one address")
	}
	return l, p.Err()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// DecodeOrganization reads an organization from its JSON wire form.
func DecodeOrganization(data []byte) (*Organization, error) {
	var w HSDSOrganization
	if p := DecodeStrict(data, &w); len(p) > 0 {
		return nil, p
	}
	return w.Model()
}

// Model converts the wire form back into an Organization. Services listed
// in it are not read: they are created through their own endpoint.
func (w *HSDSOrganization) Model() (*Organization, error) {
	var p Problems
	r := newReader(&p, "", w.TextLanguage, w.Translations)
	o := &Organization{
		ID:          w.ID,
		Name:        r.text("name", w.Name),
		Description: r.text("description", w.Description),
		Email:       strings.TrimSpace(w.Email),
		Website:     strings.TrimSpace(w.Website),
		LegalStatus: strings.TrimSpace(w.LegalStatus),
	}
	r.finish(&p)
	o.Phones = readPhones(&p, r, "phones", w.Phones)
	for _, id := range w.OrganizationIdentifiers {
		scheme := id.IdentifierScheme
		if scheme == "" {
			scheme = id.IdentifierType
		}
		o.Identifiers = append(o.Identifiers, Identifier{Scheme: scheme, Value: strings.TrimSpace(id.Identifier)})
	}
	if len(w.Services) > 0 {
		p.Add("services", "services are managed through /api/v1/services")
	}
	return o, p.Err()
}
