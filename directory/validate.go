package directory

import (
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Length limits of free-text fields, in characters.
const (
	maxName        = 200
	maxDescription = 5000
	maxShortText   = 1000
	maxComplements = 50
	maxPhones      = 20
	maxList        = 100
	maxSlots       = 70
	maxExceptions  = 400
	maxPeriods     = 50
	maxMessage     = 500
	// How far ahead a period may start, counted from the day it is set.
	maxPeriodAhead = 2 // years
)

// Validate returns every problem with s, checked against tax.
func (s *Service) Validate(tax *Taxonomy) Problems {
	var p Problems
	if s.ID != "" && !IsUUID(s.ID) {
		p.Rule("id", CodeUUID, "must be a UUID in lower case")
	}
	checkText(&p, "name", s.Name, maxName, true)
	checkText(&p, "alternate_name", s.AlternateName, maxName, false)
	checkText(&p, "description", s.Description, maxDescription, false)
	checkText(&p, "fees_description", s.FeesDescription, maxShortText, false)
	checkText(&p, "eligibility_description", s.Eligibility, maxShortText, false)
	checkText(&p, "application_process", s.ApplicationProcess, maxShortText, false)
	checkText(&p, "interpretation_services", s.Interpretation, maxShortText, false)
	checkURL(&p, "url", s.URL)
	if len(s.Complements) > maxComplements {
		p.Rule("complements", CodeTooMany, "lists more than %d services", maxComplements)
	}
	seenComplement := map[string]bool{}
	for i, c := range s.Complements {
		field := fmt.Sprintf("complements[%d]", i)
		if u, err := url.Parse(c.URI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(c.URI) > 2048 {
			p.Rule(field+".uri", CodeURL, "must be the http(s) id of a service")
		}
		if seenComplement[c.URI] {
			p.Rule(field+".uri", CodeDuplicate, "is listed twice")
		}
		seenComplement[c.URI] = true
		if utf8.RuneCountInString(c.Note) > maxShortText {
			p.Rule(field+".note", CodeTooLong, "is longer than %d characters", maxShortText)
		}
	}
	checkEmail(&p, "email", s.Email)
	switch s.Status {
	case StatusActive, StatusInactive, StatusDefunct, StatusTempClosed:
	default:
		p.Rule("status", CodeChoice, "must be one of active, inactive, defunct, temporarily closed")
	}
	checkPhones(&p, "phones", s.Phones)
	checkList(&p, "categories", s.Categories, func(c string) bool { _, ok := tax.Category(c); return ok }, CodeTaxonomy, "is not a category of the taxonomy")
	checkList(&p, "audiences", s.Audiences, tax.IsAudience, CodeTaxonomy, "is not an audience of the taxonomy")
	checkList(&p, "languages", s.Languages, isLanguageCode, CodeLanguageCode, "is not a two-letter ISO 639-1 language code")
	if s.Fee != "" && !tax.IsFee(s.Fee) {
		p.Rule("fee", CodeTaxonomy, "%q is not a fee kind of the taxonomy", s.Fee)
	}
	checkAge(&p, "minimum_age", s.MinimumAge)
	checkAge(&p, "maximum_age", s.MaximumAge)
	if s.MinimumAge != nil && s.MaximumAge != nil && *s.MinimumAge > *s.MaximumAge {
		p.Rule("maximum_age", CodeAgeOrder, "is below minimum_age")
	}
	checkList(&p, "service_at_locations", s.Locations, IsUUID, CodeUUID, "has a location_id that is not a UUID")
	s.Schedule.validate(&p, "schedules")
	if s.Capacity != nil {
		s.Capacity.validate(&p, "service_capacity")
	}
	s.Area.validate(&p, "service_areas")
	if s.Referral != nil {
		s.Referral.validate(&p, "referral_policy")
	}
	return p
}

func (r *ReferralPolicy) validate(p *Problems, field string) {
	if r.From != FromPartners && r.From != FromNetwork {
		p.Rule(field+".from", CodeChoice, "must be %q or %q", FromPartners, FromNetwork)
	}
	seen := map[DataCategory]bool{}
	for i, c := range r.Categories {
		if !slices.Contains(DataCategories, c) {
			p.Rule(fmt.Sprintf("%s.categories[%d]", field, i), CodeDataCategory, "%q is not a data category (identity, contact, situation, documents, special)", c)
		}
		if seen[c] {
			p.Rule(fmt.Sprintf("%s.categories[%d]", field, i), CodeDuplicate, "%q is listed twice", c)
		}
		seen[c] = true
	}
	if utf8.RuneCountInString(r.Note) > maxShortText {
		p.Rule(field+".note", CodeTooLong, "is longer than %d characters", maxShortText)
	}
}

func (s Schedule) validate(p *Problems, field string) {
	if len(s.Weekly) > maxSlots {
		p.Rule(field, CodeTooMany, "has more than %d weekly slots", maxSlots)
	}
	for i, sl := range s.Weekly {
		f := fmt.Sprintf("%s[%d]", field, i)
		if sl.Day < time.Sunday || sl.Day > time.Saturday {
			p.Rule(f+".byday", CodeDay, "is not a day of the week")
		}
		checkSpan(p, f, Span{sl.Opens, sl.Closes})
	}
	if len(s.Exceptions) > maxExceptions {
		p.Rule(field, CodeTooMany, "has more than %d exceptions", maxExceptions)
	}
	for i, e := range s.Exceptions {
		f := fmt.Sprintf("%s[%d]", field, len(s.Weekly)+i)
		if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
			p.Rule(f+".valid_from", CodeDate, "%q is not a date (YYYY-MM-DD)", e.Date)
		}
		if e.Closed && len(e.Hours) > 0 {
			p.Rule(f, CodeClosedAndOpen, "cannot be both closed and open")
		}
		for _, h := range e.Hours {
			checkSpan(p, f, h)
		}
		checkText(p, f+".description", e.Note, maxShortText, false)
	}
	checkText(p, field+".notes", s.Notes, maxShortText, false)
	validatePeriods(p, s.Periods)
}

// validatePeriods checks the dated changes: dates in order, a year at
// most, something said, and no two that disagree on a day (closed and
// open, or open at other hours). Their paths are periods[i].from, …
func validatePeriods(p *Problems, periods []Period) {
	if len(periods) > maxPeriods {
		p.Rule("periods", CodeTooMany, "has more than %d periods", maxPeriods)
	}
	for i, per := range periods {
		f := fmt.Sprintf("periods[%d]", i)
		from, err1 := time.Parse(time.DateOnly, per.From)
		if err1 != nil {
			p.Rule(f+".from", CodeDate, "%q is not a date (YYYY-MM-DD)", per.From)
		}
		to, err2 := time.Parse(time.DateOnly, per.To)
		if err2 != nil {
			p.Rule(f+".to", CodeDate, "%q is not a date (YYYY-MM-DD)", per.To)
		}
		if err1 == nil && err2 == nil {
			if to.Before(from) {
				p.Rule(f+".to", CodePeriodOrder, "is before from")
			} else if !to.Before(from.AddDate(1, 0, 0)) {
				p.Rule(f+".to", CodePeriodTooLong, "makes the period longer than a year")
			}
		}
		if per.Closed && len(per.Hours) > 0 {
			p.Rule(f, CodeClosedAndOpen, "cannot be both closed and open")
		}
		if !per.ChangesHours() && per.Message.IsEmpty() {
			p.Rule(f, CodePeriodEmpty, "says nothing: closed, hours or a message")
		}
		if len(per.Hours) > maxSlots {
			p.Rule(f+".hours", CodeTooMany, "has more than %d slots", maxSlots)
		}
		for k, sl := range per.Hours {
			hf := fmt.Sprintf("%s.hours[%d]", f, k)
			if sl.Day < time.Sunday || sl.Day > time.Saturday {
				p.Rule(hf+".byday", CodeDay, "is not a day of the week")
			}
			checkSpan(p, hf, Span{sl.Opens, sl.Closes})
		}
		checkText(p, f+".message", per.Message, maxMessage, false)
		for j := range i {
			if q := periods[j]; contradict(q, per) {
				p.Rule(f, CodePeriodOverlap, "covers days of periods[%d] with other hours", j)
				break
			}
		}
	}
}

// contradict reports whether two periods share a day and say different
// things of its hours.
func contradict(a, b Period) bool {
	if !a.ChangesHours() || !b.ChangesHours() || a.To < b.From || b.To < a.From {
		return false
	}
	if a.Closed || b.Closed {
		return a.Closed != b.Closed
	}
	return !sameSlots(a.Hours, b.Hours)
}

func sameSlots(a, b []Slot) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	for _, s := range b {
		if !slices.Contains(a, s) {
			return false
		}
	}
	return true
}

