package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/account"
)

// The worker's pages: refer a resident to a partner's service, the sent
// and received referrals, and one referral's page. None of them is
// cached; the resident's data appears only on the page a worker asks for
// it (a POST, logged in the audit).

// noticeVersion is the version of the consent notice shown to residents
// (locales: "consent notice"); it changes with its text.
const noticeVersion = "2026-11"

// consentNotice is the notice a resident reads before agreeing, in l.
func consentNotice(l directory.Lang, provider, service string) string {
	return translate(l, "consent notice", provider, service)
}

// ConsentNotice returns the notice a resident reads before agreeing to be
// referred to service at provider, in l, with the version and hash a
// consent records: for referrals made outside the pages (the demo).
func ConsentNotice(l directory.Lang, provider, service string) (version, text, hash string) {
	text = consentNotice(l, provider, service)
	return noticeVersion, text, noticeHash(text)
}

func noticeHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// needLogin sends a visitor without a session to the login page, back
// here afterwards.
func needLogin(w http.ResponseWriter, r *http.Request, p *pageData) bool {
	if p.User != nil {
		return false
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return true
}

// residentField is one input of the referral form, asked only when the
// service's policy asks for its category.
type residentField struct {
	Name      string // in the resident's data (referral.ParseResident)
	Label     string
	Kind      string // text, date, tel, email, textarea, lines
	Category  directory.DataCategory
	Value     string
	Required  bool
	Autofill  string
	InputMode string
}

var residentForm = []residentField{
	{Name: "name", Kind: "text", Category: directory.DataIdentity, Required: true, Autofill: "off"},
	{Name: "birth_date", Kind: "date", Category: directory.DataIdentity},
	{Name: "phone", Kind: "tel", Category: directory.DataContact, InputMode: "tel"},
	{Name: "email", Kind: "email", Category: directory.DataContact},
	{Name: "address", Kind: "textarea", Category: directory.DataContact},
	{Name: "preferred_language", Kind: "text", Category: directory.DataContact},
	{Name: "situation", Kind: "textarea", Category: directory.DataSituation},
	{Name: "household", Kind: "text", Category: directory.DataSituation},
	{Name: "documents", Kind: "lines", Category: directory.DataDocuments},
	{Name: "health", Kind: "textarea", Category: directory.DataSpecial},
}

type referPage struct {
	Service     localText
	ServiceURI  string
	Provider    string
	Categories  []string // message keys of what the service asks for
	Fields      []residentField
	Special     bool
	Methods     []string
	Method      string
	NoticeLang  directory.Lang
	NoticeLangs []langLink
	PrintURL    string // the notice alone, in its language
	Notice      string
	Attestation string
	Problems    []string
	// Files is set when the service asks for documents: the resident
	// may agree to share copies, attached on the referral's page once
	// sent (attachments.go); Attach is that agreement, as ticked.
	Files     bool
	Attach    bool
	FilesHint string
}

// referForm shows what the receiving service needs, and asks only that.
func (s *Server) referForm(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if needLogin(w, r, p) {
		return "", 0, nil
	}
	d, err := s.referData(r, p)
	if err != nil {
		return "", 0, err
	}
	p.Title, p.Data, p.Nav = p.T("refer title"), d, "referrals"
	return "refer", http.StatusOK, nil
}

func (s *Server) referData(r *http.Request, p *pageData) (*referPage, error) {
	if s.Referrals == nil || s.Network == nil {
		return nil, errNotReady
	}
	uri := r.FormValue("service")
	if uri == "" || len(uri) > 2048 {
		return nil, directory.ErrNotFound
	}
	ps, err := s.Network.PartnerService(r.Context(), uri)
	if err != nil {
		return nil, err
	}
	if !ps.Service.AcceptsReferrals() {
		return nil, directory.ErrNotFound
	}
	d := &referPage{Service: p.Local(ps.Service.Name), ServiceURI: ps.URI, Provider: nameIn(p, ps.ProviderNames, ps.Provider), NoticeLang: p.Lang,
		Method: string(referral.OnScreen)}
	if l, ok := directory.ParseLang(r.FormValue("notice_lang")); ok {
		d.NoticeLang = l
	}
	// The notice's language is switched with a button of the form itself
	// (a POST): what the worker typed comes back in the form, and the
	// resident's data never lands in an address, a log or a cookie.
	if l, ok := directory.ParseLang(r.PostFormValue("notice_switch")); ok {
		d.NoticeLang = l
	}
	for _, m := range referral.Methods {
		d.Methods = append(d.Methods, string(m))
	}
	if m := r.FormValue("method"); slices.Contains(d.Methods, m) {
		d.Method = m
	}
	d.Attestation = r.FormValue("attestation")
	asked := ps.Service.Referral.Categories
	for _, c := range asked {
		d.Categories = append(d.Categories, string(c))
		if c == directory.DataSpecial {
			d.Special = true
		}
		if c == directory.DataDocuments {
			d.Files, d.Attach = true, r.PostFormValue("attach_documents") == "yes"
			d.FilesHint = p.T("documents limits", referral.MaxDocuments, referral.MaxDocumentBytes>>20, referral.MaxDocumentsBytes>>20)
		}
	}
	for _, f := range residentForm {
		if slices.Contains(asked, f.Category) {
			f.Label = p.T("field " + f.Name)
			f.Value = r.PostFormValue(f.Name)
			d.Fields = append(d.Fields, f)
		}
	}
	d.Notice = consentNotice(d.NoticeLang, nameIn(&pageData{Lang: d.NoticeLang}, ps.ProviderNames, ps.Provider), ps.Service.Name.In(d.NoticeLang))
	for _, l := range directory.Langs {
		d.NoticeLangs = append(d.NoticeLangs, langLink{Lang: l, Label: langLabels[l], Current: l == d.NoticeLang})
	}
	u := url.Values{"service": {ps.URI}, "notice_lang": {string(d.NoticeLang)}}
	d.PrintURL = "/refer/notice?" + u.Encode()
	return d, nil
}

// refer records the consent and sends the referral.
func (s *Server) refer(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if needLogin(w, r, p) {
		return "", 0, nil
	}
	d, err := s.referData(r, p)
	if err != nil {
		return "", 0, err
	}
	p.Title, p.Data, p.Nav = p.T("refer title"), d, "referrals"
	if r.PostFormValue("notice_switch") != "" {
		// Only the notice's language changed: the form again, as typed;
		// the agreement is asked again, for the notice now shown.
		return "refer", http.StatusOK, nil
	}
	if r.PostFormValue("agreed") != "yes" {
		d.Problems = append(d.Problems, p.T("refer not agreed"))
	}
	resident := map[string]any{}
	var cats []directory.DataCategory
	for _, f := range d.Fields {
		v := strings.TrimSpace(f.Value)
		if v == "" {
			if f.Required {
				d.Problems = append(d.Problems, p.T("refer field required", f.Label))
			}
			continue
		}
		if f.Kind == "lines" {
			var lines []string
			for _, l := range strings.Split(v, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					lines = append(lines, l)
				}
			}
			resident[f.Name] = lines
		} else {
			resident[f.Name] = v
		}
		if !slices.Contains(cats, f.Category) {
			cats = append(cats, f.Category)
		}
	}
	if d.Attach && !slices.Contains(cats, directory.DataDocuments) {
		// Copies of documents, to attach once sent: the consent covers them.
		cats = append(cats, directory.DataDocuments)
	}
	special := slices.Contains(cats, directory.DataSpecial)
	if special && r.PostFormValue("special_agreed") != "yes" {
		d.Problems = append(d.Problems, p.T("refer special not agreed"))
	}
	if len(d.Problems) > 0 {
		return "refer", http.StatusBadRequest, nil
	}
	raw, err := json.Marshal(resident)
	if err != nil {
		return "", 0, err
	}
	ref, err := s.Referrals.Refer(r.Context(), d.ServiceURI, referral.Request{
		Resident: raw, Special: special, Worker: p.User.ID, Association: s.associationName(r),
		Consent: referral.ConsentInput{Method: referral.Method(d.Method), Categories: cats, NoticeVersion: noticeVersion,
			NoticeHash: noticeHash(d.Notice), NoticeLang: string(d.NoticeLang), Attestation: d.Attestation, GivenAt: s.Now()},
	})
	if err != nil {
		// What was refused, each reason in the worker's language with what
		// to do; never the resident's data.
		if lines, _ := formProblems(p, err); len(lines) > 0 {
			d.Problems = append(d.Problems, lines...)
			return "refer", http.StatusBadRequest, nil
		}
		if line, ok := refusalText(p, err); ok {
			d.Problems = append(d.Problems, line)
			return "refer", http.StatusBadRequest, nil
		}
		return "refer", 0, err
	}
	return backToReferral(w, r, ref)
}

