package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// What a worker gives with a step of a referral besides its reason: a
// note that stays on this node, and, at the recipient referring the
// person elsewhere, a service suggested instead. At the sender, the
// suggestion is shown with a button that starts a new referral to it,
// with a new consent: nothing of the first referral goes there.

// OutcomeMover applies a step with its note and suggestion, and opens
// the notes (the node does).
type OutcomeMover interface {
	MoveReferralWith(ctx context.Context, id string, to referral.State, o referral.Outcome, worker string) (*referral.Referral, error)
	ReferralNotes(r *referral.Referral) map[int]string
}

// suggestionView is a suggested service as a referral's page shows it.
type suggestionView struct {
	Name, Provider string
	// ReferURL starts a new referral to it ("" when this node cannot:
	// not a partner's service, or it takes no referrals).
	ReferURL string
}

// suggestionChoice is a service the recipient may suggest.
type suggestionChoice struct {
	URI, Label string
}

// maxSuggestionChoices bounds the list of services offered to suggest.
const maxSuggestionChoices = 300

// suggestionChoices lists the services this node knows that take
// referrals, its own and its partners', the referral's own left out:
// what a recipient may suggest instead.
func (s *Server) suggestionChoices(ctx context.Context, p *pageData, ref *referral.Referral) []suggestionChoice {
	var out []suggestionChoice
	own := s.orgName(ctx, p.Lang)
	s.Catalog.ForEachService(ctx, func(sv *directory.Service) error {
		uri := s.BaseURL + "/services/" + sv.ID
		if sv.AcceptsReferrals() && sv.Status == directory.StatusActive && uri != ref.Service {
			out = append(out, suggestionChoice{URI: uri, Label: sv.Name.In(p.Lang) + " — " + own})
		}
		return nil
	})
	if s.Network != nil {
		s.Network.PartnerServices(ctx, func(ps *directory.PartnerService) error {
			if ps.Service != nil && ps.Service.AcceptsReferrals() && ps.URI != ref.Service {
				out = append(out, suggestionChoice{URI: ps.URI, Label: ps.Service.Name.In(p.Lang) + " — " + nameIn(p, ps.ProviderNames, ps.Provider)})
			}
			return nil
		})
	}
	slices.SortFunc(out, func(a, b suggestionChoice) int {
		return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label))
	})
	return out[:min(len(out), maxSuggestionChoices)]
}

// suggestionOf builds what travels of a service this node knows.
func (s *Server) suggestionOf(ctx context.Context, uri string) (*referral.Suggestion, bool) {
	if id, ok := strings.CutPrefix(uri, s.BaseURL+"/services/"); ok {
		sv, err := s.Catalog.Service(ctx, id)
		if err != nil {
			return nil, false
		}
		o, err := s.Catalog.Organization(ctx)
		provider := ""
		if err == nil {
			provider = o.Name.In(directory.FR)
		}
		return &referral.Suggestion{Service: uri, Name: sv.Name, Provider: provider}, true
	}
	if s.Network == nil || len(uri) > 2048 {
		return nil, false
	}
	ps, err := s.Network.PartnerService(ctx, uri)
	if err != nil || ps.Service == nil {
		return nil, false
	}
	return &referral.Suggestion{Service: ps.URI, Name: ps.Service.Name, Provider: ps.Provider}, true
}

// outcomeFromForm reads the reason, the note and the suggestion of a
// step's form.
func (s *Server) outcomeFromForm(r *http.Request, ref *referral.Referral) (referral.Outcome, error) {
	o := referral.Outcome{Reason: r.PostFormValue("reason"), Note: r.PostFormValue("note")}
	if uri := strings.TrimSpace(r.PostFormValue("suggestion")); uri != "" && o.Reason == referral.ReferredElsewhere && ref.Side == referral.Recipient {
		g, ok := s.suggestionOf(r.Context(), uri)
		if !ok {
			return o, errUnknownSuggestion
		}
		o.Suggestion = g
	}
	return o, nil
}

var errUnknownSuggestion = errors.New("web: the suggested service is not known here")

// addOutcomes puts on a referral's page the notes of this node's
// workers, the service suggested instead, and what the step forms offer.
func (s *Server) addOutcomes(r *http.Request, p *pageData, ref *referral.Referral, d *referralPage) {
	m, ok := s.Referrals.(OutcomeMover)
	if !ok {
		return
	}
	for step, text := range m.ReferralNotes(ref) {
		if step >= 1 && step <= len(d.Timeline) {
			d.Timeline[step-1].Note = text
		}
	}
	d.NoteMax = referral.MaxNoteLen
	if ref.Side == referral.Recipient {
		for i, b := range d.Buttons {
			for _, c := range b.Reasons {
				if c.Code == referral.ReferredElsewhere {
					d.Buttons[i].Suggest = true
				}
			}
		}
		if slices.ContainsFunc(d.Buttons, func(b transitionButton) bool { return b.Suggest }) {
			d.SuggestChoices = s.suggestionChoices(r.Context(), p, ref)
		}
	}
	if g := ref.Suggestion; g != nil {
		v := &suggestionView{Name: nameIn(p, g.Name, ""), Provider: g.Provider}
		if ref.Side == referral.Sender && s.Network != nil {
			if ps, err := s.Network.PartnerService(r.Context(), g.Service); err == nil && ps.Service != nil && ps.Service.AcceptsReferrals() {
				v.ReferURL = "/refer?service=" + url.QueryEscape(ps.URI)
				v.Provider = nameIn(p, ps.ProviderNames, ps.Provider)
			}
		}
		d.Suggestion = v
	}
}

// moveWithOutcome applies a step chosen on a referral's page, with its
// note and suggestion; a refusal comes back on the page with what to do.
func (s *Server) moveWithOutcome(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	to := referral.State(r.PostFormValue("to"))
	m, ok := s.Referrals.(OutcomeMover)
	if !ok {
		return "", 0, errNotReady
	}
	o, err := s.outcomeFromForm(r, ref)
	if err == nil {
		_, err = m.MoveReferralWith(r.Context(), ref.ID, to, o, p.User.ID)
	}
	switch {
	case err == nil:
		return backToReferral(w, r, ref)
	case errors.Is(err, errUnknownSuggestion):
		p.Error = p.T("suggestion unknown")
	case errors.Is(err, referral.ErrOutcome):
		p.Error = p.T("note too long", referral.MaxNoteLen)
	case errors.Is(err, referral.ErrTransition):
		p.Error = p.T("transition refused")
		return s.showReferral(r, p, ref, nil, http.StatusConflict)
	default:
		return "", 0, err
	}
	return s.showReferral(r, p, ref, nil, http.StatusBadRequest)
}

// moveFromAPI applies a step asked through the API, with its note and
// suggestion.
func (s *Server) moveFromAPI(r *http.Request, ref *referral.Referral, req transitionRequest, worker string) (*referral.Referral, error) {
	m, ok := s.Referrals.(OutcomeMover)
	if !ok {
		if req.Note != "" || req.Suggestion != "" {
			return nil, errNotReady
		}
		return s.Referrals.MoveReferral(r.Context(), ref.ID, req.To, req.Reason, worker)
	}
	o := referral.Outcome{Reason: req.Reason, Note: req.Note}
	if req.Suggestion != "" {
		g, ok := s.suggestionOf(r.Context(), req.Suggestion)
		if !ok {
			var p directory.Problems
			p.Add("suggestion", "is no service of this node or of its partners")
			return nil, p
		}
		o.Suggestion = g
	}
	return m.MoveReferralWith(r.Context(), ref.ID, req.To, o, worker)
}