// checkPeriodDates checks what depends on the day the periods are set:
// a period new or changed since old ends today or later and starts at
// most two years ahead. Periods kept as they were are not checked
// again: one that has ended stays as it was until it is removed.
func checkPeriodDates(p *Problems, periods, old []Period, now time.Time) {
	today := DateOf(now)
	limit := dayOf(now).AddDate(maxPeriodAhead, 0, 0).Format(time.DateOnly)
	for i, per := range periods {
		if slices.ContainsFunc(old, func(o Period) bool { return samePeriod(o, per) }) {
			continue
		}
		f := fmt.Sprintf("periods[%d]", i)
		if _, err := time.Parse(time.DateOnly, per.From); err == nil && per.From > limit {
			p.Rule(f+".from", CodeDateTooFar, "is more than %d years ahead", maxPeriodAhead)
		}
		if _, err := time.Parse(time.DateOnly, per.To); err == nil && per.To < today {
			p.Rule(f+".to", CodeDatePast, "is already past")
		}
	}
}

func samePeriod(a, b Period) bool {
	return a.From == b.From && a.To == b.To && a.Closed == b.Closed && sameSlots(a.Hours, b.Hours) && maps.Equal(a.Message, b.Message)
}

func checkSpan(p *Problems, field string, s Span) {
	if s.Opens < 0 || s.Closes > 24*60 {
		p.Rule(field+".opens_at", CodeTime, "is not a time of day")
	}
	if s.Opens >= s.Closes {
		p.Rule(field+".closes_at", CodeClosesAfter, "must be after opens_at")
	}
}