// noticePage is the consent notice alone, to print or show on screen.
func (s *Server) noticePage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if needLogin(w, r, p) {
		return "", 0, nil
	}
	d, err := s.referData(r, p)
	if err != nil {
		return "", 0, err
	}
	p.Lang = d.NoticeLang // the whole page in the resident's language
	p.Title, p.Data = p.T("consent notice title"), d
	return "notice", http.StatusOK, nil
}

type referralRow struct {
	URL       string
	Reference string
	Service   string
	Partner   string
	State     string
	StateKey  referral.State
	Sent      string // when it was made, in words
	Updated   string
	created   time.Time
}

type stateCount struct {
	State   string
	Count   string
	URL     string
	Current bool
}

type referralsPage struct {
	Sent, Received             []referralRow
	SentCounts, ReceivedCounts []stateCount
	Filter                     referral.State
}

// referralsPage lists the referrals sent and received, newest first, as
// two inboxes with their counts by state; ?state= filters both.
func (s *Server) referralsPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if needLogin(w, r, p) {
		return "", 0, nil
	}
	if s.Referrals == nil {
		return "", 0, errNotReady
	}
	d := referralsPage{Filter: referral.State(r.URL.Query().Get("state"))}
	if d.Filter != "" && !d.Filter.Valid() {
		d.Filter = ""
	}
	names, partners := s.serviceNames(r, p), s.partnerNames(r, p)
	loc := brussels()
	counts := map[referral.Side]map[referral.State]int{referral.Sender: {}, referral.Recipient: {}}
	err := s.Referrals.ForEachReferral(r.Context(), func(ref *referral.Referral) error {
		counts[ref.Side][ref.State]++
		if d.Filter != "" && ref.State != d.Filter {
			return nil
		}
		row := referralRow{URL: "/referrals/" + url.PathEscape(referral.Handle(ref.ID)), Reference: ref.Reference(),
			Service: names(ref.Service), State: p.T("state " + string(ref.State)), StateKey: ref.State,
			Sent: p.DateTime(ref.Created.In(loc)), Updated: p.DateTime(ref.Updated.In(loc)), created: ref.Created}
		if ref.Side == referral.Sender {
			row.Partner = partners(ref.Recipient)
			d.Sent = append(d.Sent, row)
		} else {
			row.Partner = partners(ref.Sender)
			d.Received = append(d.Received, row)
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	newestFirst(d.Sent)
	newestFirst(d.Received)
	for _, side := range []referral.Side{referral.Sender, referral.Recipient} {
		var cs []stateCount
		for _, st := range referral.States {
			if n := counts[side][st]; n > 0 {
				cs = append(cs, stateCount{State: p.T("state " + string(st)), Count: p.Num(n), URL: "/referrals?state=" + string(st), Current: st == d.Filter})
			}
		}
		if side == referral.Sender {
			d.SentCounts = cs
		} else {
			d.ReceivedCounts = cs
		}
	}
	p.Title, p.Data, p.Nav = p.T("referrals title"), d, "referrals"
	return "referrals", http.StatusOK, nil
}

// newestFirst sorts rows by when the referral was made, the latest on
// top; the reference breaks ties so the order never shuffles.
func newestFirst(rows []referralRow) {
	slices.SortStableFunc(rows, func(a, b referralRow) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return strings.Compare(b.Reference, a.Reference)
	})
}

// partnerNames returns a lookup of associations' names by actor, in the
// page's language: from the partnerships, else from the services they
// publish; an unknown actor shows as its host, never as a URL.
func (s *Server) partnerNames(r *http.Request, p *pageData) func(actor string) string {
	var cache map[string]string
	return func(actor string) string {
		if cache == nil {
			cache = s.loadPartnerNames(r, p)
		}
		if n, ok := cache[actor]; ok {
			return n
		}
		return actorHost(actor)
	}
}

func (s *Server) loadPartnerNames(r *http.Request, p *pageData) map[string]string {
	out := map[string]string{}
	if s.Network == nil {
		return out
	}
	s.Network.PartnerServices(r.Context(), func(ps *directory.PartnerService) error {
		if n := nameIn(p, ps.ProviderNames, ps.Provider); n != "" {
			out[ps.Actor] = n
		}
		return nil
	})
	if rels, err := s.Network.Relations(r.Context()); err == nil {
		for _, rel := range rels {
			if n := nameIn(p, rel.Names, rel.Name); n != "" {
				out[rel.Actor] = n
			}
		}
	}
	return out
}

// nameIn is a name in the page's language when given in it, else its
// plain form.
func nameIn(p *pageData, names directory.Text, plain string) string {
	if v := names[p.Lang]; v != "" {
		return v
	}
	if plain != "" {
		return plain
	}
	return p.Local(names).Text
}

// associationName is this node's association's name in its own first
// language: it gives the initials of the referrals' short references,
// the same whatever the worker's language.
func (s *Server) associationName(r *http.Request) string {
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return ""
	}
	return o.Name.In(o.Name.Primary())
}

