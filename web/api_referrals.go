package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/account"
)

// Referrals is the referral side the API drives (cmd/maillage/node).
type Referrals interface {
	Refer(ctx context.Context, service string, req referral.Request) (*referral.Referral, error)
	ReferralByHandle(ctx context.Context, handle string) (*referral.Referral, error)
	OpenReferral(ctx context.Context, id, worker string) (referral.Resident, error)
	MoveReferral(ctx context.Context, id string, to referral.State, reason, worker string) (*referral.Referral, error)
	WithdrawReferral(ctx context.Context, id, worker string) (*referral.Referral, error)
	EraseReferral(ctx context.Context, id, who string) (*referral.Referral, error)
	ForEachReferral(ctx context.Context, fn func(*referral.Referral) error) error
	ForEachAudit(ctx context.Context, fn func(*referral.AuditEntry) error) error
	DueReferrals(ctx context.Context) (referral.Due, error)
}

type referralView struct {
	ID            string                  `json:"id"`        // this node's handle
	Reference     string                  `json:"reference"` // the short one people read out
	URI           string                  `json:"uri"`       // the referral's ActivityPub id
	Box           string                  `json:"box"`       // sent or received
	Sender        string                  `json:"sender"`
	Recipient     string                  `json:"recipient"`
	Service       string                  `json:"service"`
	State         referral.State          `json:"state"`
	Reason        string                  `json:"reason,omitempty"`
	Consent       referral.ConsentSummary `json:"consent"`
	History       []referral.Event        `json:"history"`
	Erasure       *referral.Erasure       `json:"erasure,omitempty"`
	RemoteErasure *referral.Erasure       `json:"remote_erasure,omitempty"`
	Suggestion    *referral.Suggestion    `json:"suggestion,omitempty"`
	Created       time.Time               `json:"created"`
	Updated       time.Time               `json:"updated"`
	Resident      referral.Resident       `json:"resident,omitempty"`
	// Documents lists the referral's files, never their names or
	// content (GET …/documents/{id} gives one, audited).
	Documents []documentView `json:"documents"`
}

func viewReferral(r *referral.Referral) referralView {
	box := "sent"
	if r.Side == referral.Recipient {
		box = "received"
	}
	return referralView{ID: referral.Handle(r.ID), Reference: r.Reference(), URI: r.ID, Box: box, Sender: r.Sender, Recipient: r.Recipient, Service: r.Service,
		State: r.State, Reason: r.Reason, Consent: r.Consent, History: r.History, Erasure: r.Erasure, RemoteErasure: r.RemoteErasure,
		Suggestion: r.Suggestion, Created: r.Created, Updated: r.Updated, Documents: viewDocuments(r.Documents)}
}

type referralRequest struct {
	Service           string                `json:"service"`
	Resident          json.RawMessage       `json:"resident"`
	Consent           referral.ConsentInput `json:"consent"`
	SpecialCategories bool                  `json:"special_categories"`
}

