package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/maillage/maillage/web/account"
	"github.com/maillage/maillage/web/notify"
)

// The staff accounts page: list, invite by e-mail, add with a password,
// disable or enable, delete.

type userRow struct {
	ID, Email, Name, Role string
	Disabled              bool
	Pending               bool   // invited, no password chosen yet
	Invited               string // when the last invitation was sent
}

// usersPage is the accounts page: the list, and the invitation form when
// the node sends e-mail.
type usersPage struct {
	Rows   []userRow
	MailOn bool
	// Invited is the address an invitation was just sent to.
	Invited string
	// Invite is what was typed in the invitation form, shown again with
	// what is wrong with it.
	Invite   inviteForm
	Problems []string
}

type inviteForm struct{ Email, Name, Role string }

// InviteDays is how long an invitation link is valid.
func (usersPage) InviteDays() int { return int(account.InviteTTL / (24 * time.Hour)) }

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	page, err := s.usersPage(r, p)
	if err != nil {
		return "", 0, err
	}
	if e := r.URL.Query().Get("error"); e != "" {
		p.Error = p.T("user not added")
	}
	if id := r.URL.Query().Get("invited"); id != "" {
		if u, err := s.Accounts.User(r.Context(), id); err == nil {
			page.Invited = u.Email
		}
	}
	return "admin-users", http.StatusOK, nil
}

// usersPage lists the accounts into p.
func (s *Server) usersPage(r *http.Request, p *pageData) (*usersPage, error) {
	users, err := s.Accounts.Users(r.Context())
	if err != nil {
		return nil, err
	}
	page := &usersPage{MailOn: s.mailOn(), Invite: inviteForm{Role: string(account.RoleWorker)}}
	for _, u := range users {
		row := userRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: p.T("role " + string(u.Role)), Disabled: u.Disabled, Pending: u.Pending()}
		if row.Pending && !u.Invited.IsZero() {
			row.Invited = p.Date(u.Invited.In(brussels()))
		}
		page.Rows = append(page.Rows, row)
	}
	p.Title, p.Data = p.T("admin users"), page
	return page, nil
}

// inviteUser creates an account without a password and e-mails its
// invitation.
func (s *Server) inviteUser(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	page, err := s.usersPage(r, p)
	if err != nil {
		return "", 0, err
	}
	page.Invite = inviteForm{Email: keptEmail(r.PostFormValue("email")), Name: r.PostFormValue("name"), Role: r.PostFormValue("role")}
	if !page.MailOn {
		page.Problems = []string{p.T("invite mail off")}
		return "admin-users", http.StatusConflict, nil
	}
	u, id, err := s.Accounts.Invite(r.Context(), r.PostFormValue("email"), r.PostFormValue("name"), account.Role(r.PostFormValue("role")), p.User.ID)
	lines, err := formProblems(p, err)
	switch {
	case len(lines) > 0:
		page.Problems = lines
		return "admin-users", http.StatusBadRequest, nil
	case errors.Is(err, account.ErrConflict):
		page.Problems = []string{p.T("invite exists")}
		return "admin-users", http.StatusConflict, nil
	case err != nil:
		return "", 0, err
	}
	return s.sendInvite(w, r, u, id)
}

// resendInvite invites a pending account again: a new link, the old ones
// end.
func (s *Server) resendInvite(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	u, err := s.Accounts.User(r.Context(), pathVar(r, "id"))
	if err != nil {
		return "", 0, err
	}
	if !s.mailOn() || !u.Pending() || u.Disabled {
		http.Redirect(w, r, "/admin/users", http.StatusSeeOther) // nothing to resend (the page changed meanwhile)
		return "", 0, nil
	}
	u, id, err := s.Accounts.Invite(r.Context(), u.Email, u.Name, u.Role, p.User.ID)
	if err != nil {
		return "", 0, err
	}
	return s.sendInvite(w, r, u, id)
}

// sendInvite queues the invitation mail of u's token id and goes back to
// the list, which says it was sent.
func (s *Server) sendInvite(w http.ResponseWriter, r *http.Request, u *account.User, id string) (string, int, error) {
	m := &notify.Mail{ID: "invite/" + id, Kind: notify.MailInvite, User: u.ID, Token: id}
	if err := s.Notifier.QueueMail(r.Context(), m); err != nil {
		return "", 0, fmt.Errorf("queue invitation: %w", err)
	}
	http.Redirect(w, r, "/admin/users?invited="+url.QueryEscape(u.ID), http.StatusSeeOther)
	return "", 0, nil
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	_, err := s.Accounts.AddUser(r.Context(), r.PostFormValue("email"), r.PostFormValue("name"), account.Role(r.PostFormValue("role")), r.PostFormValue("password"))
	if err != nil {
		// The reason is in the words of the checks, without the password.
		s.log.InfoContext(r.Context(), "user not added", "err", err)
		http.Redirect(w, r, "/admin/users?error=1", http.StatusSeeOther)
		return "", 0, nil
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return "", 0, nil
}

func (s *Server) setUserDisabledPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	u, err := s.Accounts.User(r.Context(), pathVar(r, "id"))
	if err != nil {
		return "", 0, err
	}
	if u.ID == p.User.ID {
		return "", 0, fmt.Errorf("an admin cannot disable their own account: %w", errForbidden)
	}
	if _, err := s.Accounts.SetDisabled(r.Context(), u.Email, r.PostFormValue("disabled") == "yes"); err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return "", 0, nil
}

// deleteUserPage deletes a disabled account from the accounts page.
func (s *Server) deleteUserPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if err := s.Accounts.DeleteUser(r.Context(), pathVar(r, "id"), p.User.ID); err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return "", 0, nil
}
