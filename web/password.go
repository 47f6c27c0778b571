package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
	"github.com/maillage/maillage/web/notify"
)

// The pages of passwords chosen through a link sent by e-mail: "forgot
// your password" sends a reset link, the link's page sets a new password,
// and an invitation's page sets the first one. The links are single-use
// and short-lived (account/reset.go); opening one uses nothing, since
// mail scanners open links before people do.

// passwordPage is what the forgot page (password-forgot) and a link's
// page (password-reset, for a reset or an invitation) show.
type passwordPage struct {
	MailOff  bool   // the node sends no e-mail: no reset by link
	Sent     bool   // a reset was asked for (whether the address has an account or not)
	Invite   bool   // an invitation's page, not a reset's
	Invalid  bool   // the link cannot be used (any more)
	Token    string // the link's secret, posted back with the form
	Email    string // the account's address (of a link), or what was typed
	Name     string
	Problems []string
}

// MinLength is the shortest password accepted.
func (passwordPage) MinLength() int { return account.MinPasswordLen }

// ResetMinutes is how long a reset link is valid.
func (passwordPage) ResetMinutes() int { return int(account.ResetTTL / time.Minute) }

// forgotFloor is the least time the answer to a reset request takes, so
// that an address with an account (a token stored, a mail queued) is not
// told from one without by the time the answer takes.
const forgotFloor = 400 * time.Millisecond

func (s *Server) mailOn() bool { return s.Notifier != nil && s.Notifier.MailOn() }

func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	p.Nav, p.Title, p.Data = "login", p.T("forgot title"), &passwordPage{MailOff: !s.mailOn()}
	return "password-forgot", http.StatusOK, nil
}

// forgotPassword sends a reset link if the address has an account, and
// answers the same whether it has or not.
func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	page := &passwordPage{MailOff: !s.mailOn()}
	p.Nav, p.Title, p.Data = "login", p.T("forgot title"), page
	if page.MailOff {
		return "password-forgot", http.StatusOK, nil
	}
	defer waitUntil(r.Context(), time.Now().Add(forgotFloor))
	id, u, err := s.Accounts.StartReset(r.Context(), r.PostFormValue("email"), s.clientAddr(r))
	var te *account.ThrottledError
	switch {
	case errors.As(err, &te):
		page.Email = keptEmail(r.PostFormValue("email"))
		p.Error = retryText(p, te.RetryAfter)
		return "password-forgot", http.StatusTooManyRequests, nil
	case err != nil:
		return "password-forgot", 0, err
	}
	if u != nil {
		m := &notify.Mail{ID: "reset/" + id, Kind: notify.MailReset, User: u.ID, Token: id}
		if err := s.Notifier.QueueMail(r.Context(), m); err != nil {
			// The answer stays the same: it must not tell that the
			// address has an account.
			s.log.ErrorContext(r.Context(), "reset mail not queued", "err", err)
		}
	}
	page.Sent = true
	return "password-forgot", http.StatusOK, nil
}

// retryText says how long to wait before asking again, in minutes.
func retryText(p *pageData, d time.Duration) string {
	if m := int(math.Ceil(d.Minutes())); m > 1 {
		return p.T("forgot throttled", m)
	}
	return p.T("forgot throttled soon")
}

// waitUntil returns at t, or when ctx ends.
func waitUntil(ctx context.Context, t time.Time) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// linkKind is what differs between the reset and the invitation pages.
type linkKind struct {
	kind  account.TokenKind
	title string // message key of the page's title
	done  string // message key of what the login page says after
	use   func(a *account.Accounts, ctx context.Context, secret, password string) (*account.User, error)
}

var (
	resetLink  = linkKind{account.TokenReset, "reset title", "reset done", (*account.Accounts).CompleteReset}
	inviteLink = linkKind{account.TokenInvite, "invite title", "invite done", (*account.Accounts).AcceptInvite}
)

// page returns what a link's page shows for the link's account u, or for
// an invalid link when u is nil.
func (k linkKind) page(u *account.User, secret string) *passwordPage {
	if u == nil {
		return &passwordPage{Invite: k.kind == account.TokenInvite, Invalid: true}
	}
	return &passwordPage{Invite: k.kind == account.TokenInvite, Token: secret, Email: u.Email, Name: u.Name}
}

// linkForm shows the form of a link, if the link can still be used.
func (s *Server) linkForm(k linkKind) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
		secret := r.URL.Query().Get("t")
		p.Title = p.T(k.title)
		u, err := s.Accounts.LinkUser(r.Context(), k.kind, secret)
		if errors.Is(err, account.ErrLinkInvalid) {
			p.Data = k.page(nil, "")
			return "password-reset", http.StatusGone, nil
		}
		if err != nil {
			return "", 0, err
		}
		p.Data = k.page(u, secret)
		return "password-reset", http.StatusOK, nil
	}
}

// setPassword uses a link to set the password typed twice, then offers
// to log in with it.
func (s *Server) setPassword(k linkKind) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
		secret, password := r.PostFormValue("t"), r.PostFormValue("password")
		p.Title = p.T(k.title)
		invalid := func() (string, int, error) {
			p.Data = k.page(nil, "")
			return "password-reset", http.StatusGone, nil
		}
		u, err := s.Accounts.LinkUser(r.Context(), k.kind, secret)
		if errors.Is(err, account.ErrLinkInvalid) {
			return invalid()
		}
		if err != nil {
			return "", 0, err
		}
		page := k.page(u, secret)
		p.Data = page
		if password != r.PostFormValue("password2") {
			page.Problems = []string{p.T("password mismatch")}
			return "password-reset", http.StatusBadRequest, nil
		}
		_, err = k.use(s.Accounts, r.Context(), secret, password)
		if errors.Is(err, account.ErrLinkInvalid) {
			return invalid()
		}
		if _, ok := directory.AsProblems(err); ok { // only the password can break a rule here
			page.Problems = []string{p.T("password rules", account.MinPasswordLen)}
			return "password-reset", http.StatusBadRequest, nil
		}
		if err != nil {
			return "", 0, err
		}
		p.Nav, p.Title = "login", p.T("login")
		p.Data = loginPage{Email: u.Email, Notice: p.T(k.done)}
		return "login", http.StatusOK, nil
	}
}