var postcodeBE = regexp.MustCompile(`^[1-9][0-9]{3}$`)

func (a ServiceArea) validate(p *Problems, field string) {
	checkList(p, field+".postcodes", a.Postcodes, postcodeBE.MatchString, CodePostcode, "is not a Belgian postcode (4 digits)")
	checkList(p, field+".communes", a.Communes, func(c string) bool {
		return c != "" && utf8.RuneCountInString(c) <= maxName
	}, CodeCommune, "is not a commune name")
	if r := a.Radius; r != nil {
		checkPoint(p, field+".radius", r.Center)
		if !(r.Km > 0 && r.Km <= 500) {
			p.Rule(field+".radius", CodeRadius, "radius must be between 0 and 500 km")
		}
	}
	checkText(p, field+".description", a.Description, maxShortText, false)
}

// Validate returns every problem with l.
func (l *Location) Validate() Problems {
	var p Problems
	if l.ID != "" && !IsUUID(l.ID) {
		p.Rule("id", CodeUUID, "must be a UUID in lower case")
	}
	checkText(&p, "name", l.Name, maxName, true)
	checkText(&p, "description", l.Description, maxDescription, false)
	checkText(&p, "accessibility", l.Accessibility, maxShortText, false)
	checkText(&p, "transportation", l.Transportation, maxShortText, false)
	a := l.Address
	if strings.TrimSpace(a.Street) == "" && l.Point == nil {
		p.Rule("addresses[0].address_1", CodeAddressOrPoint, "is required unless the location has coordinates")
	}
	if len(a.Country) != 2 || strings.ToUpper(a.Country) != a.Country {
		p.Rule("addresses[0].country", CodeCountry, "must be an ISO 3166-1 alpha-2 code such as BE")
	}
	if a.Country == "BE" && a.Postcode != "" && !postcodeBE.MatchString(a.Postcode) {
		p.Rule("addresses[0].postal_code", CodePostcode, "%q is not a Belgian postcode (4 digits)", a.Postcode)
	}
	for _, f := range []struct{ name, v string }{{"address_1", a.Street}, {"postal_code", a.Postcode}, {"city", a.City}, {"region", a.Region}} {
		if utf8.RuneCountInString(f.v) > maxName {
			p.Rule("addresses[0]."+f.name, CodeTooLong, "is longer than %d characters", maxName)
		}
	}
	if l.Point != nil {
		checkPoint(&p, "", *l.Point)
	}
	return p
}

// Validate returns every problem with o.
func (o *Organization) Validate() Problems {
	var p Problems
	checkText(&p, "name", o.Name, maxName, true)
	checkText(&p, "description", o.Description, maxDescription, false)
	checkURL(&p, "website", o.Website)
	checkEmail(&p, "email", o.Email)
	checkPhones(&p, "phones", o.Phones)
	for i, id := range o.Identifiers {
		f := fmt.Sprintf("organization_identifiers[%d]", i)
		if id.Scheme == "" || id.Value == "" {
			p.Rule(f, CodeIdentifier, "needs identifier_scheme and identifier")
		}
		if id.Scheme == SchemeBCE && !ValidBCE(id.Value) {
			p.Rule(f+".identifier", CodeBCE, "%q is not a valid BCE/KBO enterprise number", id.Value)
		}
	}
	if utf8.RuneCountInString(o.LegalStatus) > maxName {
		p.Rule("legal_status", CodeTooLong, "is longer than %d characters", maxName)
	}
	return p
}