// serviceNames returns a lookup of service names by URI, local or
// replicated, in the page's language.
func (s *Server) serviceNames(r *http.Request, p *pageData) func(uri string) string {
	cache := map[string]string{}
	return func(uri string) string {
		if n, ok := cache[uri]; ok {
			return n
		}
		name := uri
		if id, ok := strings.CutPrefix(uri, s.BaseURL+"/services/"); ok {
			if sv, err := s.Catalog.Service(r.Context(), id); err == nil {
				name = sv.Name.In(p.Lang)
			}
		} else if s.Network != nil {
			if ps, err := s.Network.PartnerService(r.Context(), uri); err == nil {
				name = ps.Service.Name.In(p.Lang)
			}
		}
		cache[uri] = name
		return name
	}
}

func actorHost(actor string) string {
	if u, err := url.Parse(actor); err == nil && u.Host != "" {
		return u.Host
	}
	return actor
}

func brussels() *time.Location {
	if loc, err := time.LoadLocation("Europe/Brussels"); err == nil {
		return loc
	}
	return time.UTC
}

type timelineEntry struct {
	At     string
	What   string
	Reason string
	Note   string // this node's worker's note on the step (addOutcomes)
}

type transitionButton struct {
	To      string
	Label   string
	Reasons []reasonOption // empty: no reason needed
	Suggest bool           // a service may be suggested (referred elsewhere)
}

