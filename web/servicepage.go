package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

// A service's public page: its description, places, hours in words (with
// today's dated changes), capacity, review date and referral link, for
// the node's own services and its partners' alike.

// dayHours is one weekday of a schedule in words.
type dayHours struct {
	Day   string
	Hours string
	Today bool
	// Changed: today's hours are not the usual ones (an exception or a
	// dated change).
	Changed bool
}

type locationView struct {
	Name          localText
	Street        string
	Postcode      string
	City          string
	Directions    string
	Accessibility localText
	Wheelchair    bool
}

type servicePage struct {
	Name               localText
	Description        localText
	Provider           string
	ProviderURL        string
	Local              bool
	Categories         []localText
	Audiences          []localText
	Fee                localText
	FeesDescription    localText
	Eligibility        localText
	ApplicationProcess localText
	Languages          []string
	Week               []dayHours
	Exceptions         []string
	ScheduleNotes      localText
	Locations          []locationView
	Phones             []directory.Phone
	Email              string
	Website            string
	Referrals          bool
	ReferralsFrom      string
	CanRefer           bool
	URI                string
	// ID is the node's own service's id (forms post to it); "" for a
	// partner's.
	ID string
	// Capacity is whether the service takes someone new now;
	// CapacityForm, for the node's workers, sets it in one click.
	Capacity     *capacityView
	CapacityForm *capacityForm
	// Periods are the dated changes in force or coming soon.
	Periods     []periodView
	ClosedUntil string
	// Freshness says when the association last said it is right;
	// CanReview lets an admin of the node say it again.
	Freshness *freshnessView
	CanReview bool
	Reviewed  bool // just said
}

// localService shows one of the node's services, at its ActivityPub URI.
func (s *Server) localService(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	sv, err := s.Catalog.Service(r.Context(), pathVar(r, "id"))
	if err != nil {
		return "", 0, err
	}
	if sv.Status != directory.StatusActive && p.User == nil {
		return "", 0, directory.ErrNotFound
	}
	d, err := s.localServiceView(r, p, sv)
	if err != nil {
		return "", 0, err
	}
	q := r.URL.Query()
	if d.CapacityForm != nil {
		d.CapacityForm.Saved = q.Get("capacity") == "saved"
	}
	d.Reviewed = d.CanReview && q.Get("reviewed") == sv.ID
	return s.showService(p, d)
}

// localServiceView is the page of one of the node's services; its
// workers get the capacity forms, its admins "still correct".
func (s *Server) localServiceView(r *http.Request, p *pageData, sv *directory.Service) (servicePage, error) {
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return servicePage{}, err
	}
	d := s.serviceView(r.Context(), p, sv, s.BaseURL+"/services/"+sv.ID, o.Name.In(p.Lang), "/actor", true)
	for _, id := range sv.Locations {
		l, err := s.Catalog.Location(r.Context(), id)
		if err != nil {
			continue
		}
		d.Locations = append(d.Locations, locationViewOf(p, l))
	}
	d.ID = sv.ID
	if p.User != nil {
		d.CapacityForm = newCapacityForm(p, sv.Capacity)
		d.CanReview = p.User.Role == account.RoleAdmin
	}
	return d, nil
}

// locationViewOf shows a place, the node's own or a partner's, one way.
func locationViewOf(p *pageData, l *directory.Location) locationView {
	lv := locationView{Name: p.Local(l.Name), Street: l.Address.Street, Postcode: l.Address.Postcode, City: l.Address.City,
		Accessibility: p.Local(l.Accessibility), Wheelchair: l.WheelchairOK}
	if l.Point != nil {
		lv.Directions = directionsURL(*l.Point)
	}
	return lv
}

// partnerService shows a partner's service from the replica.
func (s *Server) partnerService(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	uri := r.URL.Query().Get("uri")
	if id, ok := strings.CutPrefix(uri, s.BaseURL+"/services/"); ok {
		http.Redirect(w, r, "/services/"+url.PathEscape(id), http.StatusSeeOther)
		return "", 0, nil
	}
	if uri == "" || len(uri) > 2048 || s.Network == nil {
		return "", 0, directory.ErrNotFound
	}
	ps, err := s.Network.PartnerService(r.Context(), uri)
	if err != nil {
		return "", 0, err
	}
	d := s.serviceView(r.Context(), p, ps.Service, ps.URI, ps.ProviderIn(p.Lang), "/organization?actor="+url.QueryEscape(ps.Actor), false)
	for i := range ps.Places {
		d.Locations = append(d.Locations, locationViewOf(p, &ps.Places[i]))
	}
	if len(ps.Places) == 0 {
		// Stored before places travelled whole: positions only.
		for _, pt := range ps.Points {
			d.Locations = append(d.Locations, locationView{Directions: directionsURL(pt)})
		}
	}
	return s.showService(p, d)
}

func (s *Server) showService(p *pageData, d servicePage) (string, int, error) {
	p.Title, p.Data, p.Nav = d.Name.Text, d, "search"
	return "service", http.StatusOK, nil
}