// ValidBCE reports whether v is a Belgian enterprise number (BCE/KBO): ten
// digits, written with or without dots and spaces, whose last two digits
// are 97 minus the first eight modulo 97.
func ValidBCE(v string) bool {
	_, ok := NormalBCE(v)
	return ok
}

// NormalBCE returns a Belgian enterprise number written the one way,
// 0123.456.789, and whether v is one: "BE 0403 170 701" and
// "0403.170.701" are the same number.
func NormalBCE(v string) (string, bool) {
	if len(v) > 32 {
		return "", false
	}
	digits := strings.Map(func(r rune) rune {
		if r == '.' || r == ' ' {
			return -1
		}
		return r
	}, strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(v)), "BE"))
	if len(digits) != 10 || (digits[0] != '0' && digits[0] != '1') {
		return "", false
	}
	base, err1 := strconv.Atoi(digits[:8])
	check, err2 := strconv.Atoi(digits[8:])
	if err1 != nil || err2 != nil || base < 0 || 97-base%97 != check {
		return "", false
	}
	return digits[:4] + "." + digits[4:7] + "." + digits[7:], true
}

// BCE returns the organization's enterprise number, normalised, or "".
func (o *Organization) BCE() string {
	for _, id := range o.Identifiers {
		if id.Scheme == SchemeBCE {
			if n, ok := NormalBCE(id.Value); ok {
				return n
			}
		}
	}
	return ""
}

func checkText(p *Problems, field string, t Text, max int, required bool) {
	if required && t.IsEmpty() {
		p.Rule(field, CodeRequired, "is required in at least one of fr, nl, en")
	}
	for _, l := range Langs {
		v := t[l]
		if !utf8.ValidString(v) {
			p.Rule(textField(field, l, t), CodeNotUTF8, "is not valid UTF-8")
		} else if utf8.RuneCountInString(v) > max {
			p.Rule(textField(field, l, t), CodeTooLong, "is longer than %d characters", max)
		}
	}
	for l := range t {
		if !slices.Contains(Langs, l) {
			p.Rule(field, CodeTextLanguage, "language %q is not one of fr, nl, en", l)
		}
	}
}

// textField names a language variant the way the JSON shape does: the
// primary language in the field itself, others under translations.
func textField(field string, l Lang, t Text) string {
	if l == t.Primary() {
		return field
	}
	return "translations." + string(l) + "." + field
}

func checkURL(p *Problems, field, v string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2000 {
		p.Rule(field, CodeURL, "must be an absolute http or https URL")
	}
}

func checkEmail(p *Problems, field, v string) {
	if v == "" {
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 {
		p.Rule(field, CodeEmail, "%q is not an email address", v)
	}
}

var phoneChars = regexp.MustCompile(`^\+?[0-9][0-9 ./()-]{2,30}$`)

func checkPhones(p *Problems, field string, phones []Phone) {
	if len(phones) > maxPhones {
		p.Rule(field, CodeTooMany, "has more than %d phones", maxPhones)
	}
	for i, ph := range phones {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !phoneChars.MatchString(ph.Number) {
			p.Rule(f+".number", CodePhone, "%q is not a phone number", ph.Number)
		}
		checkText(p, f+".description", ph.Description, maxShortText, false)
	}
}

func checkList(p *Problems, field string, list []string, ok func(string) bool, code Code, msg string) {
	if len(list) > maxList {
		p.Rule(field, CodeTooMany, "has more than %d entries", maxList)
		return
	}
	seen := map[string]bool{}
	for i, v := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !ok(v) {
			p.Rule(f, code, "%q %s", v, msg)
		} else if seen[v] {
			p.Rule(f, CodeDuplicate, "%q is listed twice", v)
		}
		seen[v] = true
	}
}

func checkAge(p *Problems, field string, age *int) {
	if age != nil && (*age < 0 || *age > 130) {
		p.Rule(field, CodeAge, "must be between 0 and 130")
	}
}

func checkPoint(p *Problems, prefix string, pt Point) {
	if prefix != "" {
		prefix += "."
	}
	if !(pt.Lat >= -90 && pt.Lat <= 90) {
		p.Rule(prefix+"latitude", CodeCoordinates, "%v is outside -90..90", pt.Lat)
	}
	if !(pt.Lon >= -180 && pt.Lon <= 180) {
		p.Rule(prefix+"longitude", CodeCoordinates, "%v is outside -180..180", pt.Lon)
	}
}

func isLanguageCode(c string) bool {
	return len(c) == 2 && c[0] >= 'a' && c[0] <= 'z' && c[1] >= 'a' && c[1] <= 'z'
}
