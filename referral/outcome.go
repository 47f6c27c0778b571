package referral

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
)

// What goes with a transition besides its state and reason code: a note
// that stays on the node that wrote it, and, when the recipient closes a
// referral as referred elsewhere, the service it suggests instead.
//
// A suggestion is public data only (a service's address and names): the
// sender shows it, and its worker may start a new referral to that
// service, with a new consent naming the new recipient. Nothing of the
// first referral is forwarded.

// Suggestion is a service the recipient suggests instead.
type Suggestion struct {
	Service  string         `json:"service"`  // the service's ActivityPub id
	Name     directory.Text `json:"name"`     // its name, in the languages given
	Provider string         `json:"provider"` // its association's name
}

// Bounds of what goes with a transition.
const (
	MaxNoteLen           = 1000 // characters of a note
	maxSuggestionName    = 200  // characters of a suggested service's name, per language, and of its provider
	maxSuggestionAddress = 2048
)

// ErrOutcome reports a note or a suggestion that cannot be kept; its
// message names the rule, never the text.
var ErrOutcome = errors.New("referral: outcome refused")

// Clean checks a suggestion and bounds its texts: an http(s) address, a
// name in French, Dutch or English. Control characters become spaces;
// texts too long are cut at a character.
func (g *Suggestion) Clean() error {
	u, err := url.Parse(g.Service)
	if err != nil || len(g.Service) > maxSuggestionAddress || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: a suggested service needs its http(s) address", ErrOutcome)
	}
	names := directory.Text{}
	for l, v := range g.Name {
		if _, ok := directory.ParseLang(string(l)); !ok {
			continue
		}
		if v = cleanText(v, maxSuggestionName); v != "" {
			names[l] = v
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: a suggested service needs its name", ErrOutcome)
	}
	g.Name, g.Provider = names, cleanText(g.Provider, maxSuggestionName)
	return nil
}

// cleanText turns control characters into spaces, trims, and cuts to max
// characters.
func cleanText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = strings.TrimSpace(string([]rune(s)[:max]))
	}
	return s
}

// Note is a worker's note on a step of a referral. It stays on the node
// that wrote it, sealed to that node's own key (it may name the
// resident), and is erased with the referral's data.
type Note struct {
	Step   int    `json:"step"` // the length of the history when written: the step it goes with
	By     string `json:"by"`   // the worker
	Sealed Sealed `json:"sealed"`
}

// Outcome is what a worker gives with a transition.
type Outcome struct {
	Reason     string
	Note       string
	Suggestion *Suggestion // only with ReferredElsewhere, by the recipient
}

// check validates an outcome for a transition to to, made on side.
func (o *Outcome) check(to State, side Side) error {
	if err := CheckReason(to, o.Reason); err != nil {
		return err
	}
	o.Note = strings.TrimSpace(o.Note)
	if utf8.RuneCountInString(o.Note) > MaxNoteLen || !utf8.ValidString(o.Note) {
		return fmt.Errorf("%w: a note is at most %d characters", ErrOutcome, MaxNoteLen)
	}
	if o.Suggestion == nil {
		return nil
	}
	if o.Reason != ReferredElsewhere || side != Recipient {
		return fmt.Errorf("%w: only the recipient suggests a service, when it refers the person elsewhere", ErrOutcome)
	}
	return o.Suggestion.Clean()
}

// noteBinding binds a note to its referral and step: it opens for
// nothing else, and nothing else opens as a note.
func noteBinding(r *Referral, step int) Binding {
	return Binding{Referral: r.ID + "#note-" + strconv.Itoa(step), Sender: r.Sender, Recipient: r.Recipient}
}

// TransitionWith moves a referral to another state as this node's side,
// with a reason code where one is needed, an optional note kept here, and
// (the recipient, referring elsewhere) an optional suggested service that
// travels to the sender with the state.
func (s *Service) TransitionWith(ctx context.Context, id string, to State, by Side, who string, o Outcome) (*Referral, error) {
	if err := CheckReason(to, o.Reason); err != nil {
		return nil, err
	}
	now := s.Now()
	return s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		if by != System && by != r.Side {
			return Writes{}, fmt.Errorf("%w: this node is the %s of this referral", ErrTransition, r.Side)
		}
		if err := o.check(to, r.Side); err != nil {
			return Writes{}, err
		}
		if err := CheckTransition(r.State, to, by); err != nil {
			return Writes{}, err
		}
		from := r.State
		r.History = append(r.History, Event{At: now, From: r.State, To: to, By: by, Reason: o.Reason})
		r.State, r.Reason, r.Updated = to, o.Reason, now
		if o.Suggestion != nil {
			r.Suggestion = o.Suggestion
		}
		action := fmt.Sprintf("%s → %s %s", from, to, o.Reason)
		if o.Note != "" {
			if r.Erasure != nil {
				return Writes{}, fmt.Errorf("%w: the referral's data was erased; a note is no longer kept", ErrOutcome)
			}
			step := len(r.History)
			sealed, err := Seal(s.Keys.Public(), noteBinding(r, step), []byte(o.Note))
			if err != nil {
				return Writes{}, err
			}
			r.Notes = append(r.Notes, Note{Step: step, By: who, Sealed: sealed})
			action += " (note)"
		}
		if by == r.Side {
			// A worker's transition is reported to the other node: the
			// recipient's every step, the sender's cancellation.
			r.owe().Status = len(r.History)
		}
		return Writes{Audit: []AuditEntry{entry(now, who, "transition", id, action)}}, nil
	})
}

// Notes opens the notes this node's workers wrote on a referral, by step
// (the length of the history when written).
func (s *Service) Notes(r *Referral) map[int]string {
	out := map[int]string{}
	for _, n := range r.Notes {
		if pt, err := s.Keys.Open(n.Sealed, noteBinding(r, n.Step)); err == nil {
			out[n.Step] = string(pt)
		}
	}
	return out
}