type reasonOption struct {
	Code, Label string
}

type referralPage struct {
	Handle        string
	Reference     string
	Service       string
	Partner       string
	Sent          bool
	State         string
	Terminal      bool
	Method        string
	Categories    []string
	Given         string
	Expires       string
	Timeline      []timelineEntry
	Buttons       []transitionButton
	CanOpen       bool
	Resident      []residentValue
	Erased        string
	PartnerErased string
	CanWithdraw   bool
	Confirm       bool
	CanErase      bool // an admin may erase a closed referral's data now
	ConfirmErase  bool
	// Outcomes (outcome.go): the suggested service, the services that
	// may be suggested, the longest note.
	Suggestion     *suggestionView
	SuggestChoices []suggestionChoice
	NoteMax        int
	// Documents and Thread are the referral's files and the messages
	// between the two workers (attachments.go, thread.go).
	Documents *docsView
	Thread    *threadView
}

type residentValue struct {
	Label string
	Value string
}

// referralPageData builds a referral's page; resident, when set, is shown.
func (s *Server) referralPageData(r *http.Request, p *pageData, ref *referral.Referral, resident referral.Resident) referralPage {
	loc := brussels()
	names, partners := s.serviceNames(r, p), s.partnerNames(r, p)
	d := referralPage{Handle: referral.Handle(ref.ID), Reference: ref.Reference(), Service: names(ref.Service), Sent: ref.Side == referral.Sender,
		State: p.T("state " + string(ref.State)), Terminal: ref.State.Terminal(), Method: p.T(string(ref.Consent.Method)),
		Given: p.DateTime(ref.Consent.GivenAt.In(loc)), Expires: p.Date(ref.Consent.ExpiresAt.In(loc)), CanOpen: ref.Sealed != nil}
	d.Partner = partners(ref.Recipient)
	if !d.Sent {
		d.Partner = partners(ref.Sender)
	}
	for _, c := range ref.Consent.Categories {
		d.Categories = append(d.Categories, p.T(string(c)))
	}
	for _, e := range ref.History {
		te := timelineEntry{At: p.DateTime(e.At.In(loc)), What: p.T("state " + string(e.To))}
		if e.Reason != "" {
			te.Reason = p.T("reason " + e.Reason)
		}
		d.Timeline = append(d.Timeline, te)
	}
	side := referral.Recipient
	if d.Sent {
		side = referral.Sender
	}
	for _, to := range referral.Next(ref.State, side) {
		if to == referral.Cancelled {
			continue // by withdrawing consent, below
		}
		b := transitionButton{To: string(to), Label: p.T("move to " + string(to))}
		var codes []string
		switch to {
		case referral.Rejected:
			codes = referral.RejectReasons
		case referral.Completed, referral.Failed:
			codes = referral.Outcomes[to]
		}
		for _, c := range codes {
			b.Reasons = append(b.Reasons, reasonOption{Code: c, Label: p.T("reason " + c)})
		}
		d.Buttons = append(d.Buttons, b)
	}
	d.CanWithdraw = d.Sent && ref.Erasure == nil
	d.CanErase = p.User != nil && p.User.Role == account.RoleAdmin && ref.State.Terminal() && ref.Erasure == nil
	if ref.Erasure != nil {
		d.Erased = p.T("erased on", p.DateTime(ref.Erasure.At.In(loc)))
	}
	if ref.RemoteErasure != nil {
		d.PartnerErased = p.T("partner erased on", p.DateTime(ref.RemoteErasure.At.In(loc)))
	} else if d.Sent && ref.Erasure != nil {
		d.PartnerErased = p.T("partner erasure pending")
	}
	for _, f := range residentForm {
		v, ok := resident[f.Name]
		if !ok {
			continue
		}
		rv := residentValue{Label: p.T("field " + f.Name)}
		switch v := v.(type) {
		case []string:
			rv.Value = strings.Join(v, ", ")
		case []any:
			var parts []string
			for _, x := range v {
				if s, ok := x.(string); ok {
					parts = append(parts, s)
				}
			}
			rv.Value = strings.Join(parts, ", ")
		case string:
			rv.Value = v
		}
		d.Resident = append(d.Resident, rv)
	}
	return d
}