func (s *Server) createReferral(w http.ResponseWriter, r *http.Request, u *account.User) error {
	if s.Referrals == nil {
		return errNotReady
	}
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	var req referralRequest
	if p := directory.DecodeStrict(body, &req); len(p) > 0 {
		return p
	}
	var p directory.Problems
	if req.Service == "" {
		p.Add("service", "is required: a partner service's id or ActivityPub id")
	}
	if len(req.Resident) == 0 {
		p.Add("resident", "is required")
	}
	if len(p) > 0 {
		return p
	}
	ref, err := s.Referrals.Refer(r.Context(), req.Service, referral.Request{Resident: req.Resident, Consent: req.Consent,
		Special: req.SpecialCategories, Worker: u.ID, Association: s.associationName(r)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": referral.Handle(ref.ID), "reference": ref.Reference(), "uri": ref.ID, "state": ref.State})
	return nil
}

func (s *Server) listReferrals(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	if s.Referrals == nil {
		return errNotReady
	}
	box, state := r.URL.Query().Get("box"), referral.State(r.URL.Query().Get("state"))
	var p directory.Problems
	if box != "" && box != "sent" && box != "received" {
		p.Add("box", "must be sent or received")
	}
	if state != "" && !state.Valid() {
		p.Add("state", "is not a referral state")
	}
	if len(p) > 0 {
		return p
	}
	out := []referralView{}
	counts := map[string]map[referral.State]int{"sent": {}, "received": {}}
	err := s.Referrals.ForEachReferral(r.Context(), func(ref *referral.Referral) error {
		v := viewReferral(ref)
		counts[v.Box][v.State]++
		if (box == "" || v.Box == box) && (state == "" || v.State == state) {
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(out), "referrals": out, "counts": counts})
	return nil
}

// getReferral shows a referral with the resident's data, opened for this
// worker and recorded in the audit log; once erased, without it.
func (s *Server) getReferral(w http.ResponseWriter, r *http.Request, u *account.User) error {
	ref, err := s.referralAt(r)
	if err != nil {
		return err
	}
	v := viewReferral(ref)
	if ref.Sealed != nil {
		if v.Resident, err = s.Referrals.OpenReferral(r.Context(), ref.ID, u.ID); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

type transitionRequest struct {
	To     referral.State `json:"to"`
	Reason string         `json:"reason"`
	// Note stays on this node; Suggestion (a service's address, that
	// this node knows) goes with referred-elsewhere, from the recipient.
	Note       string `json:"note"`
	Suggestion string `json:"suggestion"`
}

func (s *Server) transitionReferral(w http.ResponseWriter, r *http.Request, u *account.User) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	var req transitionRequest
	if p := directory.DecodeStrict(body, &req); len(p) > 0 {
		return p
	}
	ref, err := s.referralAt(r)
	if err != nil {
		return err
	}
	if ref, err = s.moveFromAPI(r, ref, req, u.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewReferral(ref))
	return nil
}

func (s *Server) withdrawReferral(w http.ResponseWriter, r *http.Request, u *account.User) error {
	ref, err := s.referralAt(r)
	if err != nil {
		return err
	}
	if ref, err = s.Referrals.WithdrawReferral(r.Context(), ref.ID, u.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewReferral(ref))
	return nil
}

// eraseReferral erases a closed referral's data now (admins: a
// resident's request for erasure).
func (s *Server) eraseReferral(w http.ResponseWriter, r *http.Request, u *account.User) error {
	ref, err := s.referralAt(r)
	if err != nil {
		return err
	}
	if ref, err = s.Referrals.EraseReferral(r.Context(), ref.ID, u.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewReferral(ref))
	return nil
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	if s.Referrals == nil {
		return errNotReady
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		var p directory.Problems
		p.Add("format", "must be json or csv")
		return p
	}
	out := []referral.AuditEntry{}
	err := s.Referrals.ForEachAudit(r.Context(), func(e *referral.AuditEntry) error {
		out = append(out, *e)
		return nil
	})
	if err != nil {
		return err
	}
	if format == "csv" {
		// The export for archives and inspections: one line per entry.
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="maillage-audit.csv"`)
		cw := csv.NewWriter(w)
		cw.Write([]string{"at", "who", "action", "referral", "detail"})
		for _, e := range out {
			cw.Write([]string{e.At.UTC().Format(time.RFC3339Nano), e.Who, e.Action, e.Referral, e.Detail})
		}
		cw.Flush()
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(out), "entries": out})
	return nil
}

// dueReferrals shows the admin what the retention rules ask for now:
// referrals to expire and referrals whose data is to be erased.
func (s *Server) dueReferrals(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	if s.Referrals == nil {
		return errNotReady
	}
	d, err := s.Referrals.DueReferrals(r.Context())
	if err != nil {
		return err
	}
	handles := func(ids []string) []string {
		out := []string{}
		for _, id := range ids {
			out = append(out, referral.Handle(id))
		}
		return out
	}
	writeJSON(w, http.StatusOK, map[string]any{"expire": handles(d.Expire), "erase": handles(d.Erase)})
	return nil
}

type receiptData struct {
	Reference, Handle, Sender, Recipient, Service string
	Categories                                    []string // message keys, in the resident's words
	Method                                        string
	Given, Until, Notice                          string
	Withdrawn                                     bool
	Contact                                       receiptContact
	// Mail is the offer to e-mail the receipt to the resident, in the
	// worker's language (the receipt is in the resident's).
	Mail receiptMail
}

// receiptMail is the receipt page's section for the worker: the offer to
// e-mail the receipt, and what the last attempt did.
type receiptMail struct {
	Lang                directory.Lang
	Offer               bool
	Title, Help, Button string
	Outcome             string
}

// receiptMailTexts writes the section in l: the offer when it can be
// made (and was not just taken up), the outcome of the last attempt
// (sent, none: no address given, anything else: not possible).
func receiptMailTexts(l directory.Lang, can bool, mailed string) receiptMail {
	m := receiptMail{Lang: l, Offer: can && mailed != "sent", Title: translate(l, "receipt mail title"),
		Help: translate(l, "receipt mail help"), Button: translate(l, "receipt mail button")}
	switch mailed {
	case "":
	case "sent", "none":
		m.Outcome = translate(l, "receipt mail "+mailed)
	default:
		m.Outcome = translate(l, "receipt mail unavailable")
	}
	return m
}

// receiptContact is how the resident reaches the association that
// collected their consent, to withdraw it.
type receiptContact struct {
	Phone, Email, Address, Website string
}

// lines are the contact's parts that are given, labelled in l, for the
// PDF.
func (c receiptContact) lines(l directory.Lang) []string {
	var out []string
	for _, f := range []struct{ key, v string }{{"receipt phone", c.Phone}, {"receipt email", c.Email}, {"receipt address", c.Address}, {"receipt website", c.Website}} {
		if f.v != "" {
			out = append(out, translate(l, "receipt contact line", translate(l, f.key), f.v))
		}
	}
	return out
}

// receipt is the printable consent receipt of a referral sent from this
// node, in the resident's language (the notice's, or ?lang=fr|nl|en):
// what is shared, with whom, why, until when, how to withdraw and whom to
// call. It holds no personal data: the reference links it to the
// referral.
func (s *Server) receipt(w http.ResponseWriter, r *http.Request, u *account.User) error {
	ref, err := s.referralAt(r)
	if err != nil {
		return err
	}
	if ref.Side != referral.Sender {
		return directory.ErrNotFound // receipts are given where consent was collected
	}
	p := newPageData(r, s.Now())
	worker := p.Lang // the worker's language, for what the resident does not read
	if l, ok := directory.ParseLang(ref.Consent.NoticeLang); ok && r.URL.Query().Get("lang") == "" {
		p.Lang = l
	}
	p.User = u
	d := s.receiptData(r, p, ref)
	d.Mail = receiptMailTexts(worker, s.canMailReceipt(ref), r.URL.Query().Get("mailed"))
	switch r.URL.Query().Get("format") {
	case "", "html":
		p.CSRF = s.csrfToken(w, r)
		p.Title, p.Data, p.Nav = p.T("receipt title"), d, "referrals"
		return s.pages.render(w, r, "receipt", http.StatusOK, *p, "")
	case "pdf":
		return receiptPDF(w, p.Lang, d)
	default:
		var pr directory.Problems
		pr.Rule("format", directory.CodeChoice, "must be html or pdf")
		return pr
	}
}

// receiptData gathers what the receipt says, in p's language.
func (s *Server) receiptData(r *http.Request, p *pageData, ref *referral.Referral) receiptData {
	loc := brussels()
	d := receiptData{Reference: ref.Reference(), Handle: referral.Handle(ref.ID), Recipient: s.partnerNames(r, p)(ref.Recipient),
		Method: string(ref.Consent.Method), Given: p.Date(ref.Consent.GivenAt.In(loc)), Until: p.Date(ref.Consent.ExpiresAt.In(loc)),
		Notice: ref.Consent.NoticeVersion, Withdrawn: ref.State == referral.Cancelled && ref.Erasure != nil}
	if o, err := s.Catalog.Organization(r.Context()); err == nil {
		p.Node = o.Name.In(p.Lang)
		d.Contact = s.contactOf(r, o)
	}
	d.Sender = p.Node
	if s.Network != nil {
		if ps, err := s.Network.PartnerService(r.Context(), ref.Service); err == nil && ps.Service != nil {
			d.Service = ps.Service.Name.In(p.Lang)
		}
	}
	for _, c := range ref.Consent.Categories {
		d.Categories = append(d.Categories, "receipt cat "+string(c))
	}
	return d
}

// contactOf is the association's phone, e-mail, website and the address
// of its first place with a street.
func (s *Server) contactOf(r *http.Request, o *directory.Organization) receiptContact {
	c := receiptContact{Email: o.Email, Website: o.Website}
	if len(o.Phones) > 0 {
		c.Phone = o.Phones[0].Number
	}
	s.Catalog.ForEachLocation(r.Context(), func(l *directory.Location) error {
		if a := l.Address; c.Address == "" && a.Street != "" {
			c.Address = strings.TrimSpace(a.Street + ", " + strings.TrimSpace(a.Postcode+" "+a.City))
		}
		return nil
	})
	return c
}

// receiptPDF writes the receipt as a one-page PDF, in the same words as
// the page. The text is Latin (FR/NL/EN), which the PDF core fonts cover
// through Windows-1252.
func receiptPDF(w http.ResponseWriter, l directory.Lang, d receiptData) error {
	b, err := receiptPDFBytes(l, d)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="receipt-`+d.Reference+`.pdf"`)
	_, err = w.Write(b)
	return err
}

// receiptPDFBytes writes the receipt as a PDF document.
func receiptPDFBytes(l directory.Lang, d receiptData) ([]byte, error) {
	t := func(key string) string { return translate(l, key) }
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle(t("receipt title"), true)
	pdf.SetCreator("Maillage", true)
	pdf.SetCompression(false) // a few kilobytes; searchable with any tool
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 18)
	pdf.MultiCell(0, 9, tr(t("receipt title")), "", "L", false)
	pdf.SetFont("Helvetica", "", 11)
	pdf.MultiCell(0, 6, tr(t("receipt intro")), "", "L", false)
	pdf.Ln(3)
	row := func(label, value string) {
		pdf.SetFont("Helvetica", "B", 11)
		pdf.MultiCell(0, 6, tr(label), "", "L", false)
		pdf.SetFont("Helvetica", "", 11)
		pdf.MultiCell(0, 6, tr(value), "", "L", false)
		pdf.Ln(1)
	}
	row(t("receipt reference"), d.Reference)
	with := d.Recipient
	if d.Service != "" {
		with += " — " + d.Service
	}
	row(t("receipt shared with"), with)
	row(t("receipt purpose"), t("receipt purpose text"))
	var what []string
	for _, c := range d.Categories {
		what = append(what, "• "+t(c))
	}
	row(t("receipt what"), strings.Join(what, "\n"))
	row(t("receipt given"), d.Given+" ("+t(d.Method)+")")
	row(t("receipt until"), d.Until)
	row(t("receipt notice"), d.Notice)
	pdf.SetFont("Helvetica", "B", 13)
	pdf.MultiCell(0, 8, tr(t("receipt withdraw title")), "", "L", false)
	pdf.SetFont("Helvetica", "", 11)
	pdf.MultiCell(0, 6, tr(translate(l, "receipt withdraw how", d.Sender, d.Reference)), "", "L", false)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.MultiCell(0, 6, tr(d.Sender), "", "L", false)
	pdf.SetFont("Helvetica", "", 11)
	for _, line := range d.Contact.lines(l) {
		pdf.MultiCell(0, 6, tr(line), "", "L", false)
	}
	if d.Withdrawn {
		pdf.Ln(2)
		pdf.SetFont("Helvetica", "B", 11)
		pdf.MultiCell(0, 6, tr(t("receipt withdrawn")), "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// referralAt returns the referral the request's {id} names.
func (s *Server) referralAt(r *http.Request) (*referral.Referral, error) {
	if s.Referrals == nil {
		return nil, errNotReady
	}
	return s.Referrals.ReferralByHandle(r.Context(), pathVar(r, "id"))
}
