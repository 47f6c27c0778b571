package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/search"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/account"
)

// The association admin's pages: services (with their schedules, in the
// three languages side by side), locations, the organisation, partners,
// staff accounts, the blocklist, the audit log and the backup. They drive
// the same catalogue and network as the JSON API, so the same checks
// apply; every problem is shown with the field it concerns.

// needAdmin sends a visitor to the login page, and refuses a worker.
func needAdmin(w http.ResponseWriter, r *http.Request, p *pageData) (stop bool, err error) {
	if needLogin(w, r, p) {
		return true, nil
	}
	if p.User.Role != account.RoleAdmin {
		return true, errAdminOnly
	}
	return false, nil
}

var errAdminOnly = fmt.Errorf("admins only: %w", errForbidden)

// admin runs h for admins only.
func (s *Server) admin(h pageHandler) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
		if stop, err := needAdmin(w, r, p); stop {
			return "", 0, err
		}
		p.Nav = "admin"
		return h(w, r, p)
	}
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	due := 0
	err := s.Catalog.ForEachService(r.Context(), func(sv *directory.Service) error {
		if sv.Status == directory.StatusActive && sv.ReviewDue(p.now, s.Catalog.ReviewAfter()) {
			due++
		}
		return nil
	})
	d := struct {
		MailOff bool
		Due     string // how many services are due for review, in words
	}{MailOff: s.mailOff()}
	if due > 0 {
		d.Due = plural(p, "admin review due", due)
	}
	p.Title, p.Data = p.T("admin title"), d
	return "admin", http.StatusOK, err
}

// langField is one language of a multilingual field.
type langField struct {
	Lang  directory.Lang
	Label string
	Value string
}

type textField struct {
	Name  string // form name prefix: name_fr, name_nl, …
	Label string
	Long  bool
	Langs []langField
}

func (p pageData) textField(name, label string, t directory.Text, long bool) textField {
	f := textField{Name: name, Label: p.T(label), Long: long}
	for _, l := range directory.Langs {
		f.Langs = append(f.Langs, langField{Lang: l, Label: langLabels[l], Value: t[l]})
	}
	return f
}

func formText(r *http.Request, name string) directory.Text {
	t := directory.Text{}
	for _, l := range directory.Langs {
		if v := strings.TrimSpace(r.PostFormValue(name + "_" + string(l))); v != "" {
			t[l] = v
		}
	}
	return t
}

type option struct {
	Value   string
	Label   localText
	Checked bool
}

type optionGroup struct {
	Label   localText
	Options []option
}

type slotRow struct {
	Day    int
	Opens  string
	Closes string
}

type exceptionRow struct {
	Date   string
	Closed bool
	Opens  string
	Closes string
}

type serviceForm struct {
	ID         string
	Texts      []textField
	Categories []optionGroup
	Audiences  []option
	Fees       []option
	Languages  string
	Locations  []option
	Days       []option
	Slots      []slotRow
	Exceptions []exceptionRow
	Periods    []periodRow
	// Reviewed says when the service was last said to be right.
	Reviewed  *freshnessView
	Accepts   bool
	From      string
	DataKinds []option
	Active    bool
	Problems  []string
	Saved     bool
	PublicURL string
	// Similar lists the services that may already do the same nearby,
	// shown before a save until the author confirms.
	Similar []similarRow
	// Complements are the services this one is said to complement.
	Complements []directory.Complement
}

type similarRow struct {
	URI         string
	Name        localText
	URL         string
	Provider    string
	ProviderURL string
	Score       string
	Distance    string
	Reasons     string
}

// emptySlots is how many empty slot rows the form offers: several a day
// without JavaScript; saving offers more.
const emptySlots = 4

