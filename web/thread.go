package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/account"
)

// The thread of a referral on its page and in the API: short messages
// between the workers of the two nodes while the referral is open. The
// page opens them for the worker who looks (in the audit log, like the
// resident's data) and says, beside the form, that a message carries
// nothing the resident did not consent to share.

type threadView struct {
	Entries  []threadItem
	CanWrite bool
	Closed   bool // the referral is closed: no more messages
	Text     string
	Max      int
	Problems []string
}

type threadItem struct {
	Who   string
	At    string
	Lines []string
	Mine  bool
}

func (s *Server) threadView(r *http.Request, p *pageData, ref *referral.Referral, parts ReferralParts, form partsForm) (*threadView, error) {
	if ref.Erasure != nil {
		return nil, nil // erased with the data
	}
	entries, err := parts.Thread(r.Context(), ref.ID, p.User.ID)
	if err != nil {
		return nil, err
	}
	t := &threadView{CanWrite: referral.ThreadOpen(ref), Max: referral.MaxMessageChars, Text: form.Text, Problems: form.MsgProblems}
	t.Closed = !t.CanWrite
	if t.Closed && len(entries) == 0 && len(form.MsgProblems) == 0 {
		return nil, nil
	}
	partner := s.partnerNames(r, p)
	other := partner(ref.Recipient)
	if ref.Side == referral.Recipient {
		other = partner(ref.Sender)
	}
	loc := brussels()
	for _, e := range entries {
		it := threadItem{Who: other, At: p.DateTime(e.At.In(loc)), Lines: strings.Split(e.Text, "\n"), Mine: e.Mine}
		if e.Mine {
			it.Who = p.T("thread us", p.Node)
		}
		t.Entries = append(t.Entries, it)
	}
	return t, nil
}

// writeMessage records a message from the referral's page and sends it
// to the other node; a refused one comes back with its problem in the
// worker's language and the text as typed.
func (s *Server) writeMessage(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	parts, err := s.parts()
	if err != nil {
		return "", 0, err
	}
	text := r.PostFormValue("text")
	if _, err := parts.WriteMessage(r.Context(), ref.ID, p.User.ID, text); err != nil {
		lines, rest := formProblems(p, err)
		if rest != nil {
			return "", 0, rest
		}
		code := http.StatusBadRequest
		if errors.Is(err, referral.ErrFlood) {
			code = http.StatusTooManyRequests
		}
		if len([]rune(text)) > 4*referral.MaxMessageChars {
			text = string([]rune(text)[:4*referral.MaxMessageChars]) // shown again, bounded
		}
		r = withPartsForm(r, partsForm{MsgProblems: lines, Text: text})
		return s.showReferral(r, p, ref, nil, code)
	}
	http.Redirect(w, r, "/referrals/"+url.PathEscape(referral.Handle(ref.ID))+"#thread", http.StatusSeeOther)
	return "", 0, nil
}

// The JSON API of the thread.

type messageView struct {
	Side   referral.Side `json:"side"` // the writer's side of the referral
	Mine   bool          `json:"mine"` // written on this node
	Author string        `json:"author,omitempty"`
	At     time.Time     `json:"at"`
	Text   string        `json:"text"`
}

// apiThread opens a referral's thread for the caller (audited).
func (s *Server) apiThread(w http.ResponseWriter, r *http.Request, u *account.User) error {
	parts, err := s.parts()
	if err != nil {
		return err
	}
	ref, err := s.referralAt(r)
	if err != nil {
		return err
	}
	entries, err := parts.Thread(r.Context(), ref.ID, u.ID)
	if err != nil {
		return err
	}
	out := []messageView{}
	for _, e := range entries {
		out = append(out, messageView{Side: e.Side, Mine: e.Mine, Author: e.Author, At: e.At, Text: e.Text})
	}
	writeJSON(w, http.StatusOK, map[string]any{"open": referral.ThreadOpen(ref), "messages": out})
	return nil
}

type messageRequest struct {
	Text string `json:"text"`
}

// apiWriteMessage writes a message on a referral's thread: 429 beyond
// the rate, 409 once the referral is closed.
func (s *Server) apiWriteMessage(w http.ResponseWriter, r *http.Request, u *account.User) error {
	parts, err := s.parts()
	if err != nil {
		return err
	}
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	var req messageRequest
	if p := directory.DecodeStrict(body, &req); len(p) > 0 {
		return p
	}
	ref, err := s.referralAt(r)
	if err != nil {
		return err
	}
	if _, err := parts.WriteMessage(r.Context(), ref.ID, u.ID, req.Text); err != nil {
		pr, _ := directory.AsProblems(err)
		code, msg := 0, ""
		switch {
		case errors.Is(err, referral.ErrFlood):
			code, msg = http.StatusTooManyRequests, "too many messages: wait a little"
			w.Header().Set("Retry-After", "60")
		case len(pr) == 1 && pr[0].Code == referral.CodeThreadClosed:
			code, msg = http.StatusConflict, "the referral is closed: its thread takes no more messages"
		default:
			return err
		}
		writeJSON(w, code, apiError{Error: msg, Problems: pr, Code: errorCode(code, true)})
		return nil
	}
	writeJSON(w, http.StatusCreated, map[string]any{"written": true})
	return nil
}
