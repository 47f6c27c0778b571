package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/notify"
)

// The consent receipt by e-mail: the one mail that holds anything of a
// resident (their address, and the receipt itself), sent only when they
// ask, only by the node that collected their consent, only when the
// consent covers their contact details. The queue keeps the referral's
// id alone: the address is read from the sealed data when the mail is
// sent (an opening the audit log records), so it is never stored in
// clear, and a referral erased meanwhile sends nothing.

// canMailReceipt reports whether a referral's receipt may be e-mailed.
func (s *Server) canMailReceipt(ref *referral.Referral) bool {
	return s.Notifier != nil && s.Notifier.MailOn() && ref.Side == referral.Sender && ref.Sealed != nil &&
		slices.Contains(ref.Consent.Categories, directory.DataContact)
}

// residentEmail is the address in a resident's data, if a valid one.
func residentEmail(res referral.Resident) (string, bool) {
	v, _ := res["email"].(string)
	a, err := mail.ParseAddress(strings.TrimSpace(v))
	if err != nil || strings.ContainsAny(a.Address, "\r\n") {
		return "", false
	}
	return a.Address, true
}

// mailReceipt queues the receipt for the resident, at their request.
func (s *Server) mailReceipt(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	back := func(outcome string) (string, int, error) {
		http.Redirect(w, r, s.urlFor("referral-receipt", "id", referral.Handle(ref.ID))+"?mailed="+url.QueryEscape(outcome)+"#mail", http.StatusSeeOther)
		return "", 0, nil
	}
	if !s.canMailReceipt(ref) {
		return back("unavailable")
	}
	res, err := s.Referrals.OpenReferral(r.Context(), ref.ID, p.User.ID)
	if errors.Is(err, referral.ErrErased) {
		return back("unavailable")
	}
	if err != nil {
		return "", 0, err
	}
	if _, ok := residentEmail(res); !ok {
		return back("none")
	}
	m := &notify.Mail{ID: fmt.Sprintf("receipt/%s/%d", referral.Handle(ref.ID), s.Now().UnixNano()), Kind: notify.MailReceipt,
		User: p.User.ID, Referral: ref.ID}
	if err := s.Notifier.QueueMail(r.Context(), m); err != nil {
		return "", 0, err
	}
	return back("sent")
}

// receiptMail writes the receipt for the resident, in the language of the
// notice they read, with the receipt as a PDF.
func (s *Server) receiptMail(ctx context.Context, m *notify.Mail) (*notify.Message, error) {
	ref, err := s.Referrals.ReferralByHandle(ctx, referral.Handle(m.Referral))
	if errors.Is(err, directory.ErrNotFound) {
		return nil, notify.ErrDrop
	}
	if err != nil {
		return nil, err
	}
	if ref.Side != referral.Sender || !slices.Contains(ref.Consent.Categories, directory.DataContact) {
		return nil, notify.ErrDrop // never from the partner's node
	}
	res, err := s.Referrals.OpenReferral(ctx, ref.ID, m.User)
	if errors.Is(err, referral.ErrErased) {
		return nil, notify.ErrDrop
	}
	if err != nil {
		return nil, err
	}
	to, ok := residentEmail(res)
	if !ok {
		return nil, notify.ErrDrop
	}
	l, ok := directory.ParseLang(ref.Consent.NoticeLang)
	if !ok {
		l = directory.FR
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.BaseURL+"/", nil)
	if err != nil {
		return nil, err
	}
	p := newPageData(req, s.Now())
	p.Lang = l
	d := s.receiptData(req, p, ref)
	pdf, err := receiptPDFBytes(l, d)
	if err != nil {
		return nil, err
	}
	b := &mailBody{Lang: l, Org: d.Sender, Subject: translate(l, "receipt mail subject", d.Sender, d.Reference)}
	b.Intro = []string{translate(l, "receipt mail intro", d.Sender), translate(l, "receipt withdraw how", d.Sender, d.Reference)}
	b.Notes = d.Contact.lines(l)
	b.Why = translate(l, "receipt mail why", d.Sender)
	msg := &notify.Message{ID: m.ID, To: to, Subject: oneLine(b.Subject), Text: b.text(),
		Attachments: []notify.Attachment{{Name: translate(l, "receipt mail file", d.Reference), ContentType: "application/pdf", Data: pdf}}}
	if msg.HTML, err = b.html(); err != nil {
		return nil, err
	}
	return msg, nil
}