func (s *Server) newServiceForm(r *http.Request, p *pageData, sv *directory.Service) *serviceForm {
	tax := s.Catalog.Taxonomy()
	f := &serviceForm{ID: sv.ID, Languages: strings.Join(sv.Languages, ", "), Active: sv.Status != directory.StatusInactive}
	f.Texts = []textField{
		p.textField("name", "form name", sv.Name, false),
		p.textField("description", "form description", sv.Description, true),
		p.textField("eligibility", "form eligibility", sv.Eligibility, true),
		p.textField("application", "form application", sv.ApplicationProcess, true),
	}
	for _, top := range tax.Categories {
		g := optionGroup{Label: p.Local(top.Labels)}
		g.Options = append(g.Options, option{Value: top.Code, Label: p.Local(top.Labels), Checked: slices.Contains(sv.Categories, top.Code)})
		for _, t := range tax.Terms {
			// A hidden term is offered only to a service already filed
			// under it, so that saving the form does not drop it.
			if t.Parent == top.Code && (!t.Hidden || slices.Contains(sv.Categories, t.Code)) {
				g.Options = append(g.Options, option{Value: t.Code, Label: p.Local(t.Labels), Checked: slices.Contains(sv.Categories, t.Code)})
			}
		}
		f.Categories = append(f.Categories, g)
	}
	for _, a := range tax.Audiences {
		if a.Hidden && !slices.Contains(sv.Audiences, a.Code) {
			continue
		}
		f.Audiences = append(f.Audiences, option{Value: a.Code, Label: p.Local(a.Labels), Checked: slices.Contains(sv.Audiences, a.Code)})
	}
	for _, fee := range tax.Fees {
		f.Fees = append(f.Fees, option{Value: fee.Code, Label: p.Local(fee.Labels), Checked: sv.Fee == fee.Code})
	}
	s.Catalog.ForEachLocation(r.Context(), func(l *directory.Location) error {
		label := p.Local(l.Name)
		if l.Address.Street != "" {
			label.Text += " — " + l.Address.Street + ", " + l.Address.Postcode
		}
		f.Locations = append(f.Locations, option{Value: l.ID, Label: label, Checked: slices.Contains(sv.Locations, l.ID)})
		return nil
	})
	for i := range 7 {
		d := (i + 1) % 7 // Monday first
		f.Days = append(f.Days, option{Value: strconv.Itoa(d), Label: localText{Text: p.T(fmt.Sprintf("weekday %d", d)), Lang: p.Lang}})
	}
	for _, sl := range sv.Schedule.Weekly {
		f.Slots = append(f.Slots, slotRow{Day: int(sl.Day), Opens: sl.Opens.String(), Closes: sl.Closes.String()})
	}
	for range emptySlots {
		f.Slots = append(f.Slots, slotRow{Day: -1})
	}
	for _, e := range sv.Schedule.Exceptions {
		row := exceptionRow{Date: e.Date, Closed: e.Closed}
		if len(e.Hours) > 0 {
			row.Opens, row.Closes = e.Hours[0].Opens.String(), e.Hours[0].Closes.String()
		}
		f.Exceptions = append(f.Exceptions, row)
	}
	f.Exceptions = append(f.Exceptions, exceptionRow{}, exceptionRow{})
	f.Periods = periodRows(p, sv.Schedule.Periods)
	if sv.ID != "" {
		f.Reviewed = freshnessOf(p, sv, s.Catalog.ReviewAfter())
	}
	pol := sv.Referral
	if pol == nil {
		pol = &directory.ReferralPolicy{From: "partners"}
	}
	f.Accepts, f.From = pol.Accepts, pol.From
	for _, c := range directory.DataCategories {
		f.DataKinds = append(f.DataKinds, option{Value: string(c), Label: localText{Text: p.T(string(c)), Lang: p.Lang}, Checked: slices.Contains(pol.Categories, c)})
	}
	if sv.ID != "" {
		f.PublicURL = "/services/" + url.PathEscape(sv.ID)
	}
	f.Complements = sv.Complements
	return f
}

// serviceFromForm reads the posted form; problems it finds before the
// catalogue's checks (a time that is not a time) are listed.
func serviceFromForm(r *http.Request, sv *directory.Service) []string {
	var problems []string
	sv.Name = formText(r, "name")
	sv.Description = formText(r, "description")
	sv.Eligibility = formText(r, "eligibility")
	sv.ApplicationProcess = formText(r, "application")
	sv.Categories = r.PostForm["category"]
	sv.Audiences = r.PostForm["audience"]
	sv.Fee = r.PostFormValue("fee")
	sv.Languages = nil
	for _, c := range strings.FieldsFunc(r.PostFormValue("languages"), func(r rune) bool { return r == ',' || r == ' ' }) {
		sv.Languages = append(sv.Languages, strings.ToLower(c))
	}
	sv.Locations = r.PostForm["location"]
	sv.Status = directory.StatusActive
	if r.PostFormValue("active") != "yes" {
		sv.Status = directory.StatusInactive
	}
	days, opens, closes := r.PostForm["slot_day"], r.PostForm["slot_opens"], r.PostForm["slot_closes"]
	sv.Schedule.Weekly = nil
	for i := range days {
		if i >= len(opens) || i >= len(closes) || (opens[i] == "" && closes[i] == "") {
			continue
		}
		d, err := strconv.Atoi(days[i])
		o, err1 := directory.ParseClock(opens[i])
		c, err2 := directory.ParseClock(closes[i])
		if err != nil || d < 0 || d > 6 || err1 != nil || err2 != nil {
			problems = append(problems, fmt.Sprintf("schedule %d: %s–%s", i+1, opens[i], closes[i]))
			continue
		}
		sv.Schedule.Weekly = append(sv.Schedule.Weekly, directory.Slot{Day: time.Weekday(d), Opens: o, Closes: c})
	}
	pol := &directory.ReferralPolicy{Accepts: r.PostFormValue("accepts") == "yes", From: r.PostFormValue("from")}
	for _, c := range r.PostForm["data"] {
		pol.Categories = append(pol.Categories, directory.DataCategory(c))
	}
	if pol.Accepts || len(pol.Categories) > 0 {
		sv.Referral = pol
	} else {
		sv.Referral = nil
	}
	return problems
}