func directionsURL(pt directory.Point) string {
	return fmt.Sprintf("https://www.openstreetmap.org/directions?route=%%3B%.6f%%2C%.6f", pt.Lat, pt.Lon)
}

func (s *Server) serviceView(ctx context.Context, p *pageData, sv *directory.Service, uri, provider, providerURL string, local bool) servicePage {
	tax := s.Catalog.Taxonomy()
	d := servicePage{
		Name: p.Local(sv.Name), Description: p.Local(sv.Description), Provider: provider, ProviderURL: providerURL, Local: local,
		FeesDescription: p.Local(sv.FeesDescription), Eligibility: p.Local(sv.Eligibility),
		ApplicationProcess: p.Local(sv.ApplicationProcess), Languages: languageNames(p.Lang, sv.Languages),
		ScheduleNotes: p.Local(sv.Schedule.Notes), Phones: sv.Phones, Email: sv.Email, Website: sv.URL, URI: uri,
		Referrals: sv.AcceptsReferrals(),
	}
	if sv.Referral != nil {
		d.ReferralsFrom = sv.Referral.From
	}
	d.CanRefer = d.Referrals && p.User != nil && !local
	for _, c := range sv.Categories {
		if t, ok := tax.Category(c); ok {
			d.Categories = append(d.Categories, p.Local(t.Labels))
		}
	}
	for _, a := range sv.Audiences {
		if t, ok := tax.Audience(a); ok {
			d.Audiences = append(d.Audiences, p.Local(t.Labels))
		}
	}
	if t, ok := tax.Fee(sv.Fee); ok {
		d.Fee = p.Local(t.Labels)
	}
	d.Week, d.Exceptions = s.hoursInWords(p, sv.Schedule)
	d.Capacity = capacityOf(p, sv.Capacity)
	d.Periods = periodsOf(p, sv.Schedule)
	d.ClosedUntil = closedUntil(p, sv.Schedule)
	d.Freshness = freshnessOf(p, sv, s.Catalog.ReviewAfter())
	return d
}

// hoursInWords writes a weekly schedule day by day, Monday first, with
// today marked, and the exceptions of the coming four weeks.
func (s *Server) hoursInWords(p *pageData, sc directory.Schedule) ([]dayHours, []string) {
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		loc = time.UTC
	}
	now := p.now.In(loc)
	var week []dayHours
	if len(sc.Weekly) > 0 {
		for i := range 7 {
			day := time.Weekday((i + 1) % 7)
			var spans []string
			for _, sl := range sc.Weekly {
				if sl.Day == day {
					spans = append(spans, p.T("from to", sl.Opens.String(), sl.Closes.String()))
				}
			}
			h := p.T("closed")
			if len(spans) > 0 {
				h = strings.Join(spans, ", ")
			}
			week = append(week, dayHours{Day: p.T(fmt.Sprintf("weekday %d", day)), Hours: h, Today: day == now.Weekday()})
		}
		// Today's row says today's hours when an exception or a dated
		// change replaces the usual ones: not "9:00 to 17:00" on a day
		// the service is closed for the holidays.
		if h, changed := todaysHours(p, sc, now); changed {
			for i := range week {
				if week[i].Today {
					week[i].Hours, week[i].Changed = h, true
				}
			}
		}
	}
	var exceptions []string
	today := now.Format(time.DateOnly)
	limit := now.AddDate(0, 0, 28).Format(time.DateOnly)
	for _, e := range sc.Exceptions {
		if e.Date < today || e.Date > limit {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, e.Date, loc)
		if err != nil {
			continue
		}
		if e.Closed || len(e.Hours) == 0 { // no hours given: closed, as OpenOn reads it
			exceptions = append(exceptions, p.T("closed on", p.Date(t)))
			continue
		}
		var spans []string
		for _, h := range e.Hours {
			spans = append(spans, p.T("from to", h.Opens.String(), h.Closes.String()))
		}
		exceptions = append(exceptions, p.T("open on", p.Date(t), strings.Join(spans, ", ")))
	}
	return week, exceptions
}

// todaysHours returns today's hours in words when a one-day exception or
// a dated change replaces the weekly ones.
func todaysHours(p *pageData, sc directory.Schedule, now time.Time) (string, bool) {
	date := now.Format(time.DateOnly)
	var spans []directory.Span
	changed := false
	for _, e := range sc.Exceptions {
		if e.Date == date {
			changed = true
			if !e.Closed {
				spans = e.Hours
			}
		}
	}
	if !changed {
		per, ok := sc.PeriodAt(date)
		if !ok {
			return "", false
		}
		changed = true
		if !per.Closed {
			for _, sl := range per.Hours {
				if sl.Day == now.Weekday() {
					spans = append(spans, directory.Span{Opens: sl.Opens, Closes: sl.Closes})
				}
			}
		}
	}
	if len(spans) == 0 {
		return p.T("closed"), true
	}
	var words []string
	for _, sp := range spans {
		words = append(words, p.T("from to", sp.Opens.String(), sp.Closes.String()))
	}
	return strings.Join(words, ", "), true
}