// onReferral serves a worker's page about the referral in the path.
func (s *Server) onReferral(h func(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error)) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
		if needLogin(w, r, p) {
			return "", 0, nil
		}
		ref, err := s.referralAt(r)
		if err != nil {
			return "", 0, err
		}
		p.Nav = "referrals"
		return h(w, r, p, ref)
	}
}

// showReferral renders a referral's page, with its data when given.
func (s *Server) showReferral(r *http.Request, p *pageData, ref *referral.Referral, resident referral.Resident, code int) (string, int, error) {
	d := s.referralPageData(r, p, ref, resident)
	s.addOutcomes(r, p, ref, &d)
	if err := s.addParts(r, p, ref, &d); err != nil { // attachments.go, thread.go
		return "", 0, err
	}
	d.Confirm = r.URL.Query().Get("confirm") == "withdraw" && d.CanWithdraw
	d.ConfirmErase = r.URL.Query().Get("confirm") == "erase" && d.CanErase
	p.Title, p.Data = p.T("referral title"), d
	return "referral", code, nil
}

func backToReferral(w http.ResponseWriter, r *http.Request, ref *referral.Referral) (string, int, error) {
	http.Redirect(w, r, "/referrals/"+url.PathEscape(referral.Handle(ref.ID)), http.StatusSeeOther)
	return "", 0, nil
}

// referralPage shows one referral: its timeline and what can be done.
func (s *Server) referralPage(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	return s.showReferral(r, p, ref, nil, http.StatusOK)
}

// openResident shows the resident's data, on demand; the opening is in
// the audit log.
func (s *Server) openResident(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	resident, err := s.Referrals.OpenReferral(r.Context(), ref.ID, p.User.ID)
	if err != nil {
		return "", 0, err
	}
	return s.showReferral(r, p, ref, resident, http.StatusOK)
}

// moveReferral applies a transition chosen with a button, with its note
// and suggestion (outcome.go).
func (s *Server) moveReferral(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	return s.moveWithOutcome(w, r, p, ref)
}

// eraseNow erases a closed referral's data before its retention delay
// (admins: a resident's request for erasure).
func (s *Server) eraseNow(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	if _, err := s.Referrals.EraseReferral(r.Context(), ref.ID, p.User.ID); err != nil {
		return "", 0, err
	}
	return backToReferral(w, r, ref)
}

// withdrawConsent withdraws the resident's consent: the referral is
// cancelled and its data erased here and at the partner.
func (s *Server) withdrawConsent(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	if _, err := s.Referrals.WithdrawReferral(r.Context(), ref.ID, p.User.ID); err != nil {
		return "", 0, err
	}
	return backToReferral(w, r, ref)
}