// adminServiceRow is a service in the admin's list, with when it was
// last said to be right.
type adminServiceRow struct {
	ID       string
	Name     localText
	Active   bool
	Reviewed string // "Vérifié le 3 décembre 2026", or not for long
	Due      bool
}

type adminServicesPage struct {
	Services []adminServiceRow
	// Due are the published services not reviewed for the node's
	// review delay, each with its "still correct" button.
	Due []adminServiceRow
	// Reviewed names the service just said to be still correct.
	Reviewed localText
}

func (s *Server) adminServices(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	var d adminServicesPage
	just := r.URL.Query().Get("reviewed")
	err := s.Catalog.ForEachService(r.Context(), func(sv *directory.Service) error {
		row := adminServiceRow{ID: sv.ID, Name: p.Local(sv.Name), Active: sv.Status == directory.StatusActive}
		if f := freshnessOf(p, sv, s.Catalog.ReviewAfter()); f != nil {
			row.Reviewed, row.Due = f.Text, f.Stale && row.Active
		}
		d.Services = append(d.Services, row)
		if row.Due {
			d.Due = append(d.Due, row)
		}
		if sv.ID == just {
			d.Reviewed = row.Name
		}
		return nil
	})
	p.Title, p.Data = p.T("admin services"), d
	return "admin-services", http.StatusOK, err
}

func (s *Server) serviceEditor(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	sv := &directory.Service{}
	if id := pathVar(r, "id"); id != "" {
		var err error
		if sv, err = s.Catalog.Service(r.Context(), id); err != nil {
			return "", 0, err
		}
	}
	f := s.newServiceForm(r, p, sv)
	f.Saved = r.URL.Query().Get("saved") == "1"
	p.Title, p.Data = p.T("admin edit service"), f
	return "service-form", http.StatusOK, nil
}

func (s *Server) saveService(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	sv := &directory.Service{}
	id := pathVar(r, "id")
	if id != "" {
		cur, err := s.Catalog.Service(r.Context(), id)
		if err != nil {
			return "", 0, err
		}
		*sv = *cur
	}
	problems := serviceFromForm(r, sv)
	var excProblems, perProblems []string
	sv.Schedule.Exceptions, excProblems = exceptionsFromForm(r.PostForm, p)
	problems = append(problems, excProblems...)
	// The periods as typed come back in the form after a refusal, hours
	// that could not be read included.
	var typedPeriods []periodRow
	sv.Schedule.Periods, typedPeriods, perProblems = periodsFromForm(r.PostForm, p)
	problems = append(problems, perProblems...)
	// Services the author says this one complements: kept with the note,
	// and no longer offered as look-alikes.
	note := strings.TrimSpace(r.PostFormValue("complement_note"))
	for _, uri := range r.PostForm["complement"] {
		if !slices.ContainsFunc(sv.Complements, func(c directory.Complement) bool { return c.URI == uri }) {
			sv.Complements = append(sv.Complements, directory.Complement{URI: uri, Note: note})
		}
	}
	// Before saving, the services that may already do the same nearby,
	// until the author has seen them and saves anyway.
	if len(problems) == 0 && r.PostFormValue("similar_seen") != "yes" {
		if rows := s.similarRows(r, p, sv); len(rows) > 0 {
			if id == "" {
				sv.ID = ""
			}
			f := s.newServiceForm(r, p, sv)
			f.Similar, f.Periods = rows, typedPeriods
			p.Title, p.Data = p.T("admin edit service"), f
			return "service-form", http.StatusOK, nil
		}
	}
	if len(problems) == 0 {
		var err error
		if id == "" {
			_, err = s.Catalog.CreateService(r.Context(), sv)
		} else {
			_, err = s.Catalog.UpdateService(r.Context(), sv)
		}
		if problems, err = formProblems(p, err); err != nil {
			return "", 0, err
		}
	}
	if len(problems) > 0 {
		if id == "" {
			sv.ID = ""
		}
		f := s.newServiceForm(r, p, sv)
		f.Problems, f.Periods = problems, typedPeriods
		p.Title, p.Data = p.T("admin edit service"), f
		return "service-form", http.StatusBadRequest, nil
	}
	http.Redirect(w, r, "/admin/services/"+url.PathEscape(sv.ID)+"?saved=1", http.StatusSeeOther)
	return "", 0, nil
}

type partnerRow struct {
	ID      string
	Name    string
	Handle  string
	State   string
	Key     string
	Actions []string
	// BCE and Points tell associations apart in twins: the enterprise
	// number the actor states and where its services are delivered.
	BCE    string
	Points []directory.Point
}

type partnersAdmin struct {
	Partners    []partnerRow
	Suggestions []partnerRow
	Problem     string
	Handle      string // what the admin asked for, kept after a refusal
	Ended       string // which relation the admin just ended
	// Twins are associations the node knows under two addresses with
	// names that say the same: perhaps one association seen twice.
	Twins []twinPair
}

// nameNoise are words of association names that say nothing of which one
// it is: legal forms and articles in the three languages.
var nameNoise = map[string]bool{"asbl": true, "vzw": true, "aisbl": true, "ivzw": true, "npo": true, "de": true, "du": true, "des": true,
	"la": true, "le": true, "les": true, "l": true, "d": true, "et": true, "van": true, "het": true, "en": true, "the": true, "of": true, "and": true}

// nameKey returns the telling words of an association's name, folded.
func nameKey(name string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(directory.Fold(name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if !nameNoise[w] && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}

// sameName reports whether two names say the same: their telling words
// match, or share at least 80% of themselves (Dice).
func sameName(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	common := 0
	for _, w := range a {
		if slices.Contains(b, w) {
			common++
		}
	}
	return 2*float64(common)/float64(len(a)+len(b)) >= 0.8
}

// twinDistance is how near two associations' places must be to count as
// one address: a building, with the slack of two geocoders.
const twinDistance = 100 // metres

// twinPair is two addresses on the network that may be one association,
// with why: the same enterprise number, names that say the same, places
// at one address.
type twinPair struct {
	A, B    partnerRow
	Reasons []string
}

// twins pairs the known associations that may be one: the same BCE/KBO
// number, or names that say the same (then also whether they share a
// place). Distinct numbers rule a pair out, whatever the names say.
func twins(known []partnerRow) []twinPair {
	var out []twinPair
	keys := make([][]string, len(known))
	for i, k := range known {
		keys[i] = nameKey(k.Name)
	}
	for i := range known {
		for j := i + 1; j < len(known); j++ {
			a, b := known[i], known[j]
			if a.Handle == b.Handle {
				continue
			}
			var reasons []string
			switch {
			case a.BCE != "" && a.BCE == b.BCE:
				reasons = append(reasons, "twin same number")
			case a.BCE != "" && b.BCE != "":
				continue
			}
			if sameName(keys[i], keys[j]) {
				reasons = append(reasons, "twin similar name")
				if sharePlace(a.Points, b.Points) {
					reasons = append(reasons, "twin same address")
				}
			}
			if len(reasons) > 0 {
				out = append(out, twinPair{A: a, B: b, Reasons: reasons})
			}
		}
	}
	return out
}

// sharePlace reports whether two sets of places have one within
// twinDistance of each other.
func sharePlace(a, b []directory.Point) bool {
	for _, p := range a {
		for _, q := range b {
			if directory.Distance(p, q) <= twinDistance {
				return true
			}
		}
	}
	return false
}

func (s *Server) adminPartners(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if s.Network == nil {
		return "", 0, errNotReady
	}
	d := partnersAdmin{}
	rels, err := s.Network.Relations(r.Context())
	if err != nil {
		return "", 0, err
	}
	for _, rel := range rels {
		row := partnerRow{ID: rel.ID, Name: rel.NameIn(p.Lang), Handle: rel.Handle}
		row.Key, row.State = s.relationLabel(p, rel)
		switch rel.State() {
		case "pending":
			row.Actions = []string{"accept", "decline"}
		case "partner", "requested", "following", "follower", "subscriber":
			row.Actions = []string{"end"}
		}
		d.Partners = append(d.Partners, row)
	}
	d.Ended = s.endedNote(r, p, rels)
	if pop, err := s.Network.PartnersOfPartners(r.Context()); err == nil {
		for _, x := range pop {
			d.Suggestions = append(d.Suggestions, partnerRow{Name: actorHost(x.Actor), Handle: x.Actor, State: p.T("suggested via", len(x.Via))})
		}
	}
	if e := r.URL.Query().Get("error"); e != "" {
		d.Problem = p.T("partner request failed")
		if slices.Contains(partnerErrorKinds, e) {
			d.Problem = p.T("partner error " + e)
		}
		if h := r.URL.Query().Get("handle"); len(h) <= 300 {
			d.Handle = h
		}
	}
	// Every association the node knows: itself, its relations, and the
	// providers of replicated services.
	known, err := s.knownAssociations(r.Context(), p.Lang, rels)
	if err != nil {
		return "", 0, err
	}
	d.Twins = twins(known)
	p.Title, p.Data = p.T("admin partners"), d
	return "admin-partners", http.StatusOK, nil
}

// knownAssociations lists the node itself, its relations and the
// providers of replicated services, with their numbers and places.
func (s *Server) knownAssociations(ctx context.Context, lang directory.Lang, rels []*federation.Relation) ([]partnerRow, error) {
	var known []partnerRow
	index := map[string]int{}
	add := func(row partnerRow) {
		if i, ok := index[row.Handle]; ok {
			known[i].Points = append(known[i].Points, row.Points...)
			if known[i].Name == "" {
				known[i].Name = row.Name
			}
			return
		}
		index[row.Handle] = len(known)
		known = append(known, row)
	}
	if o, err := s.Catalog.Organization(ctx); err == nil {
		self := partnerRow{Name: o.Name.In(lang), Handle: s.BaseURL + "/actor", BCE: o.BCE()}
		err := s.Catalog.ForEachLocation(ctx, func(l *directory.Location) error {
			if l.Point != nil {
				self.Points = append(self.Points, *l.Point)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		add(self)
	}
	for _, rel := range rels {
		row := partnerRow{Name: rel.NameIn(lang), Handle: rel.Actor}
		for _, id := range rel.Identifiers {
			if id.Scheme == directory.SchemeBCE {
				row.BCE = id.Value
			}
		}
		add(row)
	}
	err := s.Network.PartnerServices(ctx, func(ps *directory.PartnerService) error {
		add(partnerRow{Name: ps.ProviderIn(lang), Handle: ps.Actor, Points: ps.Points})
		return nil
	})
	return known, err
}

func (s *Server) requestPartnerPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if _, err := s.Network.Follow(r.Context(), strings.TrimSpace(r.PostFormValue("handle"))); err != nil {
		s.log.InfoContext(r.Context(), "partner request refused", "err", err)
		kind := "1"
		var ae *federation.ActorError
		if errors.As(err, &ae) {
			kind = ae.Kind
		}
		q := url.Values{"error": {kind}, "handle": {r.PostFormValue("handle")}}
		http.Redirect(w, r, "/admin/partners?"+q.Encode(), http.StatusSeeOther)
		return "", 0, nil
	}
	http.Redirect(w, r, "/admin/partners", http.StatusSeeOther)
	return "", 0, nil
}

// partnerErrorKinds are the reasons a partnership request is refused
// that the partners page explains, each in its own words.
var partnerErrorKinds = []string{federation.ActorInvalid, federation.ActorNotFound, federation.ActorUnreachable,
	federation.ActorNotAssociation, federation.ActorSelf, federation.ActorBlocked}

func (s *Server) partnerPageAction(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	id := pathVar(r, "id")
	var err error
	switch pathVar(r, "action") {
	case "accept":
		_, err = s.Network.Accept(r.Context(), id)
	case "decline":
		_, err = s.Network.Decline(r.Context(), id)
	case "end":
		return s.endPartnerPage(w, r, p)
	default:
		return "", 0, directory.ErrNotFound
	}
	if err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/admin/partners", http.StatusSeeOther)
	return "", 0, nil
}

func (s *Server) adminBlocklist(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	hosts, err := s.Network.BlockedHosts(r.Context())
	if err != nil {
		return "", 0, err
	}
	p.Title, p.Data = p.T("admin blocklist"), hosts
	return "admin-blocklist", http.StatusOK, nil
}

func (s *Server) blockPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	host := strings.ToLower(strings.TrimSpace(r.PostFormValue("host")))
	if err := s.Network.Block(r.Context(), host, r.PostFormValue("blocked") != "no"); err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/admin/blocklist", http.StatusSeeOther)
	return "", 0, nil
}

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if s.Referrals == nil {
		return "", 0, errNotReady
	}
	names := s.auditNames(r, p)
	var rows []auditRow
	err := s.Referrals.ForEachAudit(r.Context(), func(e *referral.AuditEntry) error {
		rows = append(rows, names.row(p, e))
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	slices.Reverse(rows) // newest first
	if len(rows) > 500 {
		rows = rows[:500]
	}
	p.Title, p.Data = p.T("admin audit"), rows
	return "admin-audit", http.StatusOK, nil
}

type orgForm struct {
	Texts    []textField
	Website  string
	Email    string
	Phone    string
	BCE      string
	Problems []string
	Saved    bool
}

func (s *Server) orgEditor(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return "", 0, err
	}
	p.Title, p.Data = p.T("admin organization"), s.newOrgForm(p, o, r.URL.Query().Get("saved") == "1")
	return "org-form", http.StatusOK, nil
}

func (s *Server) newOrgForm(p *pageData, o *directory.Organization, saved bool) *orgForm {
	f := &orgForm{Website: o.Website, Email: o.Email, Saved: saved, Texts: []textField{
		p.textField("name", "form name", o.Name, false), p.textField("description", "form description", o.Description, true)}}
	if len(o.Phones) > 0 {
		f.Phone = o.Phones[0].Number
	}
	for _, id := range o.Identifiers {
		if id.Scheme == directory.SchemeBCE {
			f.BCE = id.Value
		}
	}
	return f
}

func (s *Server) saveOrg(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return "", 0, err
	}
	o.Name, o.Description = formText(r, "name"), formText(r, "description")
	o.Website, o.Email = strings.TrimSpace(r.PostFormValue("website")), strings.TrimSpace(r.PostFormValue("email"))
	o.Phones = nil
	if ph := strings.TrimSpace(r.PostFormValue("phone")); ph != "" {
		o.Phones = []directory.Phone{{Number: ph}}
	}
	o.Identifiers = slices.DeleteFunc(o.Identifiers, func(id directory.Identifier) bool { return id.Scheme == directory.SchemeBCE })
	if bce := strings.TrimSpace(r.PostFormValue("bce")); bce != "" {
		if n, ok := directory.NormalBCE(bce); ok {
			bce = n
		}
		o.Identifiers = append(o.Identifiers, directory.Identifier{Scheme: directory.SchemeBCE, Value: bce})
	}
	_, err = s.Catalog.UpdateOrganization(r.Context(), o)
	problems, err := formProblems(p, err)
	if err != nil {
		return "", 0, err
	}
	if len(problems) > 0 {
		f := s.newOrgForm(p, o, false)
		f.Problems = problems
		p.Title, p.Data = p.T("admin organization"), f
		return "org-form", http.StatusBadRequest, nil
	}
	http.Redirect(w, r, "/admin/organization?saved=1", http.StatusSeeOther)
	return "", 0, nil
}

// similarRows finds the services like sv (itself left out), as rows of
// the editor's warning; none when search is off or not ready.
func (s *Server) similarRows(r *http.Request, p *pageData, sv *directory.Service) []similarRow {
	sim, ok := s.Search.(Similarer)
	if !ok || s.Search == nil {
		return nil
	}
	hits, err := sim.Similar(s.docOf(r, sv), 5, search.SimilarThreshold, p.Lang)
	if err != nil {
		return nil
	}
	var rows []similarRow
	for _, h := range hits {
		row := similarRow{URI: h.URI, Name: p.Local(h.Service.Name), URL: s.servicePageURL(h.URI), Provider: h.Provider,
			ProviderURL: "/organization?actor=" + url.QueryEscape(h.Actor), Score: p.Num(h.Score)}
		if h.Actor == s.BaseURL+"/actor" {
			row.ProviderURL = "/actor"
		}
		if h.DistanceKm != nil {
			row.Distance = p.T("km away", *h.DistanceKm)
		}
		var parts []string
		for _, rs := range h.Reasons {
			parts = append(parts, p.T("similar "+rs.Part))
		}
		row.Reasons = strings.Join(parts, ", ")
		rows = append(rows, row)
	}
	return rows
}
